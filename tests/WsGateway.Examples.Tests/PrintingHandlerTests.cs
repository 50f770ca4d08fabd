using System.Text.RegularExpressions;
using WsGateway.Client;
using WsGateway.Examples.Tests.Infrastructure;
using WsGateway.Sbe;

namespace WsGateway.Examples.Tests;

/// <summary><see cref="PrintingHandler"/> behind a live gateway, fed by the real client.</summary>
public sealed class PrintingHandlerTests
{
    [Fact]
    public async Task Prints_one_line_per_trade_for_singles_and_batches_in_order()
    {
        var lines = new LineWriter();
        TextWriter output = TextWriter.Synchronized(lines);
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new PrintingHandler(output)).Start();
        await using TradeClient client = await TradeClient.ConnectAsync(server.Url);

        await client.SendTradeAsync(new Trade(1, (byte)'B', 100.5, 1000));
        await client.SendTradeAsync(new Trade(2, (byte)'A', 99.25, 5));
        await client.SendTradesAsync([new Trade(3, (byte)'C', 0.125, 7), new Trade(ulong.MaxValue, (byte)'Z', 12345.678, uint.MaxValue)]);
        await client.CloseAsync(1000, "done");
        await lines.WaitForLineAsync(l => l.StartsWith("disconnected:", StringComparison.Ordinal));

        IReadOnlyList<string> all = lines.Lines;
        Match connected = Regex.Match(all[0], @"^connected: connection (\d+) from 127\.0\.0\.1:\d+$");
        Assert.True(connected.Success, all[0]);
        string id = connected.Groups[1].Value;
        Assert.Equal(
            [
                "trade 1 B 1000 @ 100.5",
                "trade 2 A 5 @ 99.25",
                "trade 3 C 7 @ 0.125",
                "trade 18446744073709551615 Z 4294967295 @ 12345.678",
                $"disconnected: connection {id}, 1000 done (client, clean)",
            ],
            all.Skip(1));
    }

    [Fact]
    public async Task Prints_a_malformed_message_as_an_error_and_keeps_the_connection()
    {
        var lines = new LineWriter();
        TextWriter output = TextWriter.Synchronized(lines);
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new PrintingHandler(output)).Start();
        await using TradeClient client = await TradeClient.ConnectAsync(server.Url);

        byte[] truncated = new Trade(9, (byte)'X', 1, 1).Encode()[..20];
        await client.SendRawAsync(truncated);
        await client.SendTradeAsync(new Trade(10, (byte)'Y', 2.5, 3));
        await client.CloseAsync();
        await lines.WaitForLineAsync(l => l.StartsWith("disconnected:", StringComparison.Ordinal));

        IReadOnlyList<string> all = lines.Lines;
        string id = Regex.Match(all[0], @"connection (\d+)").Groups[1].Value;
        Assert.Equal(
            [
                $"error: Decode: Insufficient data: expected 29 bytes, got 20 (connection {id}, message 1)",
                "trade 10 Y 3 @ 2.5",
                $"disconnected: connection {id}, 1000 (client, clean)",
            ],
            all.Skip(1));
    }

    [Fact]
    public void Writes_to_standard_output_by_default()
    {
        TextWriter original = Console.Out;
        var lines = new LineWriter();
        Console.SetOut(lines);
        try
        {
            new PrintingHandler().OnTrade(new Trade(5, (byte)'Q', 7.75, 8).Encode());
        }
        finally
        {
            Console.SetOut(original);
        }

        Assert.Equal(["trade 5 Q 8 @ 7.75"], lines.Lines);
    }
}
