using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using WsGateway.Connections;
using WsGateway.Diagnostics;
using WsGateway.Hosting;
using WsGateway.Transport.Native;

namespace WsGateway;

/// <summary>
/// The standalone trade gateway: a listener whose connections speak WebSocket from their first byte, handled by the
/// gateway's own RFC 6455 implementation — on Linux over the gateway's own epoll event loops (the handler called on
/// the thread that read the bytes), elsewhere and for <c>wss://</c> over Kestrel's socket transport
/// (<see cref="TradeGatewayOptions.Transport"/>).
/// </summary>
/// <example>
/// <code>
/// await using var server = new WebSocketServer("127.0.0.1:9001", _ => new MyHandler());
/// await server.RunAsync(cancellationToken);
/// </code>
/// </example>
public sealed class WebSocketServer : IAsyncDisposable
{
    /// <summary>Most bytes Kestrel reads ahead of the handler on one connection.</summary>
    internal const int MaxReadAhead = 64 * 1024;

    private readonly string _listen;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ConnectionManager _manager;
    private WebApplication? _app;
    private NativeTransport? _native;
    private Task? _stopping;

    /// <summary>Creates a server that gives every connection the same handler instance, which must then be
    /// thread-safe (its callbacks come from many connections at once).</summary>
    /// <param name="listen">The address to listen on: <c>127.0.0.1:9001</c>, <c>[::1]:9001</c>,
    /// <c>localhost:9001</c> or <c>*:9001</c> (all interfaces); port 0 picks a free port.</param>
    /// <param name="handler">The handler for every connection.</param>
    /// <param name="options">Limits and timeouts; defaults when null.</param>
    /// <param name="loggerFactory">Where logs go; none when null.</param>
    /// <param name="timeProvider">The clock for every timeout; the system clock when null.</param>
    /// <param name="metrics">Where the gateway's counters go; the process-wide <c>WsGateway</c> meter when null.</param>
    public WebSocketServer(string listen, ITradeMessageHandler handler, TradeGatewayOptions? options = null, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null, GatewayMetrics? metrics = null)
        : this(listen, SharedHandler(handler), options, loggerFactory, timeProvider, metrics)
    {
    }

    /// <summary>Creates a server that asks <paramref name="handlerFactory"/> for one handler per connection, whose
    /// callbacks then never run concurrently.</summary>
    /// <param name="listen">The address to listen on: <c>127.0.0.1:9001</c>, <c>[::1]:9001</c>,
    /// <c>localhost:9001</c> or <c>*:9001</c> (all interfaces); port 0 picks a free port.</param>
    /// <param name="handlerFactory">Creates the handler of a new connection.</param>
    /// <param name="options">Limits and timeouts; defaults when null.</param>
    /// <param name="loggerFactory">Where logs go; none when null.</param>
    /// <param name="timeProvider">The clock for every timeout; the system clock when null.</param>
    /// <param name="metrics">Where the gateway's counters go; the process-wide <c>WsGateway</c> meter when null.</param>
    public WebSocketServer(string listen, Func<IGatewayConnection, ITradeMessageHandler> handlerFactory, TradeGatewayOptions? options = null, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null, GatewayMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(listen);
        ArgumentNullException.ThrowIfNull(handlerFactory);
        _ = ParseListen(listen); // fail here, not at start
        _listen = listen;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _manager = new ConnectionManager(options ?? new TradeGatewayOptions(), handlerFactory, timeProvider ?? TimeProvider.System, _loggerFactory, metrics);
    }

    /// <summary>The address the server listens on once started (with the real port when 0 was asked for).</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    /// <summary>The URL of the started server (with the real port when 0 was asked for): <c>wss://</c> with
    /// <see cref="TradeGatewayOptions.ServerCertificate"/>, <c>ws://</c> otherwise; what a client connects to.</summary>
    /// <exception cref="InvalidOperationException">The server is not listening (not started yet, or stopped):
    /// <see cref="LocalEndPoint"/> is null then.</exception>
    public Uri Url => LocalEndPoint is { } ep
        ? new Uri($"{(IsSecure ? "wss" : "ws")}://{FormatHost(ep)}/")
        : throw new InvalidOperationException("The server is not listening: its Url is known once StartAsync (or Start) has bound the listener");

    /// <summary>Whether the server speaks TLS (<c>wss://</c>).</summary>
    public bool IsSecure => _manager.Options.ServerCertificate is not null;

    /// <summary>WebSocket connections currently open.</summary>
    public int ConnectionCount => _manager.OpenWebSockets;

    /// <summary>Connections accepted whose handshake has not ended (tests).</summary>
    internal int PendingHandshakes => _manager.PendingHandshakes;

    /// <summary>Connections the gateway still tracks, from the accept until their slot is free (tests).</summary>
    internal int TrackedConnections => _manager.Count;

