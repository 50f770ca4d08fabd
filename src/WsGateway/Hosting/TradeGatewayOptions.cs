namespace WsGateway;

/// <summary>What the gateway does when a handler callback throws.</summary>
public enum HandlerErrorPolicy
{
    /// <summary>Report the exception to <c>OnError</c> and go on with the next message (the default).</summary>
    Continue,

    /// <summary>Report the exception to <c>OnError</c> and close the connection with 1011 (internal error).</summary>
    Close,
}

/// <summary>
/// Limits and timeouts of the trade gateway. Every limit has a safe default; a value outside its range is refused
/// when the gateway starts.
/// </summary>
public sealed class TradeGatewayOptions
{
    /// <summary>Largest message (after reassembly of fragments) accepted, in bytes; a larger one closes the
    /// connection with 1009 before its payload is read. Default 1 MiB.</summary>
    public int MaxMessageSize { get; set; } = 1024 * 1024;

    /// <summary>Most connections open at once; the next handshake is answered 503. Default 10,000.</summary>
    public int MaxConnections { get; set; } = 10_000;

    /// <summary>Largest handshake request (request line and headers), in bytes; a larger one is answered 431.
    /// Default 8 KiB. Standalone server only: in ASP.NET Core, Kestrel's own header limits apply.</summary>
    public int MaxHandshakeSize { get; set; } = 8 * 1024;

    /// <summary>Time a client has to complete its handshake request once connected (slowloris); then it is
    /// answered 408 and disconnected. Default 10 s. Standalone server only.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Interval of quiet after which the gateway pings the client. <see cref="TimeSpan.Zero"/> turns
    /// keep-alive pings off. Default 30 s.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Time the client has to answer a keep-alive ping (any frame counts) before the connection is
    /// dropped. Default 30 s.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Time the client has to answer the gateway's close frame before the TCP connection is dropped.
    /// Default 5 s.</summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Time without any data message after which the connection is closed with 1000. <see langword="null"/>
    /// (the default) never closes an idle connection.</summary>
    public TimeSpan? IdleTimeout { get; set; }

    /// <summary>Time graceful shutdown waits for clients to answer the 1001 close and for received messages to
    /// reach their handlers, before it drops what is left. Default 10 s.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>What happens when a handler callback throws. Default <see cref="HandlerErrorPolicy.Continue"/>.</summary>
    public HandlerErrorPolicy HandlerErrorPolicy { get; set; } = HandlerErrorPolicy.Continue;

    /// <summary>Checks the options, returning the first problem found or <see langword="null"/>.</summary>
    /// <returns>A sentence naming the option, its value and what is expected, or <see langword="null"/>.</returns>
    public string? Validate()
    {
        if (MaxMessageSize < 8 || MaxMessageSize > int.MaxValue / 2)
        {
            return $"MaxMessageSize must be between 8 and {int.MaxValue / 2} bytes, got {MaxMessageSize}";
        }

        if (MaxConnections < 1)
        {
            return $"MaxConnections must be at least 1, got {MaxConnections}";
        }

        if (MaxHandshakeSize < 256 || MaxHandshakeSize > 1024 * 1024)
        {
            return $"MaxHandshakeSize must be between 256 and 1048576 bytes, got {MaxHandshakeSize}";
        }

        if (HandshakeTimeout <= TimeSpan.Zero)
        {
            return $"HandshakeTimeout must be positive, got {HandshakeTimeout}";
        }

        if (KeepAliveInterval < TimeSpan.Zero)
        {
            return $"KeepAliveInterval must be zero (off) or positive, got {KeepAliveInterval}";
        }

        if (KeepAliveInterval > TimeSpan.Zero && KeepAliveTimeout <= TimeSpan.Zero)
        {
            return $"KeepAliveTimeout must be positive when keep-alive is on, got {KeepAliveTimeout}";
        }

        if (CloseTimeout <= TimeSpan.Zero)
        {
            return $"CloseTimeout must be positive, got {CloseTimeout}";
        }

        if (IdleTimeout is { } idle && idle <= TimeSpan.Zero)
        {
            return $"IdleTimeout must be positive or null (off), got {idle}";
        }

        if (ShutdownTimeout < TimeSpan.Zero)
        {
            return $"ShutdownTimeout must not be negative, got {ShutdownTimeout}";
        }

        return null;
    }
}
