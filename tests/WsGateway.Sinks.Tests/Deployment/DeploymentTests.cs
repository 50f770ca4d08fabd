using System.Diagnostics;
using System.Globalization;
using WsGateway.Sbe;
using WsGateway.Sinks.Tests.Infrastructure;
using WsGateway.Sinks.Tests.Nats;
using Xunit.Abstractions;

namespace WsGateway.Sinks.Tests.Deployment;

/// <summary>
/// Several gateways behind HAProxy over one three-node JetStream cluster (R3), as docs/deployment.md describes, with
/// real processes: <c>wsgw serve</c> ×3, <c>haproxy</c> running deploy/haproxy.cfg, <c>nats-server</c> ×3. Clients
/// send through the balancer; gateways are killed, stopped and upgraded under them; then the stream is read back:
/// every trade stored exactly once and in each client's order.
/// </summary>
[Collection(NatsClusterCollection.Name)]
public sealed class DeploymentTests(NatsCluster cluster, ITestOutputHelper output)
{
    private const int Clients = 12;
    private const int Batch = 10;
    private static readonly TimeSpan s_pace = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Through_haproxy_one_gateway_killed_then_another_stopped_mid_stream_every_trade_is_stored_once_in_order_and_every_client_finishes()
    {
        string stream = NewStream("F");
        ClientRun[] runs = await KillAndStopAsync(NatsSink(stream), output);
        await AssertStoredOnceInOrderAsync(stream, runs);
    }

    /// <summary>Three gateways behind HAProxy storing into <paramref name="sink"/>; clients send through the
    /// balancer; after 1.5 s gateway 0 is SIGKILLed, 2 s later gateway 1 gets SIGTERM (drain, close 1001, exit 0); the
    /// clients go on on gateway 2 and finish. Returns what each client sent, all of it acknowledged.</summary>
    internal static async Task<ClientRun[]> KillAndStopAsync(string sink, ITestOutputHelper output)
    {
        using GatewayFleet fleet = await StartFleetAsync(sink);
        using Haproxy haproxy = await StartBalancerAsync(fleet);
        using var stopSending = new CancellationTokenSource();
        using var deadline = new CancellationTokenSource(s_deadline);
        Task<ClientRun>[] clients = StartClients(haproxy, stopSending.Token, deadline.Token);

        await Task.Delay(TimeSpan.FromSeconds(1.5));
        fleet.Kill(0); // SIGKILL mid-stream: its clients' unacknowledged trades are resent through the balancer
        await Task.Delay(TimeSpan.FromSeconds(2));
        (int exit, IReadOnlyList<string> stderr) = await fleet.StopAsync(1); // SIGTERM: drain, close 1001
        Assert.True(exit == 0, $"the stopped gateway exited {exit}:\n{string.Join('\n', stderr)}");
        Assert.Contains(stderr, l => l.Contains("shutting down (closing connections with 1001)", StringComparison.Ordinal));
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        await stopSending.CancelAsync();

        ClientRun[] runs = await Task.WhenAll(clients);
        Report("kill + stop", runs, haproxy, output);
        Assert.All(runs, r => Assert.Null(r.Problem));
        Assert.True(runs.Sum(r => r.Reconnects) >= 2, "no client had to fail over: the test proved nothing");
        return runs;
    }

