using System.Collections.Concurrent;
using WsGateway.Client;
using WsGateway.Sbe;

namespace WsGateway.Examples.Tests;

/// <summary><see cref="BatchHandler"/>: one commit per WebSocket message, from a reused buffer.</summary>
public sealed class BatchHandlerTests
{
    [Fact]
    public async Task Commits_each_message_as_one_batch_with_its_trades_in_order()
    {
        var sink = new RecordingSink();
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new BatchHandler(sink, initialCapacity: 4)).Start();
        await using TradeClient client = await TradeClient.ConnectAsync(server.Url);
        Trade[] trades = [.. Enumerable.Range(1, 305).Select(i => new Trade((ulong)i, (byte)('A' + (i % 26)), i * 0.5, (uint)i))];

        await client.SendTradeAsync(trades[0]);                    // a single trade: a batch of one
        await client.SendTradesAsync(trades.AsSpan(1, 3));         // fits the initial buffer of 4
        await client.SendTradesAsync(trades.AsSpan(4, 300));       // the buffer grows
        await client.SendTradeAsync(trades[304]);
        await client.CloseAsync(); // returns once the gateway has handled every message before the close

        Trade[][] batches = [.. sink.Batches];
        Assert.Equal([1, 3, 300, 1], batches.Select(b => b.Length));
        Assert.Equal(trades, batches.SelectMany(b => b));
    }

    [Fact]
    public void Does_not_allocate_per_batch_once_warmed_up()
    {
        var sink = new SummingSink();
        var handler = new BatchHandler(sink, initialCapacity: 16);
        byte[] batch = new byte[100 * Trade.EncodedSize];
        Trade.EncodeToBuffer([.. Enumerable.Range(0, 100).Select(i => new Trade((ulong)i, (byte)'B', 100, 2))], batch);
        byte[] single = new Trade(7, (byte)'S', 1, 3).Encode();

        for (int i = 0; i < 10; i++)
        {
            handler.OnTrades(batch, Trade.EncodedSize); // the first call grows the buffer from 16 to 100
            handler.OnTrade(single);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            handler.OnTrades(batch, Trade.EncodedSize);
            handler.OnTrade(single);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(2020, sink.Commits);
        Assert.Equal((1010 * 100 * 2) + (1010 * 3), sink.Volume);
        Assert.Equal(2020, handler.Batches);
        Assert.Equal(1010 * 101, handler.Trades);
    }

    [Fact]
    public void Returns_its_buffer_to_the_pool_when_the_connection_ends()
    {
        var handler = new BatchHandler(new SummingSink(), initialCapacity: 8);
        Assert.True(handler.Capacity >= 8);

        handler.OnDisconnect(new WebSocketCloseInfo(1000, null, InitiatedByClient: true, Clean: true));

        Assert.Equal(0, handler.Capacity);
    }

    [Fact]
    public void The_summary_sink_writes_one_line_per_batch()
    {
        var output = new StringWriter { NewLine = "\n" };
        var sink = new SummaryBatchSink(output);

        sink.Commit([new Trade(6, (byte)'A', 1, 100), new Trade(7, (byte)'A', 1, 250)]);
        sink.Commit([new Trade(8, (byte)'A', 1, 1)]);

        Assert.Equal("batch of 2: trades 6..7, volume 350\nbatch of 1: trades 8..8, volume 1\n", output.ToString());
    }

    /// <summary>Copies each batch: the span is the handler's buffer, overwritten by the next message.</summary>
    private sealed class RecordingSink : IBatchSink
    {
        public ConcurrentQueue<Trade[]> Batches { get; } = new();

        public void Commit(ReadOnlySpan<Trade> trades) => Batches.Enqueue(trades.ToArray());
    }

    /// <summary>Keeps numbers only, allocating nothing.</summary>
    private sealed class SummingSink : IBatchSink
    {
        public long Commits { get; private set; }

        public long Volume { get; private set; }

        public void Commit(ReadOnlySpan<Trade> trades)
        {
            Commits++;
            foreach (Trade trade in trades)
            {
                Volume += trade.Quantity;
            }
        }
    }
}
