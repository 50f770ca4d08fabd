using System.Net.WebSockets;
using WsGateway.Sbe;

namespace WsGateway.Client;

/// <summary>
/// A client for a gateway with a durable sink (<c>wsgw serve --sink ...</c>): it keeps every trade it sends until the
/// gateway acknowledges it with a <see cref="TradeAck"/> (sent once the sink has stored it), and after a reconnect it
/// sends again, first and in order, every trade not yet acknowledged. With a sink that deduplicates on the trade id
/// (JetStream's duplicate window, Kafka's key, PostgreSQL's unique key) every trade is then stored exactly once.
/// </summary>
/// <remarks>
/// <para><b>Acknowledgements.</b> <see cref="Acknowledged"/> counts the trades acknowledged so far, in send order
/// (the gateway acknowledges a prefix); <see cref="WaitForAcknowledgementAsync(long, CancellationToken)"/> waits
/// until a given number are (an awaitable per send: <c>long n = client.Sent;</c> after a send, then wait for
/// <c>n</c>), <see cref="WaitForAllAcknowledgedAsync"/> for everything sent so far.</para>
/// <para><b>Bound.</b> At most <see cref="ReliableTradeClientOptions.MaxUnacknowledged"/> trades are kept: a send
/// that would exceed it waits for acknowledgements. The gateway's own bound pushes back through TCP before that
/// when its sink is slow or down.</para>
/// <para><b>Losing the connection.</b> A send or a wait throws <see cref="WebSocketException"/> when the connection
/// is lost; the trades of a send that threw are kept all the same. Call <see cref="ReconnectAsync"/> (again, until it
/// succeeds), then go on sending: the unacknowledged trades go first. Trades acknowledged on an earlier connection
/// are never sent again; trades stored but not yet acknowledged when a connection was lost are sent again, and the
/// sink's deduplication on the trade id stores them once (within its duplicate window).</para>
/// <para><b>Failing over.</b> <see cref="FailOverAsync(CancellationToken)"/> is the loop a sender runs when a send or a wait threw: it
/// tries the gateways (<see cref="ReliableTradeClientOptions.FailoverUrls"/>, or one load balancer's URL again) in
/// turn, waiting between attempts with exponential backoff and full jitter, until one takes the connection and the
/// unacknowledged trades were resent.</para>
/// <para><b>Threading.</b> One sender at a time: <c>SendAsync</c>, <see cref="ReconnectAsync"/> and
/// <see cref="CloseAsync"/> must not overlap. Waits may run on other tasks; acknowledgements are read by the
/// client's own receive loop.</para>
/// </remarks>
public sealed class ReliableTradeClient : IAsyncDisposable
{
    private readonly Uri[] _urls;
    private readonly ReliableTradeClientOptions _options;
    private readonly Trade[] _ring;

    // True where a WebSocket message began: a resend sends the same messages again (a sink storing one record per
    // message, JetStream's record=frame, recognises a message it has stored only when it comes again as it was).
    private readonly bool[] _messageStarts;
    private readonly Trade[] _one = new Trade[1];
    private readonly Lock _lock = new();

    private TradeClient _client;
    private Task _receiving = Task.CompletedTask;
    private TaskCompletionSource _changed = NewSignal();
    private long _sent;
    private long _acknowledged;
    private long _connectionBase;
    private ulong _lastAcknowledgedTradeId;
    private long _acknowledgements;
    private long _duplicatesEarlier;
    private long _duplicatesThisConnection;
    private bool _duplicatesUnknown;
    private Exception? _connectionError;
    private int _current;
    private long _reconnects;

    private ReliableTradeClient(Uri url, ReliableTradeClientOptions options, TradeClient client)
    {
        _urls = [url, .. options.FailoverUrls];
        _options = options;
        _ring = new Trade[options.MaxUnacknowledged];
        _messageStarts = new bool[options.MaxUnacknowledged];
        _client = client;
    }

    /// <summary>Trades handed to a send since the client was created (acknowledged or not).</summary>
    public long Sent => Volatile.Read(ref _sent);

    /// <summary>Trades acknowledged by the gateway since the client was created: the first <see cref="Acknowledged"/>
    /// trades sent are durably stored.</summary>
    public long Acknowledged => Volatile.Read(ref _acknowledged);

    /// <summary>Trades sent and not yet acknowledged: kept for a resend.</summary>
    public long Unacknowledged => Sent - Acknowledged;

    /// <summary>The trade id of the last trade acknowledged; 0 before the first acknowledgement.</summary>
    public ulong LastAcknowledgedTradeId
    {
        get
        {
            lock (_lock)
            {
                return _lastAcknowledgedTradeId;
            }
        }
    }

