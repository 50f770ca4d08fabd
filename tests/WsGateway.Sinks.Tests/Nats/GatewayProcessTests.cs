using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text.Json;
using WsGateway.Cli.Tests.Infrastructure;
using WsGateway.Client;
using WsGateway.Sbe;
using WsGateway.Sinks.Tests.Infrastructure;
using Xunit.Abstractions;

namespace WsGateway.Sinks.Tests.Nats;

/// <summary>
/// The real <c>wsgw serve --sink nats://...</c> process in front of the three-node JetStream cluster: killed with
/// SIGKILL in the middle of a stream and started again (the client resends what was not acknowledged), and a bounded
/// backpressure soak with the whole cluster stopped (SIGSTOP) for 4 s and started again (SIGCONT).
/// </summary>
[Collection(NatsClusterCollection.Name)]
public sealed class GatewayProcessTests(NatsCluster cluster, ITestOutputHelper output)
{
    private static readonly TimeSpan s_bounded = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData("trade")]
    [InlineData("frame")]
    public async Task Gateway_killed_mid_stream_and_restarted_the_client_resends_the_unacknowledged_and_each_trade_is_stored_once(string record)
    {
        string stream = "G" + Guid.NewGuid().ToString("N")[..10].ToUpperInvariant();
        int port = FreePorts.Take(1)[0];
        string[] serve = ServeArguments(port, stream, admin: "none", $"&record={record}");
        const int Count = 20_000;

        WsgwProcess gateway = await StartAsync(serve);
        long unacknowledgedAtKill = -1;
        long resent = -1;
        try
        {
            await using ReliableTradeClient client = await ReliableTradeClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/"));
            while (client.Sent < Count)
            {
                long next = client.Sent + 1;
                Trade[] frame = [.. Enumerable.Range((int)next, (int)Math.Min(100, Count - client.Sent)).Select(id => StreamContents.TradeFor(id))];
                try
                {
                    await client.SendAsync(frame);
                }
                catch (Exception e) when (e is WebSocketException or IOException or SocketException)
                {
                    // The gateway is gone: start it again and reconnect (bounded), then go on where Sent says.
                    Assert.True(unacknowledgedAtKill >= 0, $"the connection failed before the gateway was killed: {e}");
                    resent = await ReconnectAsync(client, () => gateway = Start(serve));
                    continue;
                }

                if (client.Sent >= 8_000 && unacknowledgedAtKill < 0)
                {
                    unacknowledgedAtKill = client.Unacknowledged;
                    gateway.Dispose(); // SIGKILL: no drain, no last acknowledgements
                }

                await Task.Delay(client.Sent % 1000 == 0 ? 5 : 0);
            }

            if (resent < 0)
            {
                // Every send after the kill may have gone into the socket buffer before the loss was seen.
                resent = await ReconnectAsync(client, () => gateway = Start(serve));
            }

            await NatsSinkTests.WaitForAllAcknowledgedAsync(client, pipeline: null);
            Assert.Equal(Count, client.Acknowledged);
        }
        finally
        {
            gateway.Dispose();
        }

        Assert.True(unacknowledgedAtKill > 0, "nothing was in flight when the gateway was killed: the test proved nothing");
        Assert.True(resent > 0, "the client had nothing to resend after the restart");
        List<Trade> stored = await StreamContents.ReadAllAsync(cluster, stream);
        StreamContents.AssertExactlyOnce(stored, Count);
    }

    /// <summary>Issue 17's reproduction: fast clients into a small in-flight bound, so that connections are paused and
    /// resumed all the time, on the real process and a real cluster; then the stream is read back.</summary>
    [Theory]
    [InlineData("trade")]
    [InlineData("frame")]
    public async Task Eight_fast_clients_against_a_small_in_flight_bound_every_trade_stored_once_and_acknowledged_to_its_own_client(string record)
    {
        string stream = "P" + Guid.NewGuid().ToString("N")[..10].ToUpperInvariant();
        int port = FreePorts.Take(1)[0];
        const int Clients = 8;
        const int TradesPerClient = 25_000;
        using WsgwProcess gateway = await StartAsync(ServeArguments(port, stream, admin: "none", $"&max-in-flight=2000&record={record}"));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var clock = Stopwatch.StartNew();
        string?[] problems = await Task.WhenAll(Enumerable.Range(1, Clients).Select(k => Pipeline.IntegrityStressTests.RunClientAsync(port, k, TradesPerClient, isStored: null, timeout.Token)));
        output.WriteLine($"{Clients * TradesPerClient} trades stored and acknowledged in {clock.ElapsedMilliseconds} ms");
        Assert.All(problems, Assert.Null);

        List<Trade> stored = await StreamContents.ReadAllAsync(cluster, stream);
        StreamContents.AssertExactlyOnce(stored, [.. Enumerable.Range(1, Clients).SelectMany(k => Enumerable.Range(1, TradesPerClient).Select(i => ((ulong)k * Pipeline.IntegrityStressTests.ClientIdBase) + (ulong)i))]);
        Assert.All(stored, t => Assert.Equal(t.TradeId / Pipeline.IntegrityStressTests.ClientIdBase, t.Quantity));
    }

    [Theory]
    [InlineData("trade")]
    [InlineData("frame")]
    public async Task Backpressure_soak_sink_down_and_up_clients_slow_down_memory_stays_bounded_every_trade_once(string record)
    {
        string stream = "S" + Guid.NewGuid().ToString("N")[..10].ToUpperInvariant();
        int[] ports = FreePorts.Take(2);
        const int MaxInFlight = 20_000;
        const int Clients = 2;
        WsgwProcess gateway = await StartAsync(ServeArguments(ports[0], stream, admin: $"127.0.0.1:{ports[1]}", $"&max-in-flight={MaxInFlight}&record={record}", "--log-level", "Information"));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ports[1]}/"), Timeout = TimeSpan.FromSeconds(5) };
        var rss = new RssSampler(gateway.Id);
        var clients = new ReliableTradeClient[Clients];
        using var stop = new CancellationTokenSource();
        var senders = new Task[Clients];
        try
        {
            for (int c = 0; c < Clients; c++)
            {
                clients[c] = await ReliableTradeClient.ConnectAsync(new Uri($"ws://127.0.0.1:{ports[0]}/"), new ReliableTradeClientOptions { MaxUnacknowledged = 4_000_000 });
                senders[c] = SendUntilStoppedAsync(clients[c], FirstId(c), stop.Token);
            }

            var phases = Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(2));
            long beforeOutage = clients.Sum(c => c.Sent);
            long rssBeforeOutage = rss.Current();
            // The whole cluster stopped (SIGSTOP: connections open, nothing answers) and, below, started again.
            for (int node = 0; node < 3; node++)
            {
                cluster.Freeze(node, stop: true);
            }

            // Sink down: the in-flight bound fills, the gateway stops reading, TCP fills up, the clients stall.
            // /health is polled throughout: a publish in flight fails only at its ack timeout (2 s here).
            (string status, long inFlight, string description) = await WatchHealthAsync(http, TimeSpan.FromSeconds(2), default);
            long stalledFrom = clients.Sum(c => c.Sent);
            (status, inFlight, description) = await WatchHealthAsync(http, TimeSpan.FromSeconds(2), (status, inFlight, description));
            long stalledTo = clients.Sum(c => c.Sent);
            long rssDuringOutage = rss.Max;

            for (int node = 0; node < 3; node++)
            {
                cluster.Freeze(node, stop: false);
            }

            // Back up: once the cluster has a leader again the sink reports healthy, and the clients go on for 2 s.
            var recovery = Stopwatch.StartNew();
            while ((await SinkHealthAsync(http)).Status != "Healthy")
            {
                Assert.True(recovery.Elapsed < s_bounded, $"the sink was not healthy {s_bounded.TotalSeconds} s after the cluster restarted");
                await Task.Delay(100);
            }

            TimeSpan recovered = recovery.Elapsed;
            long atRecovery = clients.Sum(c => c.Sent);

            // The clients go on: what the kernel buffered during the outage drains first, then their sends complete.
            while (clients.Sum(c => c.Sent) < stalledTo + 10_000 && recovery.Elapsed < s_bounded)
            {
                await Task.Delay(100);
            }

            TimeSpan resumed = recovery.Elapsed;
            await stop.CancelAsync();
            await Task.WhenAll(senders).WaitAsync(s_bounded);
            TimeSpan sending = phases.Elapsed;
            foreach (ReliableTradeClient client in clients)
            {
                await NatsSinkTests.WaitForAllAcknowledgedAsync(client, pipeline: null);
            }

            TimeSpan acknowledged = phases.Elapsed;

            (string statusAfter, long inFlightAfter, _) = await SinkHealthAsync(http);
            long final = clients.Sum(c => c.Sent);
            output.WriteLine($"sent: {beforeOutage} in 2 s before the outage, {stalledFrom} 2 s into it, {stalledTo} at its end (4 s), {atRecovery} when the sink was healthy again {recovered.TotalSeconds:0.0} s after the restart, sending again {resumed.TotalSeconds:0.0} s after it, {final} at the end; "
                + $"sink during the outage: {status}, {inFlight} in flight ({description}); gateway RSS {rssBeforeOutage >> 20} MiB before, at most {rssDuringOutage >> 20} MiB during, at most {rss.Max >> 20} MiB overall");

            // The clients were slowed down: hardly anything went out in the last 2 s of the outage, against what they
            // sent in the 2 s before it.
            Assert.True(stalledTo - stalledFrom < beforeOutage / 20, $"clients sent {stalledTo - stalledFrom} trades in 2 s with the sink down (before: {beforeOutage} in 2 s): no backpressure");
            Assert.True(status is "Degraded" or "Unhealthy", $"/health said the sink was {status} while it was down: {description}");
            // The bound plus one read per connection (docs/sinks.md): on the native transport a read is at most the
            // loop's 512 KiB receive buffer.
            const int OneRead = (512 * 1024) / Trade.EncodedSize;
            Assert.True(inFlight <= MaxInFlight + (Clients * OneRead), $"{inFlight} trades in flight with a bound of {MaxInFlight} (+ {OneRead} per connection)");
            Assert.True(rssDuringOutage - rssBeforeOutage < 150 * 1024 * 1024, $"gateway RSS grew from {rssBeforeOutage >> 20} MiB to {rssDuringOutage >> 20} MiB while the sink was down");
            Assert.Equal("Healthy", statusAfter);

            // The dashboard's data shows the sink: everything stored, nothing in flight, the outage's retries.
            using (JsonDocument stats = JsonDocument.Parse(await http.GetStringAsync("api/stats")))
            {
                JsonElement sink = stats.RootElement.GetProperty("sink");
                Assert.Equal("nats", sink.GetProperty("name").GetString());
                Assert.Equal(final, sink.GetProperty("stored").GetInt64()); // a retried batch counts once, when stored
                Assert.Equal(0, sink.GetProperty("inFlightTrades").GetInt64());
                Assert.True(sink.GetProperty("retries").GetInt64() > 0, "no retries while the cluster was stopped");
            }

            Assert.Equal(0, inFlightAfter);
            Assert.True(final >= stalledTo + 10_000, $"the clients did not go on after the sink came back: {final} sent, {stalledTo} at the end of the outage");

            var reading = Stopwatch.StartNew();
            await cluster.WaitForReplicasAsync(stream);
            List<Trade> stored = await StreamContents.ReadAllAsync(cluster, stream);
            output.WriteLine($"sending {sending.TotalSeconds:0.0} s, all acknowledged at {acknowledged.TotalSeconds:0.0} s; read {stored.Count} trades back in {reading.Elapsed.TotalSeconds:0.0} s");
            var expected = new HashSet<ulong>();
            for (int c = 0; c < Clients; c++)
            {
                for (long i = 0; i < clients[c].Sent; i++)
                {
                    expected.Add(FirstId(c) + (ulong)i);
                }
            }

            StreamContents.AssertExactlyOnce(stored, expected);
        }
        finally
        {
            await stop.CancelAsync();
            for (int node = 0; node < 3; node++)
            {
                cluster.Freeze(node, stop: false);
            }

            foreach (ReliableTradeClient? client in clients)
            {
                if (client is not null)
                {
                    await client.DisposeAsync();
                }
            }

            rss.Dispose();
            gateway.Dispose();
            foreach (string line in gateway.Stderr.Where(l => l.Contains("Sink", StringComparison.Ordinal)).Take(40))
            {
                output.WriteLine(line);
            }
        }
    }

    private static ulong FirstId(int client) => ((ulong)client * 1_000_000_000) + 1;

    private static async Task SendUntilStoppedAsync(ReliableTradeClient client, ulong firstId, CancellationToken stop)
    {
        var frame = new Trade[100];
        while (!stop.IsCancellationRequested)
        {
            ulong id = firstId + (ulong)client.Sent;
            for (int i = 0; i < frame.Length; i++)
            {
                frame[i] = new Trade(id + (ulong)i, (byte)'S', 100.25, 10);
            }

            // Not cancelled by stop: a send blocked by backpressure completes once the sink is back.
            await client.SendAsync(frame);
        }
    }

    /// <summary>Polls /health for <paramref name="duration"/>: the worst status seen (with its description) and the
    /// most trades in flight.</summary>
    private static async Task<(string Status, long InFlight, string Description)> WatchHealthAsync(
        HttpClient http, TimeSpan duration, (string? Status, long InFlight, string? Description) seen)
    {
        static int Rank(string? status) => status switch { "Unhealthy" => 2, "Degraded" => 1, _ => 0 };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            (string status, long inFlight, string description) = await SinkHealthAsync(http);
            if (seen.Status is null || Rank(status) > Rank(seen.Status))
            {
                seen = (status, seen.InFlight, description);
            }

            seen.InFlight = Math.Max(seen.InFlight, inFlight);
            await Task.Delay(200);
        }

        return (seen.Status!, seen.InFlight, seen.Description!);
    }

    private static async Task<(string Status, long InFlight, string Description)> SinkHealthAsync(HttpClient http)
    {
        using HttpResponseMessage response = await http.GetAsync("health");
        using JsonDocument health = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        JsonElement sink = health.RootElement.GetProperty("checks").GetProperty("sink");
        return (sink.GetProperty("status").GetString()!, sink.GetProperty("data").GetProperty("inFlightTrades").GetInt64(), sink.GetProperty("description").GetString()!);
    }

    private string[] ServeArguments(int port, string stream, string admin, string extra = "", params string[] more)
        => ["serve", "--listen", $"127.0.0.1:{port}", "--admin", admin, "--stats-interval", "0",
            "--sink", $"nats://{cluster.Hosts}?stream={stream}&subject={stream.ToLowerInvariant()}&replicas=3&ack-timeout=2s{extra}", .. more];

    private static WsgwProcess Start(string[] serve) => WsgwProcess.Start(serve);

    private static async Task<WsgwProcess> StartAsync(string[] serve)
    {
        WsgwProcess gateway = WsgwProcess.Start(serve);
        await gateway.WaitForStderrAsync(l => l.Contains("listening on", StringComparison.Ordinal));
        return gateway;
    }

    /// <summary>Starts the gateway again and reconnects (bounded); returns how many trades were resent.</summary>
    private static async Task<long> ReconnectAsync(ReliableTradeClient client, Func<WsgwProcess> restart)
    {
        WsgwProcess gateway = restart();
        await gateway.WaitForStderrAsync(l => l.Contains("listening on", StringComparison.Ordinal));
        var clock = Stopwatch.StartNew();
        while (true)
        {
            long unacknowledged = client.Unacknowledged;
            try
            {
                await client.ReconnectAsync();
                return unacknowledged;
            }
            catch (Exception e) when ((e is SocketException or IOException or WebSocketException) && clock.Elapsed < s_bounded)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>Samples a process's resident set size every 100 ms.</summary>
    private sealed class RssSampler : IDisposable
    {
        private readonly int _pid;
        private readonly Timer _timer;
        private long _max;

        public RssSampler(int pid)
        {
            _pid = pid;
            _timer = new Timer(_ => Sample(), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(100));
        }

        public long Max => Interlocked.Read(ref _max);

        public long Current()
        {
            foreach (string line in File.ReadLines($"/proc/{_pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
                }
            }

            return 0;
        }

        public void Dispose() => _timer.Dispose();

        private void Sample()
        {
            try
            {
                long value = Current();
                long max;
                while (value > (max = Interlocked.Read(ref _max)) && Interlocked.CompareExchange(ref _max, value, max) != max)
                {
                }
            }
            catch (IOException)
            {
            }
        }
    }
}
