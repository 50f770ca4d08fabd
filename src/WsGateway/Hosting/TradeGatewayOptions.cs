using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace WsGateway;

/// <summary>What the gateway does when a handler callback throws.</summary>
public enum HandlerErrorPolicy
{
    /// <summary>Report the exception to <c>OnError</c> and go on with the next message (the default).</summary>
    Continue,

    /// <summary>Report the exception to <c>OnError</c> and close the connection with 1011 (internal error).</summary>
    Close,
}

/// <summary>What the gateway does with a connection that sends messages faster than its
/// <see cref="TradeGatewayOptions.MessageRateLimit"/>.</summary>
public enum RateLimitPolicy
{
    /// <summary>Stop reading from the connection until the bucket has refilled: the client's socket buffer fills and
    /// TCP flow control slows the client down. Every message is still delivered; none is dropped.</summary>
    Throttle,

    /// <summary>Refuse the message that found the bucket empty (it is not delivered), report it to <c>OnError</c>
    /// and close the connection with 1008 (policy violation).</summary>
    Close,
}

/// <summary>
/// A token bucket over a connection's inbound data messages: <see cref="MessagesPerSecond"/> tokens a second, at
/// most <see cref="Burst"/> saved up; every message (a batch frame counts once) takes one token.
/// </summary>
public sealed class MessageRateLimit
{
    /// <summary>Creates a rate limit.</summary>
    /// <param name="messagesPerSecond">Sustained rate, messages per second (at least 0.1).</param>
    /// <param name="burst">Messages a connection may send at once after a quiet period (at least 1); a connection
    /// starts with a full bucket.</param>
    /// <param name="policy">What happens when the bucket is empty.</param>
    public MessageRateLimit(double messagesPerSecond, int burst, RateLimitPolicy policy = RateLimitPolicy.Throttle)
    {
        MessagesPerSecond = messagesPerSecond;
        Burst = burst;
        Policy = policy;
    }

    /// <summary>Sustained rate, messages per second.</summary>
    public double MessagesPerSecond { get; }

    /// <summary>Bucket size: messages accepted at once after a quiet period.</summary>
    public int Burst { get; }

    /// <summary>What happens when the bucket is empty.</summary>
    public RateLimitPolicy Policy { get; }

    /// <inheritdoc />
    public override string ToString() => $"{MessagesPerSecond:0.###} messages/s, burst {Burst}, {Policy}";
}

/// <summary>
/// The slowest rate at which an incomplete frame or message may arrive, measured over the time the gateway waits for
/// it, with at most <see cref="Window"/> of credit (the idea of Kestrel's <c>MinDataRate</c>, as a deadline).
/// </summary>
/// <remarks>
/// An incomplete frame or message has a receive deadline, counted only while the gateway is waiting for its bytes
/// (not while the handler runs, nor while receiving is paused by backpressure or throttled by
/// <see cref="TradeGatewayOptions.MessageRateLimit"/>): it begins <see cref="GracePeriod"/> away; every byte that
/// arrives moves it 1/<see cref="BytesPerSecond"/> s later, but never more than <see cref="Window"/> ahead. A client
/// whose deadline passes is closed with 1008 <c>Receive rate too low: …</c>, naming the bytes it sent in how many
/// seconds of waiting and the rate expected. So a client that keeps up with the rate is never cut (bytes sent ahead
/// of it pay for pauses of up to <see cref="Window"/>); one that stalls or trickles is closed within
/// <see cref="Window"/> of waiting (one heartbeat later at most), however much it sent before; one at a fraction f of
/// the rate within <see cref="Window"/> / (1 − f).
/// </remarks>
public sealed class MinReceiveRate
{
    private static readonly TimeSpan s_defaultWindow = TimeSpan.FromSeconds(30);

    /// <summary>Creates a minimum receive rate with a <see cref="Window"/> of 30 s (or the grace period, if longer).</summary>
    /// <param name="bytesPerSecond">Average bytes per second, at least (positive).</param>
    /// <param name="gracePeriod">Waiting allowed before the first bytes of a frame or message must have come (at least 1 s,
    /// the heartbeat's period).</param>
    public MinReceiveRate(double bytesPerSecond, TimeSpan gracePeriod)
        : this(bytesPerSecond, gracePeriod, gracePeriod > s_defaultWindow ? gracePeriod : s_defaultWindow)
    {
    }

    /// <summary>Creates a minimum receive rate.</summary>
    /// <param name="bytesPerSecond">Average bytes per second, at least (positive).</param>
    /// <param name="gracePeriod">Waiting allowed before the first bytes of a frame or message must have come (at least 1 s,
    /// the heartbeat's period).</param>
    /// <param name="window">Most waiting that bytes sent ahead of the rate can pay for (from the grace period to 1 day).</param>
    public MinReceiveRate(double bytesPerSecond, TimeSpan gracePeriod, TimeSpan window)
    {
        BytesPerSecond = bytesPerSecond;
        GracePeriod = gracePeriod;
        Window = window;
    }

