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
