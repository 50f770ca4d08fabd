// Example 3: a whole frame of trades decoded into a reused buffer and committed in one step.
// Run:  dotnet run --project examples/WsGateway.Examples.Runner -- batch --port 9001
// Feed: dotnet run --project examples/WsGateway.Examples.Runner -- client --url ws://127.0.0.1:9001/ --count 5 --batch 100
using System.Buffers;
using System.Globalization;
using WsGateway.Sbe;

namespace WsGateway.Examples;

/// <summary>
/// Receives every batch a <see cref="BatchHandler"/> decoded, in one call: a database transaction, one write to a
/// journal, one message to a downstream system.
/// </summary>
/// <remarks>
/// <para><b>The span</b> is the handler's reusable buffer: it is valid only during the call and holds the next batch
/// afterwards. Copy what you keep (<c>trades.ToArray()</c>, or copy into your own storage).</para>
/// <para><b>Threading.</b> One sink is usually shared by the handlers of every connection, so <see cref="Commit"/> is
/// called concurrently from several connections' receive loops: make it thread-safe. Calls made for one connection
/// never overlap and come in the order the client sent the trades.</para>
/// <para>An exception thrown here reaches the connection's <c>OnError</c> as a handler error; see
/// <see cref="TradeGatewayOptions.HandlerErrorPolicy"/>.</para>
/// </remarks>
public interface IBatchSink
{
    /// <summary>Commits one batch: the trades of one WebSocket message, in order.</summary>
    /// <param name="trades">At least one trade; valid only during the call.</param>
    void Commit(ReadOnlySpan<Trade> trades);
}

/// <summary>
/// Decodes each binary message, one trade or a batch of them, into a reusable pooled <see cref="Trade"/> buffer and
/// commits it to an <see cref="IBatchSink"/> in one step. A single trade goes the same way, as a batch of one.
/// </summary>
/// <remarks>
/// <para><b>One instance per connection</b> (<c>_ =&gt; new BatchHandler(sink)</c>): the buffer is this connection's,
/// and the gateway never calls the instance concurrently, so the buffer needs no lock.</para>
/// <para><b>The span.</b> <c>data</c> is valid only during the callback. The trades are decoded (copied, 29 wire bytes
/// into a 24-byte <see cref="Trade"/> each) before <see cref="IBatchSink.Commit"/> is called, so the sink never sees
/// the receive buffer, only this handler's.</para>
/// <para><b>No allocation per batch.</b> The buffer is rented from <see cref="ArrayPool{T}.Shared"/> once, grown
/// (rent larger, return the old one) only when a bigger batch arrives, and returned when the connection closes.
/// Decoding with <see cref="TradeBatchReader"/>, a <see langword="ref struct"/> over the span, allocates nothing.</para>
/// </remarks>
public sealed class BatchHandler : ITradeMessageHandler
{
    private readonly IBatchSink _sink;
    private Trade[] _buffer;

    /// <summary>Creates a handler for one connection.</summary>
    /// <param name="sink">Where batches are committed; may be shared by many connections.</param>
    /// <param name="initialCapacity">Trades the buffer holds before it has to grow.</param>
    public BatchHandler(IBatchSink sink, int initialCapacity = 256)
    {
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(initialCapacity);
        _sink = sink;
        _buffer = ArrayPool<Trade>.Shared.Rent(initialCapacity);
    }

    /// <summary>Batches committed on this connection.</summary>
    public long Batches { get; private set; }

    /// <summary>Trades committed on this connection.</summary>
    public long Trades { get; private set; }

    /// <summary>Trades the buffer holds now (it grows to the largest batch seen).</summary>
    public int Capacity => _buffer.Length;

    /// <inheritdoc />
    /// <remarks>One trade is a batch of one: the same decode, the same commit.</remarks>
    public void OnTrade(ReadOnlySpan<byte> data) => OnTrades(data, data.Length);

    /// <inheritdoc />
    public void OnTrades(ReadOnlySpan<byte> data, int messageSize)
    {
        // 1. Make room: the gateway has checked that the frame holds whole messages of messageSize bytes.
        int count = data.Length / messageSize;
        if (count > _buffer.Length)
        {
            Grow(count);
        }

        // 2. Decode every trade into the buffer. After this loop nothing refers to `data` any more.
        int n = 0;
        foreach (Trade trade in new TradeBatchReader(data))
        {
            _buffer[n++] = trade;
        }

        // 3. Commit the batch in one step. The sink sees our buffer, valid until the next message.
        _sink.Commit(_buffer.AsSpan(0, n));
        Batches++;
        Trades += n;
    }

    /// <inheritdoc />
    public void OnDisconnect(WebSocketCloseInfo close)
    {
        // The last callback of the connection: the buffer goes back to the pool. Any later call (there is none from
        // the gateway) would rent a fresh one.
        Trade[] buffer = _buffer;
        _buffer = [];
        ArrayPool<Trade>.Shared.Return(buffer);
    }

    private void Grow(int count)
    {
        Trade[] old = _buffer;
        _buffer = ArrayPool<Trade>.Shared.Rent(count);
        if (old.Length > 0)
        {
            ArrayPool<Trade>.Shared.Return(old);
        }
    }
}

/// <summary>A sink that writes one summary line per batch, for example
/// <c>batch of 100: trades 6..105, volume 50500</c>. Thread-safe when the writer is.</summary>
/// <param name="output">A thread-safe writer (<see cref="Console.Out"/> is).</param>
public sealed class SummaryBatchSink(TextWriter output) : IBatchSink
{
    /// <inheritdoc />
    public void Commit(ReadOnlySpan<Trade> trades)
    {
        ulong volume = 0;
        foreach (ref readonly Trade trade in trades)
        {
            volume += trade.Quantity;
        }

        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"batch of {trades.Length}: trades {trades[0].TradeId}..{trades[^1].TradeId}, volume {volume}"));
    }
}
