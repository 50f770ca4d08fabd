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
internal sealed record ServeSettings(string Listen, string Admin, TradeGatewayOptions Gateway, SinkPlan? Sink = null)
{
    /// <summary>The sink's start-up check's deadline (<c>--sink-timeout</c>); each attempt's with <see cref="SinkWait"/>.</summary>
    public TimeSpan SinkTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Listen even when the sink is not ready (<c>--sink-wait</c>): the check is retried in the background,
    /// /health is Unhealthy and trades wait (unacknowledged, under the in-flight bound) until it passes.</summary>
    public bool SinkWait { get; init; }

    /// <summary>The whole graceful stop's deadline (<c>--shutdown-timeout</c>): the connections' drain and the sink's
    /// drain and close together.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(10);
}

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
    private TimeSpan _shutdownTimeout = TimeSpan.FromSeconds(10);
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

    /// <summary>With <c>--sink-wait</c>: completes when the sink's start-up check passed (true) or the host stopped
    /// first (false). Null otherwise (the check passed before listening, or there is no sink).</summary>
    public Task<bool>? SinkReady { get; private set; }

    /// <summary>The dashboard's data, or null when the admin app is off.</summary>
    internal GatewayStats? Stats => _stats;

    /// <summary>Checks the sink (unless <see cref="ServeSettings.SinkWait"/>), then starts the gateway, then the admin app.</summary>
    /// <exception cref="FormatException">The admin address is not valid.</exception>
    /// <exception cref="ServeStartException">The sink is not ready (<see cref="ServeStartException.ExitCode"/> 2):
    /// nothing listens.</exception>
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
        var host = new ServeHost(server, admin, metrics, monitor, stats, loggerFactory.CreateLogger("WsGateway.Cli.Admin")) { _sink = sink, _shutdownTimeout = settings.ShutdownTimeout };
        try
        {
            if (sink is not null)
            {
                // Before anything listens: a sink that cannot store fails the start, not the first trade. With
                // --sink-wait it starts degraded instead: the check is retried, /health says why, trades wait for it.
                try
                {
                    await sink.CheckSinkAsync(settings.SinkTimeout, cancellationToken).ConfigureAwait(false);
                }
                catch (SinkNotReadyException) when (settings.SinkWait)
                {
                    host.SinkReady = sink.StartCheckingSink(settings.SinkTimeout);
                }
                catch (SinkNotReadyException e)
                {
                    throw ServeStartException.SinkNotReady(settings.Sink!.Uri.Redacted, e);
                }
            }

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

    /// <summary>Graceful shutdown within <see cref="ServeSettings.ShutdownTimeout"/>: /health turns unhealthy, the
    /// gateway closes every connection with 1001 and drains, the sink stores what is in flight and closes with what is
    /// left of the deadline, then the admin app stops (so /metrics can be scraped until the end). Idempotent.</summary>
    public Task StopAsync() => _stopped ??= StopCoreAsync();

    private async Task StopCoreAsync()
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _server.StopAsync().ConfigureAwait(false);

        // The connections have handed over their last reads: store what is in flight, then let go of the sink, in
        // what is left of the one deadline (not a drain timeout of its own after the gateway's).
        if (_sink is not null)
        {
            TimeSpan left = _shutdownTimeout - System.Diagnostics.Stopwatch.GetElapsedTime(started);
            await _sink.StopAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero).ConfigureAwait(false);
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
    public ServeStartException(string message, Exception innerException, int exitCode = 1)
        : base(message, innerException)
    {
        ExitCode = exitCode;
    }

    /// <summary>The exit code <c>wsgw serve</c> ends with: 1 when it cannot listen, 2 when the sink is not ready.</summary>
    public int ExitCode { get; }

    /// <summary>The sink's start-up check failed: <c>sink postgres://u@host/db?table=t is not ready: reason</c>.</summary>
    internal static ServeStartException SinkNotReady(string redactedUri, SinkNotReadyException e)
        => new($"sink {redactedUri} is not ready: {e.Reason}", e, exitCode: 2);

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