    /// <summary>The transport the server runs on once started: <see cref="GatewayTransport.Native"/> or
    /// <see cref="GatewayTransport.Kestrel"/> (<see cref="GatewayTransport.Auto"/> before the start).</summary>
    public GatewayTransport Transport { get; private set; }

    /// <summary>The native transport's event loops once started (0 on Kestrel).</summary>
    public int EventLoopCount => _native?.LoopCount ?? 0;

    /// <summary>Connections per event loop (tests).</summary>
    internal int[] ConnectionsPerLoop() => _native?.ConnectionsPerLoop() ?? [];

    /// <summary>The transport <paramref name="options"/> ask for, resolved for this machine: Auto is the native
    /// transport on Linux for <c>ws://</c>, Kestrel otherwise.</summary>
    /// <exception cref="PlatformNotSupportedException">Native was asked for where it cannot run.</exception>
    /// <exception cref="InvalidOperationException">Native was asked for with a server certificate (<c>wss://</c>).</exception>
    public static GatewayTransport Resolve(TradeGatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        bool secure = options.ServerCertificate is not null;
        return options.Transport switch
        {
            GatewayTransport.Kestrel => GatewayTransport.Kestrel,
            GatewayTransport.Native when secure => throw new InvalidOperationException("The native transport serves ws:// only: wss:// (a ServerCertificate) needs Transport = Kestrel or Auto"),
            GatewayTransport.Native when !NativeTransport.IsSupported => throw new PlatformNotSupportedException("The native transport needs Linux (x86-64 or ARM64, glibc): use Transport = Kestrel or Auto"),
            GatewayTransport.Native => GatewayTransport.Native,
            _ => !secure && NativeTransport.IsSupported ? GatewayTransport.Native : GatewayTransport.Kestrel,
        };
    }

    /// <summary>Starts listening and returns once the server accepts connections.</summary>
    /// <returns>This server, running; stop it with <see cref="StopAsync"/> or dispose it.</returns>
    public WebSocketServer Start()
    {
        StartAsync().GetAwaiter().GetResult();
        return this;
    }

    /// <summary>Starts listening.</summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_app is not null || _native is not null)
        {
            throw new InvalidOperationException("The server was already started.");
        }

        (IPAddress? address, int port, bool localhost) = ParseListen(_listen);
        DescriptorBudget? budget = FitToDescriptorLimit();
        if (Resolve(_manager.Options) == GatewayTransport.Native)
        {
            StartNative(address, port, localhost);
            return;
        }

