using NATS.Client.Core;
using NATS.Client.JetStream;

namespace WsGateway.Examples.Tests;

/// <summary>The NATS example against a real single-node <c>nats-server -js</c> (installed by ./test.sh), fed by the
/// reliable client example.</summary>
public sealed partial class RunnerTests
{
    [Fact]
    public async Task Nats_stores_every_trade_in_the_stream_and_the_reliable_client_sees_them_acknowledged()
    {
        using var nats = NatsServerProcess.Start();
        await using RunningExample example = await RunningExample.StartAsync("nats", "--port", "0", "--nats", nats.Url, "--stream", "EXAMPLE", "--interval", "3600");

        var client = new Infrastructure.LineWriter();
        long acknowledged = await ReliableSender.SendAsync(example.Url, count: 2_500, batchSize: 100, client, TimeSpan.FromSeconds(5));

        Assert.Equal(2_500, acknowledged);
        string line = client.Lines.Single(l => l.Contains("acknowledged as stored", StringComparison.Ordinal));
        Assert.Contains("2500 trades acknowledged as stored (last trade id 2500", line, StringComparison.Ordinal);
        Assert.EndsWith(", 0 of them stored before)", line, StringComparison.Ordinal); // JetStream reports duplicates
        Assert.Equal(0, await example.StopAsync());
        Assert.StartsWith("nats: stopped; 2500 trades stored", example.Lines.Lines[^1], StringComparison.Ordinal);

        await using var connection = new NatsConnection(NatsOpts.Default with { Url = nats.Url });
        INatsJSStream stream = await new NatsJSContext(connection).GetStreamAsync("EXAMPLE");
        Assert.Equal(2_500L, (long)stream.Info.State.Messages);
    }
}
