using WsGateway.Cli.Tests.Infrastructure;

namespace WsGateway.Cli.Tests;

/// <summary><c>wsgw send --reliable</c> against a gateway without a sink, the mistake a new user makes first: nothing is
/// ever acknowledged, and send must say why rather than only that time ran out, and still close cleanly.</summary>
public sealed class ReliableSendNoSinkProcessTests
{
    [Fact]
    public async Task Against_a_gateway_without_a_sink_send_exits_4_says_no_TradeAck_came_and_closes_with_1000()
    {
        (WsgwProcess serve, Uri url) = await WsgwProcess.StartServeAsync("--admin", "none", "--stats-interval", "0");
        using (serve)
        {
            using WsgwProcess send = await WsgwProcess.RunAsync("send", "--url", url.ToString(), "--reliable", "-n", "10", "--ack-timeout", "1");

            Assert.Equal(4, send.ExitCode);
            Assert.Contains("wsgw send: acknowledged 0 of 10 trades (no TradeAck received from the gateway, 0 reconnects)", send.Stdout);
            Assert.Contains(send.Stderr, l => l.Contains("10 of 10 trades not acknowledged", StringComparison.Ordinal)
                && l.Contains("only a gateway run with --sink acknowledges trades", StringComparison.Ordinal));

            // Giving up is still a close handshake, not a dropped connection.
            string session = await serve.WaitForStdoutAsync(l => l.StartsWith("Session stats:", StringComparison.Ordinal));
            Assert.EndsWith("closed 1000", session, StringComparison.Ordinal);
            await serve.StopAsync();
        }
    }
}
