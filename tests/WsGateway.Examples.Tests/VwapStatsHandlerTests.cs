using WsGateway.Client;
using WsGateway.Examples.Tests.Infrastructure;
using WsGateway.Sbe;

namespace WsGateway.Examples.Tests;

/// <summary><see cref="VwapStatsHandler"/>: one shared instance behind a live gateway, fed by several clients at once.</summary>
public sealed class VwapStatsHandlerTests
{
    [Fact]
    public async Task Aggregates_every_connection_per_symbol()
    {
        var stats = new VwapStatsHandler();
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", stats).Start();

        // Two clients at once. B: 100 x 100 and 101 x 300 -> VWAP (10000 + 30300) / 400 = 100.75.
        // A: 50 x 10, 49.5 x 10, 51 x 20 (batch) -> (500 + 495 + 1020) / 40 = 50.375.
        Task first = SendAsync(server.Url, singles: [new Trade(1, (byte)'B', 100, 100), new Trade(2, (byte)'A', 50, 10)], batch: []);
        Task second = SendAsync(server.Url, singles: [new Trade(3, (byte)'A', 49.5, 10)], batch: [new Trade(4, (byte)'B', 101, 300), new Trade(5, (byte)'A', 51, 20)]);
        await Task.WhenAll(first, second);
        await Eventually.TrueAsync(() => stats.ConnectionsOpen == 0, "both connections closed");

        IReadOnlyList<SymbolStatistics> symbols = stats.Snapshot();
        Assert.Equal(2, symbols.Count);
        Assert.Equal(new SymbolStatistics('A', 3, 40, 2015, 49.5, 51, symbols[0].Last), symbols[0]);
        Assert.Equal(50.375, symbols[0].Vwap);
        Assert.Equal(new SymbolStatistics('B', 2, 400, 40300, 100, 101, symbols[1].Last), symbols[1]);
        Assert.Equal(100.75, symbols[1].Vwap);
        Assert.Equal(5, stats.Trades);
        Assert.Contains(symbols[0].Last, new[] { 50, 51.0 }); // the last A of either connection
        Assert.Contains(symbols[1].Last, new[] { 100, 101.0 });

        var lines = new LineWriter();
        stats.WriteTable(lines);
        Assert.Equal(
            [
                $"A: 3 trades, volume 40, VWAP 50.375, low 49.5, high 51, last {symbols[0].Last}",
                $"B: 2 trades, volume 400, VWAP 100.75, low 100, high 101, last {symbols[1].Last}",
                "total: 5 trades, 0 errors, 0 connections open",
            ],
            lines.Lines);
    }

    [Fact]
    public async Task Last_is_the_last_trade_of_a_single_connection_and_errors_are_counted()
    {
        var stats = new VwapStatsHandler();
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", stats).Start();
        await using TradeClient client = await TradeClient.ConnectAsync(server.Url);

        await client.SendTradesAsync([new Trade(1, (byte)'C', 10, 1), new Trade(2, (byte)'C', 30, 1), new Trade(3, (byte)'C', 20, 2)]);
        await client.SendRawAsync(new byte[5]);
        await client.CloseAsync();
        await Eventually.TrueAsync(() => stats.ConnectionsOpen == 0, "the connection closed");

        SymbolStatistics c = Assert.Single(stats.Snapshot());
        Assert.Equal(new SymbolStatistics('C', 3, 4, 80, 10, 30, 20), c);
        Assert.Equal(20, c.Vwap);
        Assert.Equal(1, stats.Errors);
    }

    private static async Task SendAsync(Uri url, Trade[] singles, Trade[] batch)
    {
        await using TradeClient client = await TradeClient.ConnectAsync(url);
        foreach (Trade trade in singles)
        {
            await client.SendTradeAsync(trade);
        }

        if (batch.Length > 0)
        {
            await client.SendTradesAsync(batch);
        }

        await client.CloseAsync();
    }
}