        Transport = GatewayTransport.Kestrel;
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton(_loggerFactory);
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        // The server is embedded in someone else's process: it must not take over Ctrl+C/SIGTERM the way the
        // generic host's ConsoleLifetime does (the application decides when to stop it).
        builder.Services.AddSingleton<IHostLifetime, EmbeddedHostLifetime>();
        builder.Services.Configure<SocketTransportOptions>(o =>
        {
            o.NoDelay = true;

            // Backpressure, not buffering: while the handler is busy, Kestrel reads ahead at most this much per
            // connection (its default, 1 MiB, lets a fast client park a megabyte in every connection's pipe).
            o.MaxReadBufferSize = MaxReadAhead;
        });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            Action<ListenOptions> configure = lo =>
            {
                lo.Use(GatewayConnectionHandler.CountPendingHandshakes(_manager, secure: _manager.Options.ServerCertificate is not null));
                if (_manager.Options.ServerCertificate is { } certificate)
                {
                    lo.UseHttps(https =>
                    {
                        https.ServerCertificate = certificate;
                        https.ServerCertificateChain = _manager.Options.ServerCertificateChain;
                        https.SslProtocols = _manager.Options.SslProtocols;
                        https.ClientCertificateMode = _manager.Options.ClientCertificateMode;
                        https.ClientCertificateValidation = _manager.Options.ClientCertificateValidation;
                        https.HandshakeTimeout = _manager.Options.HandshakeTimeout;
                    });
                }

                lo.Run(new GatewayConnectionHandler(_manager).OnConnectedAsync);
            };
            if (localhost)
            {
                kestrel.ListenLocalhost(port, configure);
            }
            else
            {
                kestrel.Listen(address!, port, configure);
            }
        });
        builder.WebHost.UseSockets();
        if (budget is { } fitted)
        {
            builder.Services.Replace(ServiceDescriptor.Singleton<IConnectionListenerFactory>(services => new BoundedListenerFactory(ActivatorUtilities.CreateInstance<SocketTransportFactory>(services), fitted.MaxSockets, _manager.Logger)));
        }

        builder.Services.Replace(ServiceDescriptor.Singleton<IMemoryPoolFactory<byte>>(new BlockMemoryPoolFactory(_manager.TimeProvider)));

        WebApplication app = builder.Build();
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        _app = app;

        string first = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Uri bound = new(first);
        IPAddress boundAddress = localhost ? IPAddress.Loopback : (address!.Equals(IPAddress.Any) ? IPAddress.Loopback : address);
        LocalEndPoint = new IPEndPoint(boundAddress, bound.Port);
    }

    private void StartNative(IPAddress? address, int port, bool localhost)
    {
        List<IPEndPoint> endPoints = localhost
            ? System.Net.Sockets.Socket.OSSupportsIPv6 ? [new(IPAddress.Loopback, port), new(IPAddress.IPv6Loopback, port)] : [new(IPAddress.Loopback, port)]
            : [new(address!, port)];
        var native = new NativeTransport(_manager);
        try
        {
            native.Start(endPoints, _manager.Options.EventLoops ?? Environment.ProcessorCount);
        }
        catch (System.Net.Sockets.SocketException ex) when (localhost && endPoints.Count > 1 && ex.SocketErrorCode == System.Net.Sockets.SocketError.AddressNotAvailable)
        {
            native = new NativeTransport(_manager);
            native.Start([endPoints[0]], _manager.Options.EventLoops ?? Environment.ProcessorCount);
        }
        catch (System.Net.Sockets.SocketException ex) when (ex.SocketErrorCode == System.Net.Sockets.SocketError.AddressAlreadyInUse)
        {
            // The same exception Kestrel's transport gives, so callers handle one.
            throw new IOException($"Failed to bind to address {FormatHost(endPoints[0])}: address already in use.", new AddressInUseException(ex.Message, ex));
        }

        _native = native;
        Transport = GatewayTransport.Native;
        IPEndPoint bound = native.ListenerEndPoints[0];
        LocalEndPoint = new IPEndPoint(bound.Address.Equals(IPAddress.Any) ? IPAddress.Loopback : bound.Address, bound.Port);
    }

    /// <summary>Client sockets never take the descriptors the rest of the process needs: on Linux, the connection
    /// limits are fitted into <c>RLIMIT_NOFILE</c> less the descriptors open now and
    /// <see cref="TradeGatewayOptions.ReservedFileDescriptors"/> (<see cref="DescriptorBudget"/>). Both transports
    /// then answer 503 before the process runs out, and Kestrel's transport holds no more client sockets than the
    /// limit leaves room for (<see cref="BoundedListenerFactory"/>).</summary>
    private DescriptorBudget? FitToDescriptorLimit()
    {
        if (!NativeTransport.IsSupported || Libc.OpenFileLimit() is not { } limit)
        {
            return null;
        }

        int inUse = Directory.GetFiles("/proc/self/fd").Length;
        TradeGatewayOptions options = _manager.Options;
        var budget = DescriptorBudget.Fit(limit, inUse, options.ReservedFileDescriptors, options.MaxConnections, options.MaxPendingHandshakes);
        _manager.FitTo(budget);
        return budget;
    }

    /// <summary>Runs the server until <paramref name="cancellationToken"/> is cancelled, then shuts it down
    /// gracefully.</summary>
    /// <param name="cancellationToken">Ends the run.</param>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await StopAsync().ConfigureAwait(false);
    }

    /// <summary>Graceful shutdown: stop accepting handshakes, close every connection with 1001, let what was
    /// received reach the handlers, then stop listening. Idempotent.</summary>
    public Task StopAsync() => _stopping ??= StopCoreAsync();

    private async Task StopCoreAsync()
    {
        await _manager.ShutdownAsync().ConfigureAwait(false);
        _native?.Stop();
        if (_app is { } app)
        {
            await app.StopAsync().ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
        }

        _manager.Dispose();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private static Func<IGatewayConnection, ITradeMessageHandler> SharedHandler(ITradeMessageHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return _ => handler;
    }

    internal static (IPAddress? Address, int Port, bool Localhost) ParseListen(string listen, string what = "listen address", int examplePort = 9001)
    {
        int colon = listen.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(listen.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > IPEndPoint.MaxPort)
        {
            throw new ArgumentException($"Invalid {what} '{listen}': expected host:port such as 127.0.0.1:{examplePort}, [::1]:{examplePort}, localhost:{examplePort} or *:{examplePort}", nameof(listen));
        }

        string host = listen[..colon];
        if (host == "localhost")
        {
            return (null, port, true);
        }

        if (host is "*" or "0.0.0.0")
        {
            return (IPAddress.Any, port, false);
        }

        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }

        if (!IPAddress.TryParse(host, out IPAddress? address))
        {
            throw new ArgumentException($"Invalid {what} '{listen}': '{host}' is not an IP address, localhost or *", nameof(listen));
        }

        return (address, port, false);
    }

    private static string FormatHost(IPEndPoint ep) => ep.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{ep.Address}]:{ep.Port}" : $"{ep.Address}:{ep.Port}";

    /// <summary>A host lifetime that leaves process signals to the application.</summary>
    private sealed class EmbeddedHostLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
