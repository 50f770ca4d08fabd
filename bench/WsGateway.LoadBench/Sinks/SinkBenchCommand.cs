using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using WsGateway.Client;
using WsGateway.Sbe;
using WsGateway.Testing;

namespace WsGateway.LoadBench.Sinks;

/// <summary>
/// <c>WsGateway.LoadBench sinks</c>: for each engine (JetStream, PostgreSQL, Kafka), the gateway storing and
/// acknowledging trades through its sink against the engine's own client on the same server, in the same run, medians
/// of <c>--runs</c>; allocations per trade in the gateway; the <c>TradeAck</c> round trip against the engine's bare
/// round trip; and, for JetStream, the server's memory while the engine is stopped and clients keep sending. Starts
/// the engines itself (see each <see cref="ISinkEngine"/>).
/// </summary>
internal static class SinkBenchCommand
{
    public static Command Create()
    {
        Option<string[]> engines = new("--engines") { Description = "Engines to measure, in order", DefaultValueFactory = _ => [.. SinkEngines.Names], AllowMultipleArgumentsPerToken = true };
        engines.AcceptOnlyFromAmong([.. SinkEngines.Names]);
        Option<int> runs = new("--runs") { Description = "Measured runs of each throughput configuration; medians are reported", DefaultValueFactory = _ => 3 };
        Option<double> duration = new("--duration") { Description = "Seconds measured per throughput run (after 1 s of warm-up)", DefaultValueFactory = _ => 4.0 };
        Option<int> connections = new("--connections") { Description = "Client connections sending at once", DefaultValueFactory = _ => 4 };
        Option<int> batch = new("--batch") { Description = "Trades per frame", DefaultValueFactory = _ => 64 };
        Option<int> roundTrips = new("--round-trips") { Description = "Trades sent one at a time, each waiting for its TradeAck (latency)", DefaultValueFactory = _ => 2_000 };
        Option<double> outage = new("--outage") { Description = "Seconds the JetStream server is stopped (SIGSTOP) while clients keep sending (memory); 0 skips it", DefaultValueFactory = _ => 5.0 };
        Option<string?> nats = new("--nats") { Description = "A JetStream server or cluster to use instead of starting nats-server (no outage measurement then)" };
        Option<int> replicas = new("--replicas") { Description = "Replicas of the JetStream streams; without --nats, 3 starts a three-node cluster here", DefaultValueFactory = _ => 1 };
        Option<bool> quick = new("--quick") { Description = "Tiny sizes and one run: checks that everything works, measures nothing worth quoting" };

        Command command = new("sinks", "Each sink (acks on) against its engine's own client on the same server, same run; allocations per trade; TradeAck round trip; memory with JetStream down")
        {
            engines, runs, duration, connections, batch, roundTrips, outage, nats, replicas, quick,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            bool isQuick = result.GetValue(quick);
            var settings = new SinkBenchSettings(
                isQuick ? 1 : Math.Max(1, result.GetValue(runs)),
                isQuick ? 0.5 : Math.Max(0.5, result.GetValue(duration)),
                Math.Max(1, result.GetValue(connections)),
                Math.Max(1, result.GetValue(batch)),
                isQuick ? 100 : Math.Max(10, result.GetValue(roundTrips)),
                isQuick ? 1.0 : Math.Max(0, result.GetValue(outage)));
            var text = new StringBuilder();
            text.AppendLine(CultureInfo.InvariantCulture, $"Sinks ({settings.Connections} connections, {settings.Batch} trades/frame, {settings.Runs} runs of {settings.Duration:0.#} s, medians; {Environment.ProcessorCount} cores, shared and noisy)");
            text.AppendLine("| engine | configuration | records or trades/s (median) | runs | ratio | gateway B/trade |");
            text.AppendLine("|---|---|---:|---|---:|---:|");
            var latency = new StringBuilder();
            string tag = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
            foreach (string name in result.GetValue(engines)!)
            {
                await using ISinkEngine engine = await SinkEngines.StartAsync(name, result.GetValue(nats), result.GetValue(replicas), cancellationToken).ConfigureAwait(false);
                Console.Error.WriteLine($"sinks: {name}: {engine.Server}");
                var baseline = new List<double>();
                var modes = new List<(string Label, string Query, List<double> Rates, List<double> Allocated)>();
                foreach ((string label, string query) in SinkEngines.Modes(name))
                {
                    modes.Add((label, query, [], []));
                }

                for (int run = 1; run <= settings.Runs; run++)
                {
                    baseline.Add(await engine.BaselineAsync($"bench_base_{run}_{tag}", settings, cancellationToken).ConfigureAwait(false));
                    Console.Error.WriteLine($"sinks: {name}: run {run}: {engine.Baseline}: {baseline[^1]:N0}/s");
                    for (int m = 0; m < modes.Count; m++)
                    {
                        string uri = engine.SinkUri($"bench_sink_{m}_{run}_{tag}", modes[m].Query);
                        (double rate, double allocated) = await ThroughputAsync(uri, settings, cancellationToken).ConfigureAwait(false);
                        modes[m].Rates.Add(rate);
                        modes[m].Allocated.Add(allocated);
                        Console.Error.WriteLine($"sinks: {name}: run {run}: sink, {modes[m].Label}: {rate:N0} trades/s acknowledged, {allocated:0.#} B/trade");
                    }
                }

                double baseRate = Median(baseline);
                text.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {engine.Baseline} (the engine's own client; records/s) | {baseRate:N0} | {Runs(baseline)} | 1.00 | |");
                foreach ((string label, _, List<double> rates, List<double> allocated) in modes)
                {
                    text.AppendLine(CultureInfo.InvariantCulture, $"| {name} | gateway + sink, {label}, stored and acknowledged (trades/s) | {Median(rates):N0} | {Runs(rates)} | {Median(rates) / baseRate:0.00}x | {Median(allocated):0.#} |");
                }

                (LatencyRecorder acked, LatencyRecorder bare) = await RoundTripsAsync(engine, settings.RoundTrips, tag, cancellationToken).ConfigureAwait(false);
                latency.AppendLine(CultureInfo.InvariantCulture, $"{name}: TradeAck round trip (one trade, wait for its ack; {settings.RoundTrips} trades) p50 {acked.Percentile(50):0} µs, p99 {acked.Percentile(99):0} µs, max {acked.Max:0} µs; "
                    + $"the engine's bare round trip p50 {bare.Percentile(50):0} µs, p99 {bare.Percentile(99):0} µs: {acked.Percentile(50) / bare.Percentile(50):0.0}x and {acked.Percentile(99) / bare.Percentile(99):0.0}x");
                if (engine is NatsEngine { Own: { } own } natsEngine && settings.Outage > 0)
                {
                    Outage o = await OutageAsync(natsEngine.SinkUri($"bench_down_{tag}", string.Empty), own, settings, cancellationToken).ConfigureAwait(false);
                    latency.AppendLine(CultureInfo.InvariantCulture, $"nats: down {settings.Outage:0.#} s with {settings.Connections} clients sending: server working set {o.Before >> 20} MiB before, at most {o.Max >> 20} MiB during; "
                        + $"the gateway took {o.ReceivedDuring:N0} trades during the outage (bound 100,000 in flight), clients sent {o.SentLastHalf:N0} in its second half; all {o.Total:N0} acknowledged {o.Recovery:0.0} s after the sink came back");
                }
            }

            Console.WriteLine();
            Console.Write(text.ToString());
            Console.Write(latency.ToString());
            return 0;
        });
        return command;
    }

