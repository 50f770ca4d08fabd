using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using WsGateway.Diagnostics;

namespace WsGateway.Connections;

/// <summary>
/// The state one gateway shares between its connections: options, the handler factory, the connection registry,
/// the connection limit, and the single heartbeat timer that drives every connection's timeouts (the idea of
/// Kestrel's <c>Heartbeat</c>: one timer for all connections, none per connection).
/// </summary>
internal sealed class ConnectionManager : IDisposable
{
    private static readonly Lazy<GatewayMetrics> s_defaultMetrics = new(() => new GatewayMetrics());
    private static long s_nextConnectionId;

    private readonly ConcurrentDictionary<long, WebSocketConnection> _connections = new();
    private readonly Func<IGatewayConnection, ITradeMessageHandler> _handlerFactory;
    private readonly ITimer _heartbeat;
    private int _openWebSockets;
    private volatile bool _stopping;

    public ConnectionManager(
        TradeGatewayOptions options,
        Func<IGatewayConnection, ITradeMessageHandler> handlerFactory,
        TimeProvider timeProvider,
        ILoggerFactory loggerFactory,
        GatewayMetrics? metrics = null,
        TimeSpan? heartbeatPeriod = null)
    {
        string? problem = options.Validate();
        if (problem is not null)
        {
            throw new ArgumentException($"Invalid TradeGatewayOptions: {problem}", nameof(options));
        }

        Options = options;
        Metrics = metrics ?? s_defaultMetrics.Value;
        _handlerFactory = handlerFactory;
        TimeProvider = timeProvider;
        Logger = loggerFactory.CreateLogger("WsGateway.Connections");
        TimeSpan period = heartbeatPeriod ?? TimeSpan.FromSeconds(1);
        _heartbeat = timeProvider.CreateTimer(static state => ((ConnectionManager)state!).OnHeartbeat(), this, period, period);
    }

    public TradeGatewayOptions Options { get; }

    public GatewayMetrics Metrics { get; }

    public TimeProvider TimeProvider { get; }

    public ILogger Logger { get; }

    public bool IsStopping => _stopping;

    /// <summary>WebSocket connections past their handshake and not yet ended.</summary>
    public int OpenWebSockets => Volatile.Read(ref _openWebSockets);

    /// <summary>Connections known to the manager (handshaking or open).</summary>
    public int Count => _connections.Count;

    public long NextConnectionId() => Interlocked.Increment(ref s_nextConnectionId);

    public ITradeMessageHandler CreateHandler(IGatewayConnection connection) => _handlerFactory(connection);

    public void Register(WebSocketConnection connection) => _connections[connection.Id] = connection;

    public void Unregister(WebSocketConnection connection) => _connections.TryRemove(connection.Id, out _);

    /// <summary>Takes one of the <see cref="TradeGatewayOptions.MaxConnections"/> slots; false when none is left
    /// or the gateway is shutting down.</summary>
    public bool TryAcquireSlot()
    {
        if (_stopping)
        {
            return false;
        }

        int open = Interlocked.Increment(ref _openWebSockets);
        if (open > Options.MaxConnections)
        {
            Interlocked.Decrement(ref _openWebSockets);
            return false;
        }

        return true;
    }

    public void ReleaseSlot() => Interlocked.Decrement(ref _openWebSockets);

    private void OnHeartbeat()
    {
        long now = TimeProvider.GetTimestamp();
        foreach (KeyValuePair<long, WebSocketConnection> entry in _connections)
        {
            entry.Value.OnHeartbeat(now);
        }
    }

    /// <summary>Graceful shutdown: refuse new connections, send 1001 to every open one, wait until they have
    /// ended (their received messages delivered), and drop the ones still there after the timeout.</summary>
    public async Task ShutdownAsync(CancellationToken cancellationToken = default)
    {
        _stopping = true;
        List<Task> running = new(_connections.Count);
        foreach (KeyValuePair<long, WebSocketConnection> entry in _connections)
        {
            entry.Value.CloseForShutdown();
            running.Add(entry.Value.Completion);
        }

        Task all = Task.WhenAll(running);
        try
        {
            await all.WaitAsync(Options.ShutdownTimeout, TimeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            foreach (KeyValuePair<long, WebSocketConnection> entry in _connections)
            {
                entry.Value.Abort(AbortReason.ShutdownTimeout);
            }

            await all.ConfigureAwait(false);
        }
    }

    public void Dispose() => _heartbeat.Dispose();
}