    /// <summary>Average bytes per second, at least.</summary>
    public double BytesPerSecond { get; }

    /// <summary>Waiting allowed when a frame or message begins, before its bytes must keep up with the rate.</summary>
    public TimeSpan GracePeriod { get; }

    /// <summary>Most waiting that bytes sent ahead of the rate can pay for: after a fast start, a stall or a trickle is
    /// closed within this much waiting, whatever was sent before.</summary>
    public TimeSpan Window { get; }

    /// <inheritdoc />
    public override string ToString() => $"{BytesPerSecond:0.###} bytes/s after {GracePeriod.TotalSeconds:0.###} s, window {Window.TotalSeconds:0.###} s";
}

/// <summary>Which transport the standalone <see cref="WebSocketServer"/> runs on.</summary>
public enum GatewayTransport
{
    /// <summary>The native transport where it can serve (Linux, <c>ws://</c>), Kestrel otherwise.</summary>
    Auto,

    /// <summary>The gateway's own epoll event loops (Linux only, <c>ws://</c> only): one thread per loop, the handler
    /// called on the thread that read the bytes.</summary>
    Native,

    /// <summary>Kestrel's socket transport: <c>wss://</c>, every operating system.</summary>
    Kestrel,
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

    /// <summary>The standalone server's transport. Default <see cref="GatewayTransport.Auto"/>: the native event
    /// loops on Linux for <c>ws://</c>, Kestrel for <c>wss://</c> and on other systems. ASP.NET Core hosting is
    /// always Kestrel's.</summary>
    public GatewayTransport Transport { get; set; } = DefaultTransport;

    /// <summary>Event loops of the native transport; null (the default) for one per core available to the process
    /// (<see cref="Environment.ProcessorCount"/>, which honours <c>taskset</c> and container limits). Each loop is a
    /// thread that owns its connections: a slow handler delays the other connections of its loop.</summary>
    public int? EventLoops { get; set; }

    /// <summary>The default of <see cref="Transport"/> (the test suites run once per transport by setting it).</summary>
    internal static GatewayTransport DefaultTransport { get; set; } = GatewayTransport.Auto;

    /// <summary>Most connections open at once; the next handshake is answered 503. Default 10,000. The standalone server
    /// lowers it at start when the process's file descriptor limit has no room for it
    /// (<see cref="ReservedFileDescriptors"/>).</summary>
    public int MaxConnections { get; set; } = 10_000;

    /// <summary>File descriptors the standalone server keeps free for the rest of the process, beyond those open
    /// when it starts (Linux): assemblies the runtime loads on first use (two descriptors each), its threads, the
    /// admin endpoints' and the sinks' connections, and the sockets of closed connections during their lingering
    /// close. When <see cref="MaxConnections"/> plus <see cref="MaxPendingHandshakes"/> do not fit in the process's
    /// limit (<c>RLIMIT_NOFILE</c>, <c>ulimit -n</c>) less these, both are lowered at start (a warning says so) and the
    /// clients beyond them are answered 503, instead of the process running out. Default 256.</summary>
    public int ReservedFileDescriptors { get; set; } = 256;

    /// <summary>Largest handshake request (request line and headers), in bytes; a larger one is answered 431.
    /// Default 8 KiB. Standalone server only: in ASP.NET Core, Kestrel's own header limits apply.</summary>
    public int MaxHandshakeSize { get; set; } = 8 * 1024;

    /// <summary>Time a client has to complete its handshake request once connected (slowloris); then it is
    /// answered 408 and disconnected. Default 10 s. Standalone server only.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Most connections that have not finished their handshake (TLS and HTTP upgrade), counted from the TCP
    /// accept; the next one is answered 503 (<c>ws://</c>) or closed at once (<c>wss://</c>, before TLS). Default
    /// 1,000. Standalone server only: in ASP.NET Core, Kestrel's own limits apply.</summary>
    public int MaxPendingHandshakes { get; set; } = 1000;

    /// <summary>Most connections from one IP address that have not finished their handshake; the next one is refused
    /// as with <see cref="MaxPendingHandshakes"/>. Default 256 (a burst of clients behind one NAT still gets in). Standalone server only.</summary>
    public int MaxPendingHandshakesPerAddress { get; set; } = 256;

