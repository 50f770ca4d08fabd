using NATS.Client.Core;
using NATS.Client.JetStream;
using WsGateway.Client;
using WsGateway.Sbe;
using WsGateway.Sinks.Nats;

namespace WsGateway.Sinks.Tests.Nats;

/// <summary>The gateway (in this process) with a sink pipeline into the three-node JetStream cluster, fed by
/// <see cref="ReliableTradeClient"/>s: what is stored, what is acknowledged, and a node killed in the middle.</summary>
[Collection(NatsClusterCollection.Name)]
public sealed class NatsSinkTests(NatsCluster cluster)
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Every_trade_is_stored_once_as_sent_and_acknowledged_to_its_client()
    {
        string stream = NewStreamName();
        const int Count = 5_000;
        await using SinkPipeline pipeline = CreatePipeline(stream);
        await using var server = new WebSocketServer("127.0.0.1:0", _ => pipeline.CreateHandler());
        await server.StartAsync();
        await using ReliableTradeClient client = await ReliableTradeClient.ConnectAsync(server.Url!);

        Trade[] trades = [.. Enumerable.Range(1, Count).Select(i => StreamContents.TradeFor(i))];
        for (int i = 0; i < Count; i += 50)
        {
            await client.SendAsync(trades.AsMemory(i, 50));
        }

        using var timeout = new CancellationTokenSource(s_wait);
        await client.WaitForAllAcknowledgedAsync(timeout.Token);
        Assert.Equal(Count, client.Acknowledged);
        Assert.Equal((ulong)Count, client.LastAcknowledgedTradeId);

        List<Trade> stored = await StreamContents.ReadAllAsync(cluster, stream);
        StreamContents.AssertExactlyOnce(stored, Count);
        Assert.All(stored, t => Assert.Equal(StreamContents.TradeFor((long)t.TradeId), t));

        // The stream was created by the sink with the options asked for.
        await using NatsConnection nats = cluster.Connect();
        INatsJSStream info = await new NatsJSContext(nats).GetStreamAsync(stream);
        Assert.Equal(3, info.Info.Config.NumReplicas);
        Assert.Equal(TimeSpan.FromMinutes(5), info.Info.Config.DuplicateWindow);
        Assert.Equal(Count, pipeline.GetStatus().TradesStored);
    }

    [Fact]
    public async Task Killing_the_stream_leader_with_sigkill_mid_stream_loses_and_doubles_nothing()
    {
        string stream = NewStreamName();
        const int Count = 30_000;
        await using SinkPipeline pipeline = CreatePipeline(stream);
        await using var server = new WebSocketServer("127.0.0.1:0", _ => pipeline.CreateHandler());
        await server.StartAsync();
        await using ReliableTradeClient client = await ReliableTradeClient.ConnectAsync(server.Url!);

        int killed = -1;
        try
        {
            for (int i = 1; i <= Count; i += 100)
            {
                Trade[] frame = [.. Enumerable.Range(i, 100).Select(id => StreamContents.TradeFor(id))];
                await client.SendAsync(frame);
                if (i == 10_001)
                {
                    // The leader holds the stream's writes: kill it while trades are in flight.
                    killed = await cluster.LeaderOfAsync(stream);
                    Assert.True(pipeline.GetStatus().InFlightTrades > 0 || client.Unacknowledged > 0, "nothing was in flight when the node was killed");
                    cluster.Kill(killed);
                }

                if (i % 1000 == 1)
                {
                    await Task.Delay(10); // spread the stream over time, so that part of it meets the election
                }
            }

            await WaitForAllAcknowledgedAsync(client, pipeline);
        }
        finally
        {
            if (killed >= 0)
            {
                cluster.Restart(killed);
            }
        }

        Assert.Equal(Count, client.Acknowledged);

        // The kill must have hit publishing (failed attempts, retried), or this test proved nothing.
        Assert.True(pipeline.GetStatus().Retries > 0, $"no publish failed after killing node n{killed}: {pipeline.GetStatus()}");
        await cluster.WaitForReplicasAsync(stream);
        List<Trade> stored = await StreamContents.ReadAllAsync(cluster, stream);
        StreamContents.AssertExactlyOnce(stored, Count);
    }

    /// <summary>Waits (bounded) and says where things stand when they do not arrive.</summary>
    internal static async Task WaitForAllAcknowledgedAsync(ReliableTradeClient client, SinkPipeline? pipeline)
    {
        using var timeout = new CancellationTokenSource(s_wait);
        try
        {
            await client.WaitForAllAcknowledgedAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"not every trade was acknowledged within {s_wait.TotalSeconds} s: client sent {client.Sent}, acknowledged {client.Acknowledged} ({client.AcknowledgementsReceived} acks); pipeline {pipeline?.GetStatus()}");
        }
    }

    private SinkPipeline CreatePipeline(string stream, SinkPipelineOptions? options = null)
        => new(
            new NatsJetStreamSink(new NatsSinkOptions
            {
                Url = cluster.Url,
                Stream = stream,
                Subject = stream.ToLowerInvariant(),
                Replicas = 3,
                DuplicateWindow = TimeSpan.FromMinutes(5),
                AckTimeout = TimeSpan.FromSeconds(2),
            }),
            options ?? new SinkPipelineOptions { RetryMaxDelay = TimeSpan.FromMilliseconds(500) });

    private static string NewStreamName() => "T" + Guid.NewGuid().ToString("N")[..10].ToUpperInvariant();
}