    [Fact]
    public async Task Rolling_upgrade_with_a_jetstream_node_killed_during_it_loses_and_duplicates_nothing()
    {
        string stream = NewStream("R");
        using GatewayFleet fleet = await StartFleetAsync(NatsSink(stream));
        using Haproxy haproxy = await StartBalancerAsync(fleet);
        using var stopSending = new CancellationTokenSource();
        using var deadline = new CancellationTokenSource(s_deadline);
        Task<ClientRun>[] clients = StartClients(haproxy, stopSending.Token, deadline.Token);
        int killedNode = -1;
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            var upgrade = Stopwatch.StartNew();
            for (int gateway = 0; gateway < fleet.Addresses.Length; gateway++)
            {
                (int exit, IReadOnlyList<string> stderr) = await fleet.StopAsync(gateway);
                Assert.True(exit == 0, $"gateway {gateway} exited {exit} when stopped for its upgrade:\n{string.Join('\n', stderr)}");
                if (gateway == 1)
                {
                    // The stream's leader goes down while a gateway is being upgraded: R3 keeps a quorum of two.
                    killedNode = await cluster.LeaderOfAsync(stream);
                    cluster.Kill(killedNode);
                }

                await fleet.StartAsync(gateway);
                await Task.Delay(TimeSpan.FromSeconds(2.5)); // HAProxy's rise: 2 good checks, 1 s apart

                // The procedure docs/deployment.md gives: the next gateway only once every gateway's sink is Healthy
                // (after a JetStream node died, once the stream has a leader again and the backlog is stored).
                await fleet.WaitAllHealthyAsync(TimeSpan.FromSeconds(60));
            }

            output.WriteLine($"rolling upgrade of 3 gateways took {upgrade.Elapsed.TotalSeconds:0.0} s; JetStream node n{killedNode} (the stream's leader) was killed during it");
            await stopSending.CancelAsync();
            ClientRun[] runs = await Task.WhenAll(clients);
            Report("rolling upgrade", runs, haproxy, output);
            Assert.All(runs, r => Assert.Null(r.Problem));
            Assert.True(runs.Sum(r => r.Reconnects) >= Clients, $"only {runs.Sum(r => r.Reconnects)} reconnects for {Clients} clients over three gateway restarts");

            cluster.Restart(killedNode);
            await cluster.WaitForReplicasAsync(stream);
            await AssertStoredOnceInOrderAsync(stream, runs);
        }
        finally
        {
            await stopSending.CancelAsync();
            if (killedNode >= 0)
            {
                cluster.Restart(killedNode, ifKilled: true);
                await cluster.WaitForJetStreamAsync();
            }
        }
    }

    private static string NewStream(string prefix) => prefix + Guid.NewGuid().ToString("N")[..10].ToUpperInvariant();

    /// <summary>The JetStream sink of every gateway: the cluster's three nodes, three replicas; concurrency=1: one batch in
    /// flight per gateway, so each client's trades are stored in the order it sent them (docs/sinks.md, Order); a resend
    /// after a failover stores only what the stream does not hold yet.</summary>
    private string NatsSink(string stream)
        => $"nats://{cluster.Hosts}?stream={stream}&subject={stream.ToLowerInvariant()}&replicas=3&ack-timeout=2s&concurrency=1";

    private static async Task<GatewayFleet> StartFleetAsync(string sink)
    {
        var fleet = new GatewayFleet(3, a =>
        [
            "serve", "--listen", $"127.0.0.1:{a.Port}", "--admin", $"127.0.0.1:{a.Admin}", "--stats-interval", "0", "--sink", sink,
        ]);
        for (int i = 0; i < 3; i++)
        {
            await fleet.StartAsync(i); // one by one: the first creates the stream or table, the others find it
        }

        return fleet;
    }

    private static async Task<Haproxy> StartBalancerAsync(GatewayFleet fleet)
    {
        int port = FreePorts.Take(1)[0];
        Haproxy haproxy = await Haproxy.StartAsync(Haproxy.Render(Haproxy.Template(), port, fleet.Addresses), port);
        await Task.Delay(TimeSpan.FromSeconds(2.5)); // every server's first checks
        return haproxy;
    }

    private static Task<ClientRun>[] StartClients(Haproxy haproxy, CancellationToken stopSending, CancellationToken deadline)
        => [.. Enumerable.Range(1, Clients).Select(k => Task.Run(() => FailoverClient.RunAsync(haproxy.Url, [], k, Batch, s_pace, stopSending, deadline), CancellationToken.None))];

    private static void Report(string scenario, ClientRun[] runs, Haproxy haproxy, ITestOutputHelper output)
    {
        foreach (string line in haproxy.Log)
        {
            output.WriteLine("haproxy: " + line);
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{scenario}: {runs.Sum(r => r.Sent)} trades from {runs.Length} clients, {runs.Sum(r => r.Reconnects)} reconnects; longest stall per client (ms): {string.Join(' ', runs.Select(r => (int)r.LongestStall.TotalMilliseconds))}; median {Median(runs.Select(r => r.LongestStall.TotalMilliseconds)):0} ms, max {runs.Max(r => r.LongestStall.TotalMilliseconds):0} ms"));
    }

    private static double Median(IEnumerable<double> values)
    {
        double[] sorted = [.. values.Order()];
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>The stream holds every trade each client sent exactly once, and each client's trades in the order
    /// it sent them.</summary>
    private async Task AssertStoredOnceInOrderAsync(string stream, ClientRun[] runs)
    {
        var reading = Stopwatch.StartNew();
        List<Trade> stored = await StreamContents.ReadAllAsync(cluster, stream);
        var expected = new HashSet<ulong>();
        foreach (ClientRun run in runs)
        {
            for (long i = 0; i < run.Sent; i++)
            {
                expected.Add(run.FirstId + (ulong)i);
            }
        }

        StreamContents.AssertExactlyOnce(stored, expected);
        var last = new Dictionary<ulong, ulong>();
        foreach (Trade trade in stored)
        {
            ulong client = trade.TradeId / ClientRun.IdBase;
            if (last.TryGetValue(client, out ulong previous))
            {
                Assert.True(trade.TradeId > previous, $"client {client}: trade {trade.TradeId} stored after {previous}");
            }

            last[client] = trade.TradeId;
        }

        output.WriteLine($"{stored.Count} trades read back in {reading.Elapsed.TotalSeconds:0.0} s: each once, in each client's order");
    }
}
