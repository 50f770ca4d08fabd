using WsGateway.Examples.Tests.Infrastructure;
using WsGateway.Sbe;

namespace WsGateway.Examples.Tests;

/// <summary><see cref="TradeSender"/>, the client example, against a live gateway with a recording handler.</summary>
public sealed class TradeSenderTests
{
    [Fact]
    public async Task The_gateway_receives_exactly_the_trades_the_sender_claims_to_send()
    {
        var recorder = new RecordingHandler();
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => recorder).Start();
        var lines = new LineWriter();

        Trade[] sent = await TradeSender.SendAsync(server.Url, count: 25, batchSize: 10, lines);
        WebSocketCloseInfo close = await recorder.Disconnected.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(35, sent.Length);
        Assert.Equal(sent, recorder.DecodedTrades);
        Assert.Equal([.. Enumerable.Repeat(1, 25), 10], recorder.MessageSizes); // 25 single messages, then one batch
        Assert.Empty(recorder.Errors);
        Assert.Equal(new WebSocketCloseInfo(1000, "done", InitiatedByClient: true, Clean: true), close);
        Assert.Equal(
            [
                $"connected to {server.Url}",
                "sent 25 single trades (ids 1..25)",
                "sent a batch of 10 trades (ids 26..35)",
                "closed: 1000",
            ],
            lines.Lines);
    }

    [Fact]
    public void The_trade_sequence_is_the_documented_one()
    {
        Assert.Equal(new Trade(1, (byte)'B', 100.25, 200), TradeSender.CreateTrade(1));
        Assert.Equal(new Trade(8, (byte)'A', 100, 900), TradeSender.CreateTrade(8));
        Assert.Equal(new Trade(35, (byte)'D', 100.75, 600), TradeSender.CreateTrade(35));
    }
}