    /// <summary>Of the trades acknowledged, how many the gateway's sink already held when they came (a resend of a trade
    /// stored but not yet acknowledged when a connection was lost, or a re-run with the same trade ids): stored once,
    /// before. Summed over the connections, from <see cref="TradeAck.Duplicates"/>. <see langword="null"/> when not
    /// known: no acknowledgement yet, or one without the count (a sink that cannot tell, such as Kafka, or a gateway
    /// older than TradeAck version 1).</summary>
    public long? DuplicatesReported
    {
        get
        {
            lock (_lock)
            {
                return _duplicatesUnknown || _acknowledgements == 0 ? null : _duplicatesEarlier + _duplicatesThisConnection;
            }
        }
    }

    /// <summary><see cref="TradeAck"/> messages received since the client was created.</summary>
    public long AcknowledgementsReceived => Volatile.Read(ref _acknowledgements);

    /// <summary>The connection in use, for its counters and close status.</summary>
    public TradeClient Connection => _client;

    /// <summary>The URL of the gateway (or balancer) the connection in use goes to.</summary>
    public Uri Url => _urls[Volatile.Read(ref _current)];

    /// <summary>Connections opened again since the client was created (<see cref="ReconnectAsync"/>,
    /// <see cref="FailOverAsync(CancellationToken)"/>).</summary>
    public long Reconnects => Volatile.Read(ref _reconnects);

    /// <summary>Connects to the gateway.</summary>
    /// <param name="url">A <c>ws://</c> or <c>wss://</c> URL of a gateway with a sink.</param>
    /// <param name="options">The resend bound and the connection's options; defaults when null.</param>
    /// <param name="cancellationToken">Cancels the connect.</param>
    /// <returns>The connected client.</returns>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public static async Task<ReliableTradeClient> ConnectAsync(Uri url, ReliableTradeClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(url);
        options ??= new ReliableTradeClientOptions();
        if (options.Validate() is { } problem)
        {
            throw new ArgumentException(problem, nameof(options));
        }

