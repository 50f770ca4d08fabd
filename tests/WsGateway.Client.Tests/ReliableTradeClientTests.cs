using System.Collections.Concurrent;
using WsGateway.Sbe;

namespace WsGateway.Client.Tests;

/// <summary><see cref="ReliableTradeClient"/> against the real gateway: what a resend after a reconnect looks like on
/// the wire.</summary>
public sealed class ReliableTradeClientTests
{
    [Fact]
    public async Task A_resend_after_a_reconnect_sends_the_same_messages_as_the_first_time_even_across_the_ring_wrap()
    {
        // The first connection acknowledges its first 8 trades (the frames of 3 and 5), the second nothing.
        var frames = new ConcurrentQueue<(int Connection, int Trades, ulong FirstId)>();
        int connections = 0;
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new FrameRecorder(Interlocked.Increment(ref connections), frames)).Start();
        await using ReliableTradeClient client = await ReliableTradeClient.ConnectAsync(server.Url, new ReliableTradeClientOptions { MaxUnacknowledged = 16, MaxTradesPerFrame = 16 });

        ulong id = 1;
        foreach (int size in (int[])[3, 5])
        {
            await client.SendAsync(Trades(ref id, size));
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await client.WaitForAcknowledgementAsync(8, timeout.Token);

        // Trades 9-21 take ring slots 8-15 and 0-4: the frame of 7 wraps and goes out as two messages (6 and 1).
        foreach (int size in (int[])[2, 7, 4])
        {
            await client.SendAsync(Trades(ref id, size));
        }

        await WaitUntilAsync(() => frames.Count(f => f.Connection == 1) == 6, frames);
        await client.ReconnectAsync();
        await WaitUntilAsync(() => frames.Count(f => f.Connection == 2) == 4, frames);

        (int Trades, ulong FirstId)[] first = [.. frames.Where(f => f.Connection == 1).Select(f => (f.Trades, f.FirstId))];
        (int Trades, ulong FirstId)[] resent = [.. frames.Where(f => f.Connection == 2).Select(f => (f.Trades, f.FirstId))];
        Assert.Equal([(3, 1UL), (5, 4UL), (2, 9UL), (6, 11UL), (1, 17UL), (4, 18UL)], first);
        Assert.Equal(first[2..], resent); // the unacknowledged messages, exactly as they went out
    }

    [Fact]
    public async Task Duplicates_reported_by_the_acknowledgements_are_summed_over_the_connections()
    {
        // Every connection acknowledges what it received, saying that its first 2 trades were duplicates.
        int connections = 0;
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new Acknowledger(Interlocked.Increment(ref connections), version0: false)).Start();
        await using ReliableTradeClient client = await ReliableTradeClient.ConnectAsync(server.Url);
        Assert.Null(client.DuplicatesReported); // nothing acknowledged yet: not known

        ulong id = 1;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await client.SendAsync(Trades(ref id, 5));
        await client.WaitForAllAcknowledgedAsync(timeout.Token);
        Assert.Equal(2, client.DuplicatesReported);

        await client.ReconnectAsync(timeout.Token);
        await client.SendAsync(Trades(ref id, 4));
        await client.WaitForAllAcknowledgedAsync(timeout.Token);
        Assert.Equal(9, client.Acknowledged);
        Assert.Equal(4, client.DuplicatesReported); // 2 per connection: a connection's counts start again from 0
    }

    [Fact]
    public async Task An_old_gateways_acknowledgement_without_duplicates_leaves_them_unknown()
    {
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new Acknowledger(1, version0: true)).Start();
        await using ReliableTradeClient client = await ReliableTradeClient.ConnectAsync(server.Url);
        ulong id = 1;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await client.SendAsync(Trades(ref id, 3));
        await client.WaitForAllAcknowledgedAsync(timeout.Token);
        Assert.Equal(3, client.Acknowledged);
        Assert.Null(client.DuplicatesReported);
    }

    /// <summary>Acknowledges every message at once (count so far, its first 2 trades duplicates), as TradeAck version
    /// 1, or as the 24-byte version 0 of a gateway before the duplicates field.</summary>
    private sealed class Acknowledger(int connection, bool version0) : ITradeMessageHandler
    {
        private IGatewayConnection? _gateway;
        private ulong _received;

        public void OnConnect(IGatewayConnection gateway) => _gateway = gateway;

        public void OnTrade(ReadOnlySpan<byte> data) => Acknowledge(data, 1);

        public void OnTrades(ReadOnlySpan<byte> data, int messageSize) => Acknowledge(data[^messageSize..], data.Length / messageSize);

        private void Acknowledge(ReadOnlySpan<byte> last, int count)
        {
            _received += (ulong)count;
            byte[] ack = new byte[TradeAck.EncodedSize];
            new TradeAck(Trade.Decode(last).TradeId, _received, Math.Min(_received, 2)).Encode(ack);
            if (version0)
            {
                ack[0] = 16; // blockLength 16
                ack[6] = 0;  // version 0
                ack = ack[..TradeAck.Version0EncodedSize];
            }

            Assert.True(connection > 0);
            _gateway!.Send(ack);
        }
    }

    private static ReadOnlyMemory<Trade> Trades(ref ulong id, int count)
    {
        var trades = new Trade[count];
        for (int i = 0; i < count; i++)
        {
            trades[i] = new Trade(id++, (byte)'R', 10.5, 1);
        }

        return trades;
    }

    private static async Task WaitUntilAsync(Func<bool> condition, ConcurrentQueue<(int Connection, int Trades, ulong FirstId)> frames)
    {
        for (int i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(20);
        }

        Assert.True(condition(), $"frames seen: {string.Join(", ", frames)}");
    }

    /// <summary>Records every message's trade count and first id; the first connection acknowledges 8 trades.</summary>
    private sealed class FrameRecorder(int connection, ConcurrentQueue<(int Connection, int Trades, ulong FirstId)> frames) : ITradeMessageHandler
    {
        private IGatewayConnection? _gateway;
        private int _received;

        public void OnConnect(IGatewayConnection gateway) => _gateway = gateway;

        public void OnTrade(ReadOnlySpan<byte> data) => Record(data, 1);

        public void OnTrades(ReadOnlySpan<byte> data, int messageSize) => Record(data, data.Length / messageSize);

        private void Record(ReadOnlySpan<byte> data, int count)
        {
            frames.Enqueue((connection, count, Trade.Decode(data).TradeId));
            _received += count;
            if (connection == 1 && _received == 8)
            {
                byte[] ack = new byte[TradeAck.EncodedSize];
                new TradeAck(8, 8).Encode(ack);
                _gateway!.Send(ack);
            }
        }
    }
}