    /// <summary>Slowest a frame or fragmented message may arrive once it has begun, counting only the time the gateway
    /// waits for it: it must keep up with the rate, with at most the window's worth of credit from bytes sent early
    /// (see <see cref="WsGateway.MinReceiveRate"/>). A client that falls behind is closed with 1008 <c>Receive rate too
    /// low</c> and its TCP connection closed (counted as <c>receive_rate</c>); neither a single byte now and then nor
    /// a fast start keeps a connection and its buffers alive for long. <see langword="null"/> turns it off. Default
    /// 240 bytes/s after 5 s (as Kestrel's <c>MinRequestBodyDataRate</c>), window 30 s.</summary>
    public MinReceiveRate? MinReceiveRate { get; set; } = new(240, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30));

    /// <summary>Interval of quiet after which the gateway pings the client. <see cref="TimeSpan.Zero"/> turns
    /// keep-alive pings off. Default 30 s.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Time the client has to answer a keep-alive ping (any frame counts) before the connection is
    /// dropped. Default 30 s.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Time the client has to answer the gateway's close frame before the TCP connection is dropped.
    /// Default 5 s.</summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Most bytes waiting to be sent on one connection (replies, pongs) before the gateway treats the client
    /// as a slow consumer: the frame that would pass the bound is dropped and the connection is closed with 1008
    /// (counted as <c>send_queue</c> in <c>wsgateway.limits.exceeded</c>). A single frame larger than the bound is
    /// accepted when nothing else is waiting. Default 1 MiB.</summary>
    public int MaxSendQueueSize { get; set; } = 1024 * 1024;

    /// <summary>Time a write may wait for the client to read (TCP flow control) before the connection is dropped
    /// (counted as <c>write_timeout</c>): a client that stops reading cannot hold a connection, its buffers or a
    /// thread. Default 30 s.</summary>
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Time without any data message after which the connection is closed with 1000. <see langword="null"/>
    /// (the default) never closes an idle connection.</summary>
    public TimeSpan? IdleTimeout { get; set; }

    /// <summary>Time graceful shutdown waits for clients to answer the 1001 close and for received messages to
    /// reach their handlers, before it drops what is left. A connection whose handler callback still has not returned
    /// <see cref="CloseTimeout"/> after that is left behind (logged) so that shutdown completes. Default 10 s.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>What happens when a handler callback throws. Default <see cref="HandlerErrorPolicy.Continue"/>.</summary>
    public HandlerErrorPolicy HandlerErrorPolicy { get; set; } = HandlerErrorPolicy.Continue;

    /// <summary>Most WebSocket connections open at once from one IP address (IPv4-mapped IPv6 counts as IPv4); the
    /// next handshake from that address is answered 429. <see langword="null"/> (the default) sets no per-address
    /// limit beyond <see cref="MaxConnections"/>: behind a load balancer or NAT one address carries many clients.
    /// In ASP.NET Core the address is <c>HttpContext.Connection.RemoteIpAddress</c>, which the forwarded-headers
    /// middleware sets from a trusted proxy's <c>X-Forwarded-For</c>.</summary>
    public int? MaxConnectionsPerAddress { get; set; }

    /// <summary>Inbound message rate limit per connection, or <see langword="null"/> (the default) for none.</summary>
    public MessageRateLimit? MessageRateLimit { get; set; }

    /// <summary>Origins (<c>scheme://host[:port]</c>, compared case-insensitively) whose pages may open connections;
    /// a handshake whose <c>Origin</c> header is not listed is answered 403. Empty (the default) allows any origin. A
    /// request without an <c>Origin</c> header (a non-browser client) is not refused: the list protects against
    /// cross-site WebSocket hijacking from browsers, which always send it; authenticate to keep others out.</summary>
    public IList<string> AllowedOrigins { get; } = new List<string>();

    /// <summary>Whether a browser (a request with an <c>Origin</c> header) must have its origin in
    /// <see cref="AllowedOrigins"/> even while the list is empty: then every browser is answered 403, and clients
    /// without the header still get in. Off by default (an empty list allows any origin). A rule the admission applies
    /// itself, so it costs nothing per handshake, unlike a <see cref="ValidateHandshake"/> doing the same.</summary>
    public bool RequireListedOrigin { get; set; }

    /// <summary>Decides, before the 101, whether a connection attempt is accepted and with which identity (it then
    /// reaches handlers as <see cref="IGatewayConnection.User"/>), or refused with a 4xx and a reason. Runs on both
    /// hostings (in ASP.NET Core after the authentication and authorization middleware). Must finish within
    /// <see cref="HandshakeTimeout"/> (from the connection's start on the standalone server), otherwise the attempt
    /// is answered 503; an exception is answered 500.</summary>
    public Func<HandshakeContext, ValueTask<HandshakeResult>>? ValidateHandshake { get; set; }

    /// <summary>The server certificate (with its private key) for <c>wss://</c> on the standalone
    /// <see cref="WebSocketServer"/>; <see langword="null"/> (the default) serves plain <c>ws://</c>. In ASP.NET Core,
    /// Kestrel's own HTTPS configuration applies.</summary>
    public X509Certificate2? ServerCertificate { get; set; }

    /// <summary>Intermediate certificates sent with <see cref="ServerCertificate"/> in the TLS handshake (the rest of
    /// a <c>fullchain.pem</c>), so that clients which know only the root can build the chain; <see langword="null"/>
    /// (the default) sends what the operating system finds for it.</summary>
    public X509Certificate2Collection? ServerCertificateChain { get; set; }

    /// <summary>TLS versions allowed with <see cref="ServerCertificate"/>; <see cref="SslProtocols.None"/> (the
    /// default) lets the operating system choose (TLS 1.2 and 1.3 on current systems).</summary>
    public SslProtocols SslProtocols { get; set; } = SslProtocols.None;

    /// <summary>Whether the standalone server asks clients for a TLS certificate. Default
    /// <see cref="ClientCertificateMode.NoCertificate"/>. The certificate reaches
    /// <see cref="HandshakeContext.ClientCertificate"/>.</summary>
    public ClientCertificateMode ClientCertificateMode { get; set; } = ClientCertificateMode.NoCertificate;

    /// <summary>Checks a client certificate beyond the default chain validation; <see langword="null"/> keeps the
    /// default (a certificate that does not chain to a trusted root is refused).</summary>
    public Func<X509Certificate2, X509Chain?, SslPolicyErrors, bool>? ClientCertificateValidation { get; set; }

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

        if (EventLoops is { } loops && (loops < 1 || loops > 1024))
        {
            return $"EventLoops must be between 1 and 1024 or null (one per core), got {loops}";
        }

        if (!Enum.IsDefined(Transport))
        {
            return $"Transport must be Auto, Native or Kestrel, got {Transport}";
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

        if (MaxPendingHandshakes < 1)
        {
            return $"MaxPendingHandshakes must be at least 1, got {MaxPendingHandshakes}";
        }

        if (ReservedFileDescriptors < 16 || ReservedFileDescriptors > 1024 * 1024)
        {
            return $"ReservedFileDescriptors must be between 16 and 1048576, got {ReservedFileDescriptors}";
        }

        if (MaxPendingHandshakesPerAddress < 1)
        {
            return $"MaxPendingHandshakesPerAddress must be at least 1, got {MaxPendingHandshakesPerAddress}";
        }

        if (MinReceiveRate is { } minRate && (!(minRate.BytesPerSecond > 0) || double.IsInfinity(minRate.BytesPerSecond)
            || minRate.GracePeriod < TimeSpan.FromSeconds(1) || minRate.Window < minRate.GracePeriod || minRate.Window > TimeSpan.FromDays(1)))
        {
            return $"MinReceiveRate must have a positive BytesPerSecond, a GracePeriod of at least 1 s and a Window from the GracePeriod to 1 day, got {minRate}";
        }

        if (MaxSendQueueSize < 1024)
        {
            return $"MaxSendQueueSize must be at least 1024 bytes, got {MaxSendQueueSize}";
        }

        if (WriteTimeout <= TimeSpan.Zero)
        {
            return $"WriteTimeout must be positive, got {WriteTimeout}";
        }

        if (IdleTimeout is { } idle && idle <= TimeSpan.Zero)
        {
            return $"IdleTimeout must be positive or null (off), got {idle}";
        }

        if (MaxConnectionsPerAddress is { } perAddress && perAddress < 1)
        {
            return $"MaxConnectionsPerAddress must be at least 1 or null (no limit), got {perAddress}";
        }

        if (MessageRateLimit is { } rate && (!(rate.MessagesPerSecond >= 0.1) || double.IsInfinity(rate.MessagesPerSecond) || rate.Burst < 1 || !Enum.IsDefined(rate.Policy)))
        {
            return $"MessageRateLimit must have MessagesPerSecond of at least 0.1, Burst of at least 1 and a defined policy, got {rate}";
        }

        foreach (string origin in AllowedOrigins)
        {
            if (string.IsNullOrWhiteSpace(origin) || origin.EndsWith('/'))
            {
                return $"AllowedOrigins entries must be origins such as https://example.com (no path, no trailing '/'), got '{origin}'";
            }
        }

        if (ServerCertificate is { HasPrivateKey: false })
        {
            return "ServerCertificate must have a private key";
        }

        if (ShutdownTimeout < TimeSpan.Zero)
        {
            return $"ShutdownTimeout must not be negative, got {ShutdownTimeout}";
        }

        return null;
    }
}
