using System.Diagnostics;
using WsGateway.Examples.Runner;

namespace WsGateway.Examples.Tests;

/// <summary>The Kafka example against librdkafka's mock cluster (no Kafka broker can be installed here): a broker
/// that cannot be reached is logged, the stop is bounded, and the counts are what happened.</summary>
public sealed partial class RunnerTests
{
    [Fact]
    public async Task Kafka_with_every_broker_down_logs_it_once_stops_within_its_deadline_and_counts_1000_received_0_stored_1000_not_stored()
    {
        using var cluster = new KafkaMockCluster();
        await using RunningExample example = await RunningExample.StartAsync("kafka", "--port", "0", "--bootstrap", cluster.BootstrapServers, "--topic", "example-trades");
        for (int broker = 1; broker <= 3; broker++)
        {
            cluster.SetDown(broker);
        }

        await TradeSender.SendInMessagesAsync(example.Url, 1000, 1, new Infrastructure.LineWriter());
        await example.Lines.WaitForLineAsync(l => l.Contains("brokers", StringComparison.Ordinal) && l.Contains("unreachable", StringComparison.Ordinal));
        await Task.Delay(1500); // librdkafka keeps retrying meanwhile: the log says it once

        var clock = Stopwatch.StartNew();
        int exit = await example.StopAsync();

        Assert.Equal(0, exit);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10 + 4), $"stopping took {clock.Elapsed} with a 10 s deadline");
        Assert.Single(example.Lines.Lines, l => l.Contains("unreachable", StringComparison.Ordinal));
        Assert.StartsWith("kafka: stopped; 1000 trades received, 0 stored, 1000 not stored, 0 acks sent", example.Lines.Lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kafka_with_no_broker_at_start_fails_before_listening_and_says_why()
    {
        var output = new Infrastructure.LineWriter();

        int exit = await ExampleRunner.RunAsync(["kafka", "--port", "0", "--bootstrap", "127.0.0.1:1", "--topic", "trades"], output, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(1, exit);
        Assert.DoesNotContain(output.Lines, l => l.Contains("listening on", StringComparison.Ordinal));
        Assert.StartsWith("kafka failed: kafka sink is not ready: brokers 127.0.0.1:1 unreachable: ", output.Lines[^1], StringComparison.Ordinal);
    }
}
