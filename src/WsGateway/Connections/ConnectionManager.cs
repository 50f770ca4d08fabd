using System.Collections.Frozen;
using System.Net;
using Microsoft.Extensions.Logging;
using WsGateway.Diagnostics;

namespace WsGateway.Connections;

/// <summary>Outcome of <see cref="ConnectionManager.TryAdmit"/>.</summary>
internal enum Admission
{
    Admitted,
    Stopping,
    ConnectionLimit,
    AddressLimit,
}

/// <summary>
/// The state one gateway shares between its connections: options, the handler factory, the connection registry,
/// the connection limit, and the single heartbeat timer that drives every connection's timeouts (the idea of
/// Kestrel's <c>Heartbeat</c>: one timer for all connections, none per connection).
/// </summary>
internal sealed partial class ConnectionManager : IDisposable
{
    private static readonly Lazy<GatewayMetrics> s_defaultMetrics = new(() => new GatewayMetrics());
    private static long s_nextConnectionId;

    private readonly ConnectionRegistry _connections = new();
    private readonly Func<IGatewayConnection, ITradeMessageHandler> _handlerFactory;
    private readonly ITimer _heartbeat;
    private readonly AddressCounter _perAddress = new();
    private readonly FrozenSet<string>? _allowedOrigins;
    private int _openWebSockets;
    private int _maxConnections;
    private readonly CancellationTokenSource _stoppingSource = new();
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
        _maxConnections = options.MaxConnections;
        _maxPendingHandshakes = options.MaxPendingHandshakes;
        Metrics = metrics ?? s_defaultMetrics.Value;
        _handlerFactory = handlerFactory;
        TimeProvider = timeProvider;
        Logger = loggerFactory.CreateLogger("WsGateway.Connections");
        TimeoutSettings = new TimeoutSettings(options, timeProvider);
        _allowedOrigins = options.AllowedOrigins.Count == 0 ? null : options.AllowedOrigins.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
        TimeSpan period = heartbeatPeriod ?? TimeSpan.FromSeconds(1);
        HeartbeatPeriod = period;
        _heartbeat = timeProvider.CreateTimer(static state => ((ConnectionManager)state!).OnHeartbeat(), this, period, period);
    }

    public TradeGatewayOptions Options { get; }

    /// <summary>The connection limit in force: <see cref="TradeGatewayOptions.MaxConnections"/>, or less when the
    /// process's descriptor limit has no room for it (<see cref="FitTo"/>).</summary>
    public int MaxConnections => Volatile.Read(ref _maxConnections);

    /// <summary>The limit of handshakes in progress in force: <see cref="TradeGatewayOptions.MaxPendingHandshakes"/>,
    /// or less (<see cref="FitTo"/>).</summary>
    public int MaxPendingHandshakes => Volatile.Read(ref _maxPendingHandshakes);

    /// <summary>How often every connection's timeouts are checked (by the shared heartbeat, or by each event loop
    /// for its own connections).</summary>
    public TimeSpan HeartbeatPeriod { get; }

    public GatewayMetrics Metrics { get; }

    public TimeProvider TimeProvider { get; }

    /// <summary>The options' deadlines in <see cref="TimeProvider"/> ticks, shared by every connection.</summary>
    public TimeoutSettings TimeoutSettings { get; }

    public ILogger Logger { get; }

    public bool IsStopping => _stopping;

    /// <summary>Fires when the shutdown begins (ends handshake validators that are still running).</summary>
    public CancellationToken Stopping => _stoppingSource.Token;

    /// <summary>WebSocket connections past their handshake and not yet ended.</summary>
    public int OpenWebSockets => Volatile.Read(ref _openWebSockets);

    /// <summary>Connections known to the manager (handshaking or open).</summary>
    public int Count => _connections.Count;

    public long NextConnectionId() => Interlocked.Increment(ref s_nextConnectionId);

    public ITradeMessageHandler CreateHandler(IGatewayConnection connection) => _handlerFactory(connection);

    public void Register(WebSocketConnection connection) => _connections.Add(connection);

    public void Unregister(WebSocketConnection connection) => _connections.Remove(connection);

    /// <summary>Whether a handshake with this <c>Origin</c> header may proceed: any when the allow-list is empty (unless
    /// <see cref="TradeGatewayOptions.RequireListedOrigin"/>); a request without the header (not a browser) is not
    /// refused.</summary>
    public bool IsOriginAllowed(string? origin) => origin is null || (_allowedOrigins?.Contains(origin) ?? !Options.RequireListedOrigin);

    /// <summary>Takes one of the <see cref="TradeGatewayOptions.MaxConnections"/> slots and, when
    /// <see cref="TradeGatewayOptions.MaxConnectionsPerAddress"/> is set, one of <paramref name="address"/>'s.
    /// An <see cref="AdmissionLease"/> over the same address gives both back.</summary>
    /// <param name="address">The client's address (normalised with <see cref="Normalize"/>), or null when unknown.</param>
    public Admission TryAdmit(IPAddress? address)
    {
        if (_stopping)
        {
            return Admission.Stopping;
        }

        int open = Interlocked.Increment(ref _openWebSockets);
        if (open > MaxConnections)
        {
            Interlocked.Decrement(ref _openWebSockets);
            Metrics.LimitExceeded(GatewayMetrics.LimitConnections, GatewayMetrics.ActionRejected);
            return Admission.ConnectionLimit;
        }

        if (address is not null && Options.MaxConnectionsPerAddress is { } max && !_perAddress.TryAdd(address, max))
        {
            Interlocked.Decrement(ref _openWebSockets);
            Metrics.LimitExceeded(GatewayMetrics.LimitConnectionsPerAddress, GatewayMetrics.ActionRejected);
            return Admission.AddressLimit;
        }

        return Admission.Admitted;
    }

    /// <summary>Gives back what <see cref="TryAdmit"/> took: called by <see cref="AdmissionLease.Dispose"/> only.</summary>
    internal void Release(IPAddress? address)
    {
        Interlocked.Decrement(ref _openWebSockets);
        if (address is not null && Options.MaxConnectionsPerAddress is not null)
        {
            _perAddress.Remove(address);
        }
    }

    /// <summary>Connections open from <paramref name="address"/> (counted only with a per-address limit).</summary>
    public int ConnectionsFrom(IPAddress address) => _perAddress[Normalize(address)!];

    /// <summary>The address a per-address limit counts: IPv4-mapped IPv6 addresses as IPv4.</summary>
    public static IPAddress? Normalize(IPAddress? address) => address is { IsIPv4MappedToIPv6: true } ? address.MapToIPv4() : address;

    /// <summary>The refusal for an admission outcome: status code, reason, and the rejected-connection message.</summary>
    public (int StatusCode, string Reason) DescribeRefusal(Admission admission, IPAddress? address) => admission switch
    {
        Admission.Stopping => (503, "The gateway is shutting down"),
        Admission.AddressLimit => (429, $"Connection limit per address reached: {Options.MaxConnectionsPerAddress} connections are open from {address}"),
        _ => (503, $"Connection limit reached: {MaxConnections} connections are open"),
    };

    /// <summary>Puts the limits of <paramref name="budget"/> in force (before the server accepts), with a warning
    /// when they are lower than the options asked for.</summary>
    public void FitTo(DescriptorBudget budget)
    {
        Volatile.Write(ref _maxConnections, budget.MaxConnections);
        Volatile.Write(ref _maxPendingHandshakes, budget.MaxPendingHandshakes);
        if (budget.MaxConnections < Options.MaxConnections || budget.MaxPendingHandshakes < Options.MaxPendingHandshakes)
        {
            Log.DescriptorLimitFitted(Logger, budget.Limit, budget.InUse, budget.Reserve, Math.Max(0, budget.Available), Options.MaxConnections, Options.MaxPendingHandshakes, budget.MaxConnections, budget.MaxPendingHandshakes);
        }
    }

    private void OnHeartbeat()
    {
        long now = TimeProvider.GetTimestamp();
        ArraySegment<WebSocketConnection> connections = _connections.Snapshot();
        try
        {
            foreach (WebSocketConnection connection in connections)
            {
                if (connection.Transport.HasOwnTimer)
                {
                    continue; // its event loop checks it, on the loop's thread
                }

                // The heartbeat is shared: nothing one connection does may stop it or, on its timer thread, the process.
                try
                {
                    connection.OnHeartbeat(now);
                }
                catch (Exception ex)
                {
                    Log.HeartbeatFailed(Logger, connection.Id, ex);
                }
            }
        }
        finally
        {
            ConnectionRegistry.Return(connections);
        }
    }

    /// <summary>Graceful shutdown: refuse new connections, send 1001 to every open one, wait until they have
    /// ended (their received messages delivered), and drop the ones still there after the timeout.</summary>
    public async Task ShutdownAsync(CancellationToken cancellationToken = default)
    {
        _stopping = true;
        try
        {
            await _stoppingSource.CancelAsync().ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
        }

        ArraySegment<WebSocketConnection> connections = _connections.Snapshot();
        List<Task> running = new(connections.Count);
        foreach (WebSocketConnection connection in connections)
        {
            connection.CloseForShutdown();
            running.Add(connection.Completion);
        }

        ConnectionRegistry.Return(connections);
        Task all = Task.WhenAll(running);
        try
        {
            await all.WaitAsync(Options.ShutdownTimeout, TimeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            ArraySegment<WebSocketConnection> remaining = _connections.Snapshot();
            foreach (WebSocketConnection connection in remaining)
            {
                connection.Abort(AbortReason.ShutdownTimeout);
            }

            ConnectionRegistry.Return(remaining);

            // An abort ends a connection at its next read; a handler callback that never returns keeps its
            // connection, and must not keep the whole gateway from stopping.
            try
            {
                await all.WaitAsync(Options.CloseTimeout, TimeProvider).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                Log.ShutdownAbandoned(Logger, _connections.Count, Options.CloseTimeout.TotalSeconds);
            }
        }
    }

    public void Dispose()
    {
        _heartbeat.Dispose();
        _stoppingSource.Dispose();
    }
}