        TradeClient client = await TradeClient.ConnectAsync(url, options.Connection, cancellationToken).ConfigureAwait(false);
        var reliable = new ReliableTradeClient(url, options, client);
        reliable._receiving = reliable.ReceiveLoopAsync(client, 0);
        return reliable;
    }

    /// <summary>Sends one trade in one WebSocket message, keeping it until it is acknowledged.</summary>
    /// <param name="trade">The trade; its id should be unique (the sinks deduplicate on it).</param>
    /// <param name="cancellationToken">Cancels the wait for room in the resend buffer, or the send (which drops the connection).</param>
    /// <returns>A task that completes once the trade was handed to the socket.</returns>
    /// <exception cref="WebSocketException">The connection is lost: the trade is kept; reconnect.</exception>
    public ValueTask SendAsync(Trade trade, CancellationToken cancellationToken = default)
    {
        // One sender at a time: the one-trade array is reused (no allocation per trade); it is copied into the resend
        // buffer before the send awaits anything.
        _one[0] = trade;
        return SendAsync(_one, cancellationToken);
    }

    /// <summary>Sends trades in WebSocket messages of up to <see cref="ReliableTradeClientOptions.MaxTradesPerFrame"/>,
    /// keeping them until they are acknowledged; waits for acknowledgements first while the resend buffer is full.</summary>
    /// <param name="trades">The trades, in order; their ids should be unique.</param>
    /// <param name="cancellationToken">Cancels the wait for room in the resend buffer, or the send (which drops the connection).</param>
    /// <returns>A task that completes once every trade was handed to the socket.</returns>
    /// <exception cref="WebSocketException">The connection is lost: the trades recorded so far are kept; reconnect,
    /// then send the rest (<see cref="Sent"/> tells how many of these were recorded).</exception>
    public async ValueTask SendAsync(ReadOnlyMemory<Trade> trades, CancellationToken cancellationToken = default)
    {
        while (!trades.IsEmpty)
        {
            int count = Math.Min(trades.Length, _options.MaxTradesPerFrame);
            await WaitForRoomAsync(count, cancellationToken).ConfigureAwait(false);
            long first = _sent;
            Record(trades.Span[..count]);
            trades = trades[count..];
            await SendRangeAsync(_client, first, first + count, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Waits until the first <paramref name="count"/> trades sent are acknowledged.</summary>
    /// <param name="count">A value of <see cref="Sent"/>, typically read right after a send.</param>
    /// <param name="cancellationToken">Ends the wait (for a timeout, use a token that cancels after it).</param>
    /// <returns>A task that completes when they are acknowledged.</returns>
    /// <exception cref="WebSocketException">The connection was lost first: reconnect, then wait again.</exception>
    public async Task WaitForAcknowledgementAsync(long count, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (_acknowledged >= count)
                {
                    return;
                }

                if (_connectionError is { } error)
                {
                    throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely, $"The connection to {Url} was lost with {count - _acknowledged} of the awaited trades unacknowledged: reconnect (they are resent), then wait again. {error.Message}", error);
                }

                changed = _changed.Task;
            }

            await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Waits until every trade sent so far is acknowledged.</summary>
    /// <param name="cancellationToken">Ends the wait.</param>
    /// <returns>A task that completes when they are.</returns>
    /// <exception cref="WebSocketException">The connection was lost first.</exception>
    public Task WaitForAllAcknowledgedAsync(CancellationToken cancellationToken = default) => WaitForAcknowledgementAsync(Sent, cancellationToken);

    /// <summary>Drops the current connection (if it is still open), connects again to the same URL and sends every
    /// unacknowledged trade, in order, before anything else, in the same WebSocket messages as the first time (so a
    /// sink that stores one record per message recognises the ones it has stored).</summary>
    /// <param name="cancellationToken">Cancels the connect or the resend.</param>
    /// <returns>A task that completes once the unacknowledged trades were handed to the new connection's socket.</returns>
    /// <exception cref="System.Net.Sockets.SocketException">The gateway cannot be reached (yet): try again later.</exception>
    public Task ReconnectAsync(CancellationToken cancellationToken = default) => ReconnectToAsync(Volatile.Read(ref _current), cancellationToken);

    /// <summary>
    /// Finds a gateway again after the connection was lost: tries the next URL in turn (the next of
    /// <see cref="ReliableTradeClientOptions.FailoverUrls"/>, or the same balancer URL), then the one after, and so on
    /// round, waiting before each attempt a random time between zero and a bound that starts at
    /// <see cref="ReliableTradeClientOptions.ReconnectDelay"/> and doubles after every failed attempt up to
    /// <see cref="ReliableTradeClientOptions.MaxReconnectDelay"/>; then resends the unacknowledged trades as
    /// <see cref="ReconnectAsync"/> does.
    /// </summary>
    /// <param name="cancellationToken">Ends the search (a deadline: a token that cancels after it).</param>
    /// <returns>How many attempts failed before one succeeded.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the trades stay kept.</exception>
    public Task<int> FailOverAsync(CancellationToken cancellationToken = default) => FailOverAsync(null, cancellationToken);

    /// <summary><see cref="FailOverAsync(CancellationToken)"/>, telling <paramref name="attemptFailed"/> why each
    /// failed attempt failed (for a log line).</summary>
    /// <param name="attemptFailed">Called with the error of each attempt that failed; may be null.</param>
    /// <param name="cancellationToken">Ends the search.</param>
    /// <returns>How many attempts failed before one succeeded.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled first; the trades stay kept.</exception>
    public async Task<int> FailOverAsync(Action<Exception>? attemptFailed, CancellationToken cancellationToken = default)
    {
        TimeSpan bound = _options.ReconnectDelay;
        int next = Volatile.Read(ref _current);
        for (int failed = 0; ; failed++)
        {
            // Full jitter: a uniform wait in [0, bound), so that the clients of a gateway that died spread out.
            await Task.Delay(TimeSpan.FromTicks((long)(Random.Shared.NextDouble() * bound.Ticks)), cancellationToken).ConfigureAwait(false);
            next = _urls.Length == 1 ? 0 : (next + 1) % _urls.Length;
            try
            {
                await ReconnectToAsync(next, cancellationToken).ConfigureAwait(false);
                return failed;
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or WebSocketException or IOException or WebSocketHandshakeException or TimeoutException
                && !cancellationToken.IsCancellationRequested)
            {
                // Refused, reset, a 503 from a gateway that is full or draining, or lost during the resend: try the next.
                attemptFailed?.Invoke(e);
                bound = TimeSpan.FromTicks(Math.Min(bound.Ticks * 2, _options.MaxReconnectDelay.Ticks));
            }
        }
    }

    private async Task ReconnectToAsync(int index, CancellationToken cancellationToken)
    {
        await _client.DisposeAsync().ConfigureAwait(false);
        await _receiving.ConfigureAwait(false);
        TradeClient client = await TradeClient.ConnectAsync(_urls[index], _options.Connection, cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _reconnects);
        Volatile.Write(ref _current, index);
        long from;
        long to;
        lock (_lock)
        {
            from = _acknowledged;
            to = _sent;
            _connectionBase = from;
            _duplicatesEarlier += _duplicatesThisConnection;
            _duplicatesThisConnection = 0;
            _connectionError = null;
            _client = client;
        }

        _receiving = ReceiveLoopAsync(client, from);
        for (long start = from; start < to;)
        {
            long end = start + 1;
            while (end < to && !_messageStarts[end % _ring.Length])
            {
                end++;
            }

            await SendRangeAsync(client, start, end, cancellationToken).ConfigureAwait(false);
            start = end;
        }
    }

    /// <summary>Closes the connection with the closing handshake (what is unacknowledged stays unacknowledged: wait
    /// with <see cref="WaitForAllAcknowledgedAsync"/> first).</summary>
    /// <param name="cancellationToken">Cancels the close, dropping the connection.</param>
    /// <returns>A task that completes once the connection is closed.</returns>
    public async Task CloseAsync(CancellationToken cancellationToken = default)
    {
        await _client.CloseOutputAsync(cancellationToken: cancellationToken).ConfigureAwait(false);

        // The receive loop ends at the gateway's close frame; a gateway that answers nothing (frozen, its host gone)
        // must not hold the close past the caller's token.
        await _receiving.WaitAsync(cancellationToken).ConfigureAwait(false);
        await _client.CloseAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Drops the connection without a closing handshake.</summary>
    /// <returns>A task that completes once it is released.</returns>
    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync().ConfigureAwait(false);
        await _receiving.ConfigureAwait(false);
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void Record(ReadOnlySpan<Trade> trades)
    {
        long sent = _sent;
        for (int i = 0; i < trades.Length; i++)
        {
            int slot = (int)(sent++ % _ring.Length);
            _ring[slot] = trades[i];
            _messageStarts[slot] = i == 0 || slot == 0; // where the ring wraps, SendRangeAsync starts a second message
        }

        Volatile.Write(ref _sent, sent);
    }

    /// <summary>Sends trades [from, to) of the resend buffer in one message (split where the ring wraps).</summary>
    private ValueTask SendRangeAsync(TradeClient client, long from, long to, CancellationToken cancellationToken)
    {
        int start = (int)(from % _ring.Length);
        int count = (int)(to - from);
        if (start + count <= _ring.Length)
        {
            return client.SendTradesAsync(_ring.AsSpan(start, count), cancellationToken);
        }

        int first = _ring.Length - start;
        if (!client.TryWriteTrades(_ring.AsSpan(start, first)) || !client.TryWriteTrades(_ring.AsSpan(0, count - first)))
        {
            return SendWrappedAsync(client, start, first, count - first, cancellationToken);
        }

        return client.FlushAsync(cancellationToken);
    }

    private async ValueTask SendWrappedAsync(TradeClient client, int start, int first, int second, CancellationToken cancellationToken)
    {
        await client.FlushAsync(cancellationToken).ConfigureAwait(false);
        await client.SendTradesAsync(_ring.AsSpan(start, first), cancellationToken).ConfigureAwait(false);
        await client.SendTradesAsync(_ring.AsSpan(0, second), cancellationToken).ConfigureAwait(false);
    }

    private async Task WaitForRoomAsync(int count, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (_sent - _acknowledged + count <= _ring.Length)
                {
                    return;
                }

                if (_connectionError is { } error)
                {
                    throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely, $"The connection to {Url} was lost with the resend buffer full ({_ring.Length} trades unacknowledged): reconnect. {error.Message}", error);
                }

                changed = _changed.Task;
            }

            await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task ReceiveLoopAsync(TradeClient client, long connectionBase)
    {
        Exception? error = null;
        try
        {
            while (true)
            {
                ClientMessage message = await client.ReceiveAsync().ConfigureAwait(false);
                if (message.IsClose)
                {
                    error = new WebSocketException(WebSocketError.ConnectionClosedPrematurely, $"The gateway closed the connection ({message.CloseStatus} {message.CloseReason}).");
                    break;
                }

                if (TradeAck.TryDecode(message.Payload.Span, out TradeAck ack))
                {
                    OnAcknowledged(connectionBase, ack);
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            error = e;
        }

        lock (_lock)
        {
            if (ReferenceEquals(_client, client))
            {
                _connectionError = error;
            }

            Signal();
        }
    }

    private void OnAcknowledged(long connectionBase, TradeAck ack)
    {
        lock (_lock)
        {
            Interlocked.Increment(ref _acknowledgements);
            if (ack.Duplicates is { } duplicates)
            {
                _duplicatesThisConnection = Math.Max(_duplicatesThisConnection, (long)Math.Min(duplicates, (ulong)long.MaxValue));
            }
            else
            {
                _duplicatesUnknown = true;
            }

            long acknowledged = Math.Min(connectionBase + (long)ack.Count, _sent);
            if (acknowledged > _acknowledged)
            {
                Volatile.Write(ref _acknowledged, acknowledged);
                _lastAcknowledgedTradeId = ack.LastTradeId;
                Signal();
            }
        }
    }

    /// <summary>Wakes every waiter (caller holds the lock).</summary>
    private void Signal()
    {
        TaskCompletionSource changed = _changed;
        _changed = NewSignal();
        changed.TrySetResult();
    }
}
