using System.Buffers.Binary;
using System.Collections.Concurrent;
using WsGateway.Sbe;

namespace WsGateway.Cli.Tests;

public sealed class SendCommandTests
{
    [Fact]
    public async Task Send_delivers_every_trade_over_every_connection_single_and_batched()
    {
        var ids = new ConcurrentBag<ulong>();
        var frames = new ConcurrentBag<int>();
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new IdHandler(ids, frames)).Start();

        var plan = new SendCommand.SendPlan(server.Url!, Count: 1003, Connections: 3, Batch: 10, Rate: 0);
        SendCommand.SendSummary summary = await SendCommand.RunAsync(plan, null, TextWriter.Null, CancellationToken.None);

        Assert.Equal(1003, summary.Trades);
        Assert.Equal(0, summary.Failed);
        Assert.Equal("3x 1000", summary.Closes);
        await WaitForAsync(() => ids.Count == 1003);
        Assert.Equal(1003, ids.Distinct().Count());
        Assert.Equal([0UL, 1UL, 2UL], ids.Select(id => id >> 48).Distinct().Order());
        Assert.Equal(3 * 34, frames.Count); // 335/334/334 trades in frames of 10: 34 frames each
        Assert.Equal(summary.Frames, frames.Count);
    }

    [Fact]
    public void Generated_trades_are_valid_and_unique_per_connection()
    {
        Trade a = SendCommand.Generate(1, 5);
        Trade b = SendCommand.Generate(2, 5);
        Assert.NotEqual(a.TradeId, b.TradeId);
        Assert.Equal((byte)'F', a.Symbol);
        Assert.Equal(101.25, a.Price);
        Assert.Equal(6u, a.Quantity);
    }

    [Fact]
    public void A_file_of_trades_is_read_and_a_bad_one_is_refused_with_its_position()
    {
        string path = Path.GetTempFileName();
        try
        {
            byte[] bytes = new byte[29 * 2 + 20];
            new Trade(1, (byte)'A', 1.5, 10).Encode(bytes);
            new Trade(2, (byte)'B', 2.5, 20).Encode(bytes.AsSpan(29));
            new Trade(3, (byte)'C', 3.5, 30).Encode()[..20].CopyTo(bytes, 58); // cut short
            File.WriteAllBytes(path, bytes);

            Assert.False(SendCommand.TryReadTrades(new FileInfo(path), out _, out string? error));
            Assert.Equal($"{Path.GetFileName(path)}: message 3 at offset 58: Insufficient data: expected 29 bytes, got 20", error);

            File.WriteAllBytes(path, bytes[..58]);
            Assert.True(SendCommand.TryReadTrades(new FileInfo(path), out Trade[] trades, out _));
            Assert.Equal([1UL, 2UL], trades.Select(t => t.TradeId));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (int i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition());
    }

    private sealed class IdHandler(ConcurrentBag<ulong> ids, ConcurrentBag<int> frames) : ITradeMessageHandler
    {
        public void OnTrade(ReadOnlySpan<byte> data)
        {
            frames.Add(1);
            ids.Add(BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(8)));
        }

        public void OnTrades(ReadOnlySpan<byte> data, int messageSize)
        {
            frames.Add(data.Length / messageSize);
            for (int offset = 0; offset < data.Length; offset += messageSize)
            {
                ids.Add(BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(offset + 8)));
            }
        }
    }
}
