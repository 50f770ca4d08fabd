using System.Net.Security;

namespace WsGateway.Client;

/// <summary>Options of a <see cref="TradeClient"/>. Every value has a default; a value out of range is refused by
/// <see cref="TradeClient.ConnectAsync"/>.</summary>
public sealed class TradeClientOptions
{
    /// <summary>Extra headers of the opening handshake request, such as <c>Authorization</c> or <c>Origin</c>.
    /// Names must be HTTP tokens and values must not contain control characters; the headers the handshake itself
    /// sends (<c>Host</c>, <c>Upgrade</c>, <c>Connection</c>, <c>Sec-WebSocket-*</c>) cannot be set here.</summary>
    public IList<KeyValuePair<string, string>> RequestHeaders { get; } = [];

    /// <summary>Decides whether the server's TLS certificate is accepted (<c>wss://</c> only); the platform's
    /// default validation when <see langword="null"/>. Use it to trust a test or self-signed certificate.</summary>
    public RemoteCertificateValidationCallback? RemoteCertificateValidationCallback { get; set; }

    /// <summary>Size in bytes of the send buffer that frames are encoded into before a flush writes them to the
    /// socket in one call: with 35-byte trade frames, the default 64 KiB holds 1,872 trades. It grows when a single
    /// <c>Send*Async</c> call needs more. Minimum 256.</summary>
    public int SendBufferSize { get; set; } = 64 * 1024;

    /// <summary>Largest message accepted from the server, in bytes, after reassembly of fragments; a larger one
    /// fails the connection with close code 1009. Default 1 MiB.</summary>
    public int MaxMessageSize { get; set; } = 1024 * 1024;

    /// <summary>Time allowed for the TCP connect, the TLS handshake and the WebSocket handshake together.
    /// Default 10 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Time <see cref="TradeClient.CloseAsync"/> waits for the server's close frame, and then for the
    /// server to close the TCP connection, before dropping it. Default 5 s.</summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Test hook: supplies every masking key instead of the cryptographic generator (golden-byte tests).</summary>
    internal Func<int>? MaskKeyOverride { get; set; }

    /// <summary>Checks the options, returning the first problem found or <see langword="null"/>.</summary>
    /// <returns>A sentence naming the option, its value and what is expected, or <see langword="null"/>.</returns>
    public string? Validate()
    {
        if (SendBufferSize < 256)
        {
            return $"SendBufferSize must be at least 256 bytes, got {SendBufferSize}";
        }

        if (MaxMessageSize < 1 || MaxMessageSize > int.MaxValue / 2)
        {
            return $"MaxMessageSize must be between 1 and {int.MaxValue / 2} bytes, got {MaxMessageSize}";
        }

        if (ConnectTimeout <= TimeSpan.Zero && ConnectTimeout != Timeout.InfiniteTimeSpan)
        {
            return $"ConnectTimeout must be positive or infinite, got {ConnectTimeout}";
        }

        if (CloseTimeout <= TimeSpan.Zero && CloseTimeout != Timeout.InfiniteTimeSpan)
        {
            return $"CloseTimeout must be positive or infinite, got {CloseTimeout}";
        }

        foreach (KeyValuePair<string, string> header in RequestHeaders)
        {
            if (ClientHandshake.ValidateHeader(header.Key, header.Value) is { } problem)
            {
                return problem;
            }
        }

        return null;
    }
}
