// Example 4: hand trades over to another thread through a bounded queue, with a named policy for a full queue.
// Run:  dotnet run --project examples/WsGateway.Examples.Runner -- queue --port 9001 --capacity 1024 --policy drop
//       (--policy close closes a client with 1013 when the queue is full; --work-us 50 slows the consumer down)
// Feed: dotnet run --project examples/WsGateway.Examples.Runner -- client --url ws://127.0.0.1:9001/ --count 100000
using System.Threading.Channels;
using WsGateway.Sbe;

namespace WsGateway.Examples;

/// <summary>What a <see cref="QueueHandler"/> does with a trade when the <see cref="TradeQueue"/> is full.</summary>
/// <remarks>
/// <para><b>Why there is no "Block".</b> Waiting for room (<c>WriteAsync(...).AsTask().Wait()</c>) inside a handler
/// callback blocks the thread the callback runs on. On the native transport (the standalone server's <c>ws://</c> on
/// Linux) that is the connection's event loop thread: every other connection of that loop stops being read, and
/// their timeouts stop being checked, until room appears. On Kestrel it is a thread-pool thread: its client is slowed
/// by TCP flow control, which is the point of backpressure, but while it waits the connection reads nothing (the
/// client's answers to keep-alive pings stay unread until the connection is dropped for it), shutdown waits for it,
/// and every blocked connection holds a pool thread, so a thousand slow clients starve the pool that Kestrel, the
/// timers and this queue's consumer also run on. Blocking is acceptable only as a deliberate choice for a few trusted
/// connections on Kestrel, with a timeout; the gateway's own backpressure (it reads nothing from a connection while
/// its callback runs) already slows a client whose handler is slow, and
/// <see cref="IGatewayConnection.PauseReceiving"/> stops reading a connection without blocking any thread.</para>
/// </remarks>
public enum QueueFullPolicy
{
    /// <summary>Drop the trade being written, the newest, and go on with the connection. Counted in
    /// <see cref="TradeQueue.Dropped"/>. (This is the channel's <see cref="BoundedChannelFullMode.DropWrite"/>, done by
    /// hand so it can be counted; it is <em>not</em> <see cref="BoundedChannelFullMode.DropNewest"/>, which would evict a
    /// trade already accepted.)</summary>
    DropNewest,

    /// <summary>Close the client's connection with 1013 (Try Again Later) and refuse the rest of its trades, so that
    /// what was accepted from it is an unbroken prefix of what it sent. Counted in
    /// <see cref="TradeQueue.ConnectionsClosed"/>; the refused trades in <see cref="TradeQueue.Dropped"/>.</summary>
    CloseConnection,
}

/// <summary>
/// A bounded queue of <see cref="Trade"/>s shared by every connection, and the single consumer task that processes
/// them: the receive loops only decode and enqueue, the slow work happens elsewhere.
/// </summary>
/// <remarks>
/// <para><b>The channel.</b> <c>Channel.CreateBounded&lt;Trade&gt;(new BoundedChannelOptions(capacity) { SingleReader =
/// true, FullMode = BoundedChannelFullMode.Wait })</c>. Many writers (the connections), one reader (the consumer).
/// <c>FullMode.Wait</c> matters even though nobody waits: with it, <see cref="ChannelWriter{T}.TryWrite"/> returns
/// <see langword="false"/> when the queue is full, so the <see cref="QueueFullPolicy"/> decides and counts; the other
/// modes drop something silently. <c>TryWrite</c> never waits and allocates nothing.</para>
/// <para><b>Exactly once.</b> Every trade <c>TryWrite</c> accepted is handed to the process delegate exactly once, in
/// the order of acceptance (so each connection's trades stay in the order its client sent them), provided the queue
/// is completed with <see cref="CompleteAsync"/> after the server stopped: completing drains what is queued.
/// Trades that were not accepted are counted in <see cref="Dropped"/> and never processed.</para>
/// <para><b>The consumer</b> runs on its own task, one trade at a time; it may take as long as it likes without
/// holding up any connection, until the queue fills. An exception from the delegate is counted in
/// <see cref="Failed"/> and the consumer goes on with the next trade.</para>
/// <para><b>Shutdown order:</b> <c>await server.StopAsync()</c> (every received trade reaches a handler and the
/// queue), then <c>await queue.CompleteAsync()</c> (the consumer drains the queue and ends).</para>
/// </remarks>
public sealed class TradeQueue : IAsyncDisposable
{
    private readonly Channel<Trade> _channel;
    private readonly Action<Trade> _process;
    private readonly Task _consumer;
    private long _accepted;
    private long _dropped;
    private long _connectionsClosed;
    private long _processed;
    private long _failed;