    private static string Runs(List<double> values) => string.Join(", ", values.Select(v => v.ToString("N0", CultureInfo.InvariantCulture)));

    private static double Median(List<double> values)
    {
        double[] sorted = [.. values.Order()];
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>Trades per second acknowledged to the clients over the measured window, and the bytes the gateway
    /// allocated per trade meanwhile.</summary>
    private static async Task<(double Rate, double AllocatedPerTrade)> ThroughputAsync(string sink, SinkBenchSettings settings, CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync("gateway", "count", false, null, cancellationToken, "--sink", sink).ConfigureAwait(false);
        var url = new Uri($"ws://127.0.0.1:{server.EndPoint.Port}/");
        using var stop = new CancellationTokenSource();
        var clients = new ReliableTradeClient[settings.Connections];
        var senders = new Task[settings.Connections];
        for (int c = 0; c < settings.Connections; c++)
        {
            clients[c] = await ReliableTradeClient.ConnectAsync(url, new ReliableTradeClientOptions { MaxUnacknowledged = 2_000_000, MaxTradesPerFrame = settings.Batch }, cancellationToken).ConfigureAwait(false);
            ReliableTradeClient client = clients[c];
            ulong first = ((ulong)c << 40) + 1;
            senders[c] = Task.Run(() => SendReliableAsync(client, first, settings.Batch, stop.Token), CancellationToken.None);
        }

        // Warm-up: a second, and until the sink has acknowledged something (it creates its stream, table or topic
        // first), so that the measured window is the sink at work.
        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
        var warming = Stopwatch.StartNew();
        while (clients.Sum(r => r.Acknowledged) == 0 && warming.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }

        ServerStats statsBefore = await server.StatsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        long before = clients.Sum(r => r.Acknowledged);
        var clock = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(settings.Duration), cancellationToken).ConfigureAwait(false);

        // A short window (--quick) can fall inside one backpressure pause of a loaded machine: it lasts until the sink
        // has acknowledged something in it (at most 30 s more), so that a rate of 0 means a sink that stopped.
        while (clients.Sum(r => r.Acknowledged) == before && clock.Elapsed < TimeSpan.FromSeconds(settings.Duration + 30))
        {
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }

        long after = clients.Sum(r => r.Acknowledged);
        double elapsed = clock.Elapsed.TotalSeconds;
        ServerStats statsAfter = await server.StatsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(senders).WaitAsync(TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
        foreach (ReliableTradeClient client in clients)
        {
            await client.DisposeAsync().ConfigureAwait(false);
        }

        // Per trade stored and acknowledged in the window: what the gateway received meanwhile can be nothing (paused
        // at the in-flight bound for the whole window) while it still stores and acknowledges what it holds.
        long trades = Math.Max(1, after - before);
        return ((after - before) / elapsed, (statsAfter.AllocatedBytes - statsBefore.AllocatedBytes) / (double)trades);
    }

    private static async Task SendReliableAsync(ReliableTradeClient client, ulong firstId, int batch, CancellationToken stop)
    {
        var frame = new Trade[batch * 16];
        while (!stop.IsCancellationRequested)
        {
            ulong id = firstId + (ulong)client.Sent;
            for (int i = 0; i < frame.Length; i++)
            {
                frame[i] = new Trade(id + (ulong)i, (byte)'B', 100.5, 10);
            }

            await client.SendAsync(frame, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>One trade at a time, each waiting for its TradeAck: µs percentiles of the round trip.</summary>
    private static async Task<(LatencyRecorder Acked, LatencyRecorder Bare)> RoundTripsAsync(ISinkEngine engine, int count, string tag, CancellationToken cancellationToken)
    {
        // In alternating chunks, so that both see the same moments of a shared, noisy machine.
        const int Chunk = 100;
        var acked = new LatencyRecorder(count);
        var bare = new LatencyRecorder(count);
        await using ServerProcess server = await ServerProcess.StartAsync("gateway", "count", false, null, cancellationToken, "--sink", engine.SinkUri($"bench_sink_rt_{tag}", string.Empty)).ConfigureAwait(false);
        await using ReliableTradeClient client = await ReliableTradeClient.ConnectAsync(new Uri($"ws://127.0.0.1:{server.EndPoint.Port}/"), cancellationToken: cancellationToken).ConfigureAwait(false);
        await RoundTripAsync(client, new LatencyRecorder(Chunk), cancellationToken).ConfigureAwait(false); // warm-up
        for (int chunk = 0; acked.Count < count; chunk++)
        {
            var sink = new LatencyRecorder(Math.Min(Chunk, count - acked.Count));
            await RoundTripAsync(client, sink, cancellationToken).ConfigureAwait(false);
            acked.Add(sink);
            var own = new LatencyRecorder(sink.Capacity);
            await engine.BaselineRoundTripAsync($"bench_base_rt_{chunk}_{tag}", own, cancellationToken).ConfigureAwait(false);
            bare.Add(own);
        }

        return (acked, bare);
    }

    /// <summary>One trade at a time, each waiting for its TradeAck, until <paramref name="recorder"/> is full.</summary>
    private static async Task RoundTripAsync(ReliableTradeClient client, LatencyRecorder recorder, CancellationToken cancellationToken)
    {
        while (recorder.Count < recorder.Capacity)
        {
            long started = Stopwatch.GetTimestamp();
            await client.SendAsync(new Trade((ulong)client.Sent + 1, (byte)'L', 1.5, 1), cancellationToken).ConfigureAwait(false);
            await client.WaitForAcknowledgementAsync(client.Sent, cancellationToken).ConfigureAwait(false);
            recorder.Record(Stopwatch.GetTimestamp() - started);
        }
    }

    private readonly record struct Outage(long Before, long Max, long ReceivedDuring, long SentLastHalf, long Total, double Recovery);

    /// <summary>Clients send; the nats-server is stopped (SIGSTOP) for the outage, then continued: the server's working
    /// set, what it took in meanwhile, and what the clients managed to send.</summary>
    private static async Task<Outage> OutageAsync(string sink, NatsServerProcess nats, SinkBenchSettings settings, CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync("gateway", "count", false, null, cancellationToken, "--sink", sink).ConfigureAwait(false);
        var url = new Uri($"ws://127.0.0.1:{server.EndPoint.Port}/");
        using var stop = new CancellationTokenSource();
        var clients = new ReliableTradeClient[settings.Connections];
        var senders = new Task[settings.Connections];
        for (int c = 0; c < clients.Length; c++)
        {
            clients[c] = await ReliableTradeClient.ConnectAsync(url, new ReliableTradeClientOptions { MaxUnacknowledged = 4_000_000, MaxTradesPerFrame = settings.Batch }, cancellationToken).ConfigureAwait(false);
            ReliableTradeClient client = clients[c];
            ulong first = ((ulong)c << 40) + 1;
            senders[c] = Task.Run(() => SendReliableAsync(client, first, settings.Batch, stop.Token), CancellationToken.None);
        }

        await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
        ServerStats before = await server.StatsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        nats.Signal("STOP");
        long max = before.WorkingSetBytes;
        long sentHalf = 0;
        var clock = Stopwatch.StartNew();
        ServerStats last = before;
        while (clock.Elapsed.TotalSeconds < settings.Outage)
        {
            await Task.Delay(250, cancellationToken).ConfigureAwait(false);
            last = await server.StatsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            max = Math.Max(max, last.WorkingSetBytes);
            if (sentHalf == 0 && clock.Elapsed.TotalSeconds >= settings.Outage / 2)
            {
                sentHalf = clients.Sum(c => c.Sent);
            }
        }

        long sentEnd = clients.Sum(c => c.Sent);
        nats.Signal("CONT");
        var recovery = Stopwatch.StartNew();
        await stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(senders).WaitAsync(TimeSpan.FromSeconds(120), cancellationToken).ConfigureAwait(false);
        foreach (ReliableTradeClient client in clients)
        {
            await client.WaitForAllAcknowledgedAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(120), cancellationToken).ConfigureAwait(false);
        }

        double recovered = recovery.Elapsed.TotalSeconds;
        long total = clients.Sum(c => c.Acknowledged);
        foreach (ReliableTradeClient client in clients)
        {
            await client.DisposeAsync().ConfigureAwait(false);
        }

        return new Outage(before.WorkingSetBytes, max, last.Messages - before.Messages, sentEnd - sentHalf, total, recovered);
    }
}
