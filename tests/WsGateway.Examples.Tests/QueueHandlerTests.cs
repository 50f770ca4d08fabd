using WsGateway.Client;
using WsGateway.Sbe;

namespace WsGateway.Examples.Tests;

/// <summary><see cref="QueueHandler"/> and <see cref="TradeQueue"/> behind a live gateway: exactly once for what was
/// accepted, and the full-queue policies.</summary>
public sealed class QueueHandlerTests
{
    [Fact]
    public async Task Every_accepted_trade_is_processed_exactly_once_in_each_connections_order()
    {
        var processed = new List<Trade>(); // touched by the consumer task only, read after CompleteAsync
        TradeQueue queue = new(capacity: 10_000, QueueFullPolicy.DropNewest, processed.Add);
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", queue.CreateHandler).Start();

        await Parallel.ForEachAsync(Enumerable.Range(1, 3), async (k, ct) =>
        {
            Trade[] trades = [.. Enumerable.Range(1, 300).Select(i => new Trade((ulong)((k * 1_000_000) + i), (byte)'Q', k, (uint)i))];
            await using TradeClient client = await TradeClient.ConnectAsync(server.Url, cancellationToken: ct);
            for (int i = 0; i < 100; i++)
            {
                await client.SendTradeAsync(trades[i], ct);
            }

            await client.SendTradesAsync(trades.AsSpan(100, 100), ct);
            for (int i = 200; i < 300; i++)
            {
                await client.SendTradeAsync(trades[i], ct);
            }

            await client.CloseAsync(cancellationToken: ct);
        });

        // The documented shutdown order: stop the server, then drain the queue.
        await server.StopAsync();
        await queue.CompleteAsync();

        Assert.Equal(900, queue.Accepted);
        Assert.Equal(900, queue.Processed);
        Assert.Equal(0, queue.Dropped);
        Assert.Equal(0, queue.Failed);
        Assert.Equal(900, processed.Count);
        for (int k = 1; k <= 3; k++)
        {
            ulong connection = (ulong)k;
            Assert.Equal(
                Enumerable.Range(1, 300).Select(i => (connection * 1_000_000) + (ulong)i),
                processed.Where(t => t.TradeId / 1_000_000 == connection).Select(t => t.TradeId));
        }
    }

    [Fact]
    public async Task DropNewest_drops_and_counts_what_finds_the_queue_full_and_keeps_the_connection()
    {
        using var consumer = new BlockedConsumer();
        TradeQueue queue = new(capacity: 4, QueueFullPolicy.DropNewest, consumer.Process);
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", queue.CreateHandler).Start();
        await using TradeClient client = await TradeClient.ConnectAsync(server.Url);

        // Trade 0 is taken by the consumer, which then blocks: the queue is empty and nothing leaves it.
        await client.SendTradeAsync(new Trade(0, (byte)'Q', 1, 1));
        await consumer.Blocked.WaitAsync(TimeSpan.FromSeconds(10));

        // Twenty more in one flush: 1..4 fill the queue, 5..20 are dropped.
        for (ulong id = 1; id <= 20; id++)
        {
            Assert.True(client.TryWriteTrade(new Trade(id, (byte)'Q', 1, 1)));
        }

        await client.FlushAsync();
        await client.CloseAsync(); // the gateway has handled all twenty when this returns

        Assert.Equal((ushort)1000, client.CloseStatus);
        Assert.Equal(5, queue.Accepted);
        Assert.Equal(16, queue.Dropped);
        Assert.Equal(0, queue.ConnectionsClosed);

        consumer.Release();
        await server.StopAsync();
        await queue.CompleteAsync();
        Assert.Equal([0UL, 1, 2, 3, 4], consumer.Processed.Select(t => t.TradeId));
        Assert.Equal(5, queue.Processed);
    }

    [Fact]
    public async Task CloseConnection_closes_the_client_with_1013_and_counts_it()
    {
        using var consumer = new BlockedConsumer();
        TradeQueue queue = new(capacity: 4, QueueFullPolicy.CloseConnection, consumer.Process);
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", queue.CreateHandler).Start();
        await using TradeClient client = await TradeClient.ConnectAsync(server.Url);
        await client.SendTradeAsync(new Trade(0, (byte)'Q', 1, 1));
        await consumer.Blocked.WaitAsync(TimeSpan.FromSeconds(10));

        // 1..4 fill the queue; 5 finds it full: close 1013, and 6..10 (already on the wire) are refused too.
        for (ulong id = 1; id <= 10; id++)
        {
            Assert.True(client.TryWriteTrade(new Trade(id, (byte)'Q', 1, 1)));
        }

        await client.FlushAsync();
        ClientMessage close = await client.ReceiveAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(close.IsClose);
        Assert.Equal((ushort)1013, close.CloseStatus); // Try Again Later
        Assert.Equal("queue full", close.CloseReason);
        await client.CloseAsync();

        Assert.Equal(1, queue.ConnectionsClosed);
        Assert.Equal(5, queue.Accepted);
        Assert.Equal(6, queue.Dropped);

        // Try again later: once the consumer catches up, a new connection is accepted.
        consumer.Release();
        for (int i = 0; i < 1000 && queue.Processed < 5; i++)
        {
            await Task.Delay(10); // the consumer drains 0..4 before the queue has room again
        }

        Assert.Equal(5, queue.Processed);
        await using (TradeClient retry = await TradeClient.ConnectAsync(server.Url))
        {
            await retry.SendTradeAsync(new Trade(100, (byte)'Q', 1, 1));
            await retry.CloseAsync();
            Assert.Equal((ushort)1000, retry.CloseStatus);
        }

        await server.StopAsync();
        await queue.CompleteAsync();
        Assert.Equal([0UL, 1, 2, 3, 4, 100], consumer.Processed.Select(t => t.TradeId));
        Assert.Equal(1, queue.ConnectionsClosed);
    }

    [Fact]
    public async Task A_failing_consumer_is_counted_and_goes_on()
    {
        var processed = new List<ulong>();
        TradeQueue queue = new(capacity: 16, QueueFullPolicy.DropNewest, trade =>
        {
            processed.Add(trade.TradeId);
            if (trade.TradeId % 2 == 1)
            {
                throw new InvalidOperationException("odd");
            }
        });
        var handler = new QueueHandler(queue);
        for (ulong id = 1; id <= 4; id++)
        {
            handler.OnTrade(new Trade(id, (byte)'Q', 1, 1).Encode());
        }

        await queue.CompleteAsync();

        Assert.Equal([1UL, 2, 3, 4], processed);
        Assert.Equal(4, queue.Processed);
        Assert.Equal(2, queue.Failed);
    }

    /// <summary>A consumer that blocks on trade 0 until released, so a test controls how full the queue is.</summary>
    private sealed class BlockedConsumer : IDisposable
    {
        private readonly ManualResetEventSlim _gate = new(false);
        private readonly TaskCompletionSource _blocked = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<Trade> Processed { get; } = []; // consumer task only; read after CompleteAsync

        public Task Blocked => _blocked.Task;

        public void Process(Trade trade)
        {
            Processed.Add(trade);
            if (trade.TradeId == 0)
            {
                _blocked.TrySetResult();
                Assert.True(_gate.Wait(TimeSpan.FromSeconds(30)), "the test never released the consumer");
            }
        }

        public void Release() => _gate.Set();

        public void Dispose()
        {
            _gate.Set();
            _gate.Dispose();
        }
    }
}
