using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using WsGateway.Diagnostics;
using WsGateway.Sinks;

namespace WsGateway.Cli.Admin;

/// <summary>What <c>wsgw serve</c> runs: the gateway and, unless turned off, its admin endpoints.</summary>
/// <param name="Listen">The gateway's address (<c>127.0.0.1:9001</c>; port 0 picks one).</param>
/// <param name="Admin">The admin endpoints' address (<c>127.0.0.1:9002</c>), or <c>none</c>.</param>
/// <param name="Gateway">The gateway's limits and timeouts.</param>
/// <param name="Sink">Where trades go and are acknowledged from (<c>--sink</c>), or null.</param>
internal sealed record ServeSettings(string Listen, string Admin, TradeGatewayOptions Gateway, SinkPlan? Sink = null);

/// <summary>
/// The hosting part of <c>wsgw serve</c>, callable from tests: the standalone gateway plus the admin app, sharing one
/// <see cref="GatewayMetrics"/> created from the admin app's meter factory, so that the meter /metrics exports is
/// the one the gateway counts on.
/// </summary>
internal sealed class ServeHost : IAsyncDisposable
{
    private readonly WebSocketServer _server;
    private readonly WebApplication? _admin;
    private readonly GatewayMetrics _metrics;
    private readonly GatewayStats? _stats;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private SinkPipeline? _sink;
    private Task? _stopped;

    private ServeHost(WebSocketServer server, WebApplication? admin, GatewayMetrics metrics, GatewayMonitor monitor, GatewayStats? stats, ILogger logger)
    {
        _server = server;
        _admin = admin;
        _metrics = metrics;
        Monitor = monitor;
        _stats = stats;
        _logger = logger;
    }

    /// <summary>The gateway's <c>ws://</c> URL (<c>wss://</c> with a server certificate).</summary>
    public Uri GatewayUrl => _server.Url;

    /// <summary>The transport serving the gateway, for the banner: <c>native, 2 event loops</c> or <c>kestrel</c>.</summary>
    public string TransportDescription => _server.Transport == GatewayTransport.Native
        ? $"native, {_server.EventLoopCount} event loop{(_server.EventLoopCount == 1 ? string.Empty : "s")}"
        : "kestrel";

    /// <summary>The admin app's <c>http://</c> URL (<c>https://</c> with a server certificate), or null when it is off.</summary>
    public Uri? AdminUrl { get; private set; }

    /// <summary>The gateway.</summary>
    public WebSocketServer Server => _server;

    /// <summary>Totals as the gateway's meter counts them (for the live view).</summary>
    public GatewayMonitor Monitor { get; }

    /// <summary>The sink pipeline (<c>--sink</c>), or null.</summary>
    public SinkPipeline? Sink => _sink;

    /// <summary>The dashboard's data, or null when the admin app is off.</summary>
    internal GatewayStats? Stats => _stats;

    /// <summary>Starts the gateway, then the admin app.</summary>
    /// <exception cref="FormatException">The admin address is not valid.</exception>
    /// <exception cref="ServeStartException">The gateway or the admin app could not listen (a port in use, an address
    /// not on this machine).</exception>
    public static async Task<ServeHost> StartAsync(ServeSettings settings, Func<IGatewayConnection, ITradeMessageHandler> handlerFactory, ILoggerFactory loggerFactory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(handlerFactory);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        var adminAddress = AdminAddress.Parse(settings.Admin);
        var state = new AdminState { Options = settings.Gateway, HasSink = settings.Sink is not null };
        WebApplication? admin = adminAddress is { } address ? AdminApp.Build(address, loggerFactory, state) : null;
        var metrics = new GatewayMetrics(admin?.Services.GetRequiredService<IMeterFactory>());
        var monitor = new GatewayMonitor(metrics.Meter);
        GatewayStats? stats = admin is null ? null : new GatewayStats(monitor, metrics.Meter);
        SinkPipeline? sink = settings.Sink?.Start(loggerFactory, metrics.Meter);
        if (sink is not null)
        {
            // Every connection's handler hands its trades to the sink and passes them on to the chosen handler.
            Func<IGatewayConnection, ITradeMessageHandler> inner = handlerFactory;
            handlerFactory = connection => sink.CreateHandler(inner(connection));
        }

        var server = new WebSocketServer(settings.Listen, handlerFactory, settings.Gateway, loggerFactory, metrics: metrics);
        var host = new ServeHost(server, admin, metrics, monitor, stats, loggerFactory.CreateLogger("WsGateway.Cli.Admin")) { _sink = sink };
        try
        {
            try
            {
                await server.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                throw ServeStartException.CannotListen($"{(server.IsSecure ? "wss" : "ws")}://{settings.Listen}/", "--listen", e);
            }

            if (admin is not null)
            {
                state.Server = server;
                state.Stats = stats;
                state.Sink = sink;
                state.Stopping = host._stopping.Token;
                AdminApp.Map(admin, state);
                try
                {
                    await admin.StartAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (IOException e)
                {
                    throw ServeStartException.CannotListen($"{(server.IsSecure ? "https" : "http")}://{settings.Admin}/", "--admin; --admin none turns the admin endpoints off", e);
                }

                host.AdminUrl = AdminApp.ListeningUrl(admin);
                Log.AdminListening(host._logger, host.AdminUrl);
            }
        }
        catch
        {
            await host.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return host;
    }

    /// <summary>Graceful shutdown: /health turns unhealthy, the gateway closes every connection with 1001 and
    /// drains, then the admin app stops (so /metrics can be scraped until the end). Idempotent.</summary>
    public Task StopAsync() => _stopped ??= StopCoreAsync();

    private async Task StopCoreAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _server.StopAsync().ConfigureAwait(false);

        // The connections have handed over their last reads: store what is in flight, then let go of the sink.
        if (_sink is not null)
        {
            await _sink.DisposeAsync().ConfigureAwait(false);
        }

        if (_admin is not null)
        {
            await _admin.StopAsync().ConfigureAwait(false);
            await _admin.DisposeAsync().ConfigureAwait(false);
            Log.AdminStopped(_logger);
        }

        _stats?.Dispose();
        Monitor.Dispose();
        _metrics.Dispose();
        _stopping.Dispose();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);
}

/// <summary>The gateway or its admin endpoints could not start listening; the message is one line naming the URL,
/// the option that sets it and why (for example <c>cannot listen on ws://127.0.0.1:9001/ (--listen): address already
/// in use</c>).</summary>
internal sealed class ServeStartException : Exception
{
    public ServeStartException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Kestrel's bind failure ("Failed to bind to address http://...") said for the URL clients use.</summary>
    internal static ServeStartException CannotListen(string url, string option, IOException e)
    {
        Exception cause = e;
        while (cause.InnerException is { } inner)
        {
            cause = inner;
        }

        string reason = e.InnerException is AddressInUseException ? "address already in use" : cause.Message.TrimEnd('.');
        return new ServeStartException($"cannot listen on {url} ({option}): {reason}", e);
    }
}