    /// <summary>Creates the queue and starts its consumer.</summary>
    /// <param name="capacity">Most trades waiting at once.</param>
    /// <param name="policy">What to do with a trade that finds the queue full.</param>
    /// <param name="process">Processes one trade, on the consumer task; never called concurrently.</param>
    public TradeQueue(int capacity, QueueFullPolicy policy, Action<Trade> process)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        ArgumentNullException.ThrowIfNull(process);
        Capacity = capacity;
        Policy = policy;
        _process = process;
        _channel = Channel.CreateBounded<Trade>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _consumer = Task.Run(ConsumeAsync);
    }

    /// <summary>Most trades waiting at once.</summary>
    public int Capacity { get; }

    /// <summary>What happens to a trade that finds the queue full.</summary>
    public QueueFullPolicy Policy { get; }

    /// <summary>Trades waiting now.</summary>
    public int Count => _channel.Reader.Count;

    /// <summary>Trades accepted into the queue. Counted just after the write, so while trades flow
    /// <see cref="Processed"/> can momentarily read ahead of it.</summary>
    public long Accepted => Volatile.Read(ref _accepted);

    /// <summary>Trades not accepted: the queue was full, or (under <see cref="QueueFullPolicy.CloseConnection"/>)
    /// their connection was being closed because it had been.</summary>
    public long Dropped => Volatile.Read(ref _dropped);

    /// <summary>Connections closed with 1013 under <see cref="QueueFullPolicy.CloseConnection"/>.</summary>
    public long ConnectionsClosed => Volatile.Read(ref _connectionsClosed);

    /// <summary>Trades handed to the process delegate (each accepted trade once).</summary>
    public long Processed => Volatile.Read(ref _processed);

    /// <summary>Of the processed trades, those whose delegate threw.</summary>
    public long Failed => Volatile.Read(ref _failed);

    /// <summary>Completes when the consumer has drained the queue after <see cref="CompleteAsync"/>.</summary>
    public Task Completion => _consumer;

    /// <summary>Creates the handler of one connection; pass it as the server's handler factory
    /// (<c>new WebSocketServer(listen, queue.CreateHandler)</c>).</summary>
    /// <param name="connection">The new connection.</param>
    /// <returns>A <see cref="QueueHandler"/> writing into this queue.</returns>
    public ITradeMessageHandler CreateHandler(IGatewayConnection connection) => new QueueHandler(this);

    /// <summary>Accepts no more trades and waits until the consumer has processed every accepted one.</summary>
    /// <returns>A task that completes when the queue is drained.</returns>
    public async Task CompleteAsync()
    {
        _channel.Writer.TryComplete();
        await _consumer.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await CompleteAsync().ConfigureAwait(false);

    /// <summary>Offers one trade; never waits. Called from receive loops, concurrently.</summary>
    internal bool TryWrite(in Trade trade)
    {
        if (_channel.Writer.TryWrite(trade))
        {
            Interlocked.Increment(ref _accepted);
            return true;
        }

        Interlocked.Increment(ref _dropped);
        return false;
    }

    internal void CountRefused() => Interlocked.Increment(ref _dropped);

    internal void CountConnectionClosed() => Interlocked.Increment(ref _connectionsClosed);

    private async Task ConsumeAsync()
    {
        ChannelReader<Trade> reader = _channel.Reader;

        // Wait for data, then take everything there is without awaiting: no allocation per trade.
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out Trade trade))
            {
                try
                {
                    _process(trade);
                }
                catch (Exception)
                {
                    Interlocked.Increment(ref _failed);
                }

                Interlocked.Increment(ref _processed);
            }
        }
    }
}

/// <summary>
/// The handler of one connection feeding a <see cref="TradeQueue"/>: decodes each trade and <c>TryWrite</c>s it, and
/// applies the queue's <see cref="QueueFullPolicy"/> when the queue is full.
/// </summary>
/// <remarks>
/// <para><b>The span</b> is valid only during the callback, so it never goes into the queue: the 29-byte message is
/// decoded into a <see cref="Trade"/> value (24 bytes, no reference to the buffer) and that copy is queued. That is
/// the cheapest safe copy; queueing <c>data.ToArray()</c> would allocate per trade.</para>
/// <para><b>One instance per connection</b>, created by <see cref="TradeQueue.CreateHandler"/>: it remembers its
/// connection (to close it) and whether it is refusing trades. Its callbacks never run concurrently; the queue they
/// write to is shared and thread-safe.</para>
/// <para><b>Where it runs.</b> Its callbacks run where the gateway delivers messages: on the native transport the
/// event loop thread that read the bytes, shared with the loop's other connections; on Kestrel a thread-pool thread.
/// So they only decode and <c>TryWrite</c> (never waiting, no allocation); the slow work runs on the queue's
/// consumer task.</para>
/// <para><b>Never blocks.</b> A full queue is answered at once by the policy; see <see cref="QueueFullPolicy"/> for why
/// waiting for room on the receive loop is not offered.</para>
/// </remarks>
/// <param name="queue">The shared queue.</param>
public sealed class QueueHandler(TradeQueue queue) : ITradeMessageHandler
{
    private IGatewayConnection? _connection;
    private bool _refusing;

    /// <inheritdoc />
    public void OnConnect(IGatewayConnection connection) => _connection = connection;

    /// <inheritdoc />
    public void OnTrade(ReadOnlySpan<byte> data) => Enqueue(Trade.Decode(data));

    /// <inheritdoc />
    public void OnTrades(ReadOnlySpan<byte> data, int messageSize)
    {
        foreach (Trade trade in new TradeBatchReader(data))
        {
            Enqueue(trade);
        }
    }

    private void Enqueue(in Trade trade)
    {
        if (_refusing)
        {
            // Closing with 1013: the gateway still delivers what arrives before the client's close; refuse it all so
            // the client's accepted trades stay an unbroken prefix.
            queue.CountRefused();
            return;
        }

        if (queue.TryWrite(trade))
        {
            return;
        }

        // Full. DropNewest: TryWrite has counted the drop; nothing else to do.
        if (queue.Policy == QueueFullPolicy.CloseConnection)
        {
            _refusing = true;
            queue.CountConnectionClosed();
            _connection?.Close(WebSocketCloseCodes.TryAgainLater, "queue full");
        }
    }
}
