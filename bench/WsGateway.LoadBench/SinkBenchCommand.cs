using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using WsGateway.Client;
using WsGateway.Sbe;
using WsGateway.Testing;

namespace WsGateway.LoadBench;

/// <summary>
/// <c>WsGateway.LoadBench sinks</c>: the gateway with a NATS JetStream sink (acknowledgements on) against the gateway
/// with no sink, in the same run, medians of <c>--runs</c>; the round trip from a trade sent to its <c>TradeAck</c>;
/// and the server's memory while the sink is down and clients keep sending. Starts its own <c>nats-server -js</c>
/// (single node, file storage, in a temp folder) unless <c>--nats</c> names one.
/// </summary>
internal static class SinkBenchCommand
{
    public static Command Create()
    {
        Option<int> runs = new("--runs") { Description = "Measured runs of each throughput configuration; medians are reported", DefaultValueFactory = _ => 3 };
        Option<double> duration = new("--duration") { Description = "Seconds measured per throughput run (after 1 s of warm-up)", DefaultValueFactory = _ => 4.0 };
        Option<int> connections = new("--connections") { Description = "Client connections sending at once", DefaultValueFactory = _ => 4 };
        Option<int> batch = new("--batch") { Description = "Trades per frame", DefaultValueFactory = _ => 64 };
        Option<int> roundTrips = new("--round-trips") { Description = "Trades sent one at a time, each waiting for its TradeAck (latency)", DefaultValueFactory = _ => 2_000 };
        Option<double> outage = new("--outage") { Description = "Seconds the sink is stopped (SIGSTOP) while clients keep sending (memory)", DefaultValueFactory = _ => 5.0 };
        Option<string?> nats = new("--nats") { Description = "A JetStream server or cluster to use instead of starting nats-server (no outage measurement then)" };
        Option<bool> quick = new("--quick") { Description = "Tiny sizes and one run: checks that everything works, measures nothing worth quoting" };

        Command command = new("sinks", "The gateway with a NATS JetStream sink (acks on) against no sink, same run; TradeAck round trip; memory with the sink down")
        {
            runs, duration, connections, batch, roundTrips, outage, nats, quick,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            bool isQuick = result.GetValue(quick);
            var settings = new Settings(
                isQuick ? 1 : Math.Max(1, result.GetValue(runs)),
                isQuick ? 0.5 : Math.Max(0.5, result.GetValue(duration)),
                Math.Max(1, result.GetValue(connections)),
                Math.Max(1, result.GetValue(batch)),
                isQuick ? 100 : Math.Max(10, result.GetValue(roundTrips)),
                isQuick ? 1.0 : Math.Max(1, result.GetValue(outage)));
            string? external = result.GetValue(nats);
            using NatsServerProcess? own = external is null ? NatsServerProcess.Start() : null;
            string url = external ?? own!.Url;
            Console.Error.WriteLine($"sinks: JetStream at {url}{(own is null ? string.Empty : " (nats-server started here, single node, file storage)")}");

            var noSink = new List<double>();
            var withNats = new List<double>();
            var publisher = new List<double>();
            for (int run = 1; run <= settings.Runs; run++)
            {
                noSink.Add(await ThroughputAsync(null, settings, cancellationToken).ConfigureAwait(false));
                Console.Error.WriteLine($"sinks: run {run}: no sink {noSink[^1]:N0} trades/s");
                publisher.Add(await PublisherAsync(url, $"BENCHPUB{run}_{Environment.ProcessId}", settings, cancellationToken).ConfigureAwait(false));
                Console.Error.WriteLine($"sinks: run {run}: NATS.Net async publisher {publisher[^1]:N0} msgs/s acknowledged");
                withNats.Add(await ThroughputAsync(Sink(url, $"BENCH{run}_{Environment.ProcessId}"), settings, cancellationToken).ConfigureAwait(false));
                Console.Error.WriteLine($"sinks: run {run}: nats {withNats[^1]:N0} trades/s acknowledged");
            }

            (double p50, double p99, double max) = await RoundTripAsync(Sink(url, $"BENCHRT_{Environment.ProcessId}"), settings, cancellationToken).ConfigureAwait(false);
            Outage? down = own is null ? null : await OutageAsync(Sink(url, $"BENCHDOWN_{Environment.ProcessId}"), own, settings, cancellationToken).ConfigureAwait(false);

            var text = new StringBuilder();
            text.AppendLine(CultureInfo.InvariantCulture, $"Sinks ({settings.Connections} connections, {settings.Batch} trades/frame, {settings.Runs} runs of {settings.Duration:0.#} s, medians; {Environment.ProcessorCount} cores, shared and noisy)");
            text.AppendLine("| configuration | trades/s (median) | runs |");
            text.AppendLine("|---|---:|---|");
            text.AppendLine(CultureInfo.InvariantCulture, $"| no sink (counted by the gateway, no acks) | {Median(noSink):N0} | {string.Join(", ", noSink.Select(v => v.ToString("N0", CultureInfo.InvariantCulture)))} |");
            text.AppendLine(CultureInfo.InvariantCulture, $"| NATS.Net async publisher, {PublisherInFlight:N0} in flight, Msg-Id, 29-byte payloads (the engine's own client; msgs/s) | {Median(publisher):N0} | {string.Join(", ", publisher.Select(v => v.ToString("N0", CultureInfo.InvariantCulture)))} |");
            text.AppendLine(CultureInfo.InvariantCulture, $"| NATS JetStream sink, acknowledged to the client | {Median(withNats):N0} | {string.Join(", ", withNats.Select(v => v.ToString("N0", CultureInfo.InvariantCulture)))} |");
            text.AppendLine(CultureInfo.InvariantCulture, $"JetStream sink / async publisher: {Median(withNats) / Median(publisher):0.00}x (medians, same server, same run)");
            text.AppendLine(CultureInfo.InvariantCulture, $"TradeAck round trip (one trade sent, wait for its ack; {settings.RoundTrips} trades): p50 {p50:0} µs, p99 {p99:0} µs, max {max:0} µs");
            if (down is { } o)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"Sink down {settings.Outage:0.#} s with {settings.Connections} clients sending: server working set {o.Before >> 20} MiB before, at most {o.Max >> 20} MiB during; "
                    + $"the gateway took {o.ReceivedDuring:N0} trades during the outage (bound 100,000 in flight), clients sent {o.SentLastHalf:N0} in its second half; all {o.Total:N0} acknowledged {o.Recovery:0.0} s after the sink came back");
            }

            Console.WriteLine();
            Console.Write(text.ToString());
            return 0;
        });
        return command;
    }

    private static string[] Sink(string url, string stream) => ["--nats", url, "--stream", stream];

    /// <summary>Publishes the async publisher keeps in flight, as <c>nats bench js pub --async</c> does.</summary>
    private const int PublisherInFlight = 4_000;

    /// <summary>The baseline: the engine's own client on the same server. NATS.Net publishes 29-byte trades to a
    /// file-storage stream with a <c>Nats-Msg-Id</c> each (as the sink does), keeping <see cref="PublisherInFlight"/>
    /// in flight on one connection; acknowledged messages per second over the measured window.</summary>
    private static async Task<double> PublisherAsync(string url, string stream, Settings settings, CancellationToken cancellationToken)
    {
        // Acks matched on the connection's one reply inbox, as the sink does: the client at its fastest.
        await using var nats = new NatsConnection(new NatsOpts { Url = url, Name = "sinks-baseline", RequestReplyMode = NatsRequestReplyMode.Direct });
        var js = new NatsJSContext(nats);
        string subject = stream.ToLowerInvariant();
        await js.CreateStreamAsync(new StreamConfig(stream, [subject]) { Storage = StreamConfigStorage.File }, cancellationToken).ConfigureAwait(false);
        var ring = new ValueTask<PubAckResponse>[PublisherInFlight];
        var payload = new byte[Trade.EncodedSize];
        long published = 0;
        long acknowledged = 0;
        long measuredFrom = -1;
        var clock = Stopwatch.StartNew();
        TimeSpan warmUp = TimeSpan.FromSeconds(1);
        TimeSpan end = warmUp + TimeSpan.FromSeconds(settings.Duration);
        while (clock.Elapsed < end)
        {
            int slot = (int)(published % PublisherInFlight);
            if (published >= PublisherInFlight)
            {
                (await ring[slot].ConfigureAwait(false)).EnsureSuccess();
                acknowledged++;
            }

            if (measuredFrom < 0 && clock.Elapsed >= warmUp)
            {
                measuredFrom = acknowledged;
                clock.Restart();
                end = TimeSpan.FromSeconds(settings.Duration);
            }

            ulong id = (ulong)published + 1;
            new Trade(id, (byte)'B', 100.5, 10).Encode(payload);
            ring[slot] = js.PublishAsync(subject, (byte[])payload.Clone(), opts: new NatsJSPubOpts { MsgId = id.ToString(CultureInfo.InvariantCulture) }, cancellationToken: cancellationToken);
            published++;
        }

        double rate = (acknowledged - measuredFrom) / clock.Elapsed.TotalSeconds;
        for (long i = Math.Max(0, published - PublisherInFlight); i < published; i++)
        {
            await ring[(int)(i % PublisherInFlight)].ConfigureAwait(false);
        }

        return rate;
    }

    private static double Median(List<double> values)
    {
        double[] sorted = [.. values.Order()];
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>Trades per second over the measured window: counted by the gateway without a sink, acknowledged to the
    /// clients with one.</summary>
    private static async Task<double> ThroughputAsync(string[]? sink, Settings settings, CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync("gateway", "count", false, null, cancellationToken, sink ?? []).ConfigureAwait(false);
        var url = new Uri($"ws://127.0.0.1:{server.EndPoint.Port}/");
        using var stop = new CancellationTokenSource();
        Trade[] frame = [.. Enumerable.Range(1, settings.Batch).Select(i => new Trade((ulong)i, (byte)'B', 100.5, 10))];
        var reliable = new ReliableTradeClient[sink is null ? 0 : settings.Connections];
        var senders = new Task[settings.Connections];
        for (int c = 0; c < settings.Connections; c++)
        {
            if (sink is null)
            {
                TradeClient client = await TradeClient.ConnectAsync(url, cancellationToken: cancellationToken).ConfigureAwait(false);
                senders[c] = Task.Run(() => SendPlainAsync(client, frame, stop.Token), CancellationToken.None);
            }
            else
            {
                reliable[c] = await ReliableTradeClient.ConnectAsync(url, new ReliableTradeClientOptions { MaxUnacknowledged = 2_000_000, MaxTradesPerFrame = settings.Batch }, cancellationToken).ConfigureAwait(false);
                ReliableTradeClient client = reliable[c];
                ulong first = ((ulong)c << 40) + 1;
                senders[c] = Task.Run(() => SendReliableAsync(client, first, settings.Batch, stop.Token), CancellationToken.None);
            }
        }

        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
        long before = sink is null ? (await server.StatsAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Messages : reliable.Sum(r => r.Acknowledged);
        var clock = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(settings.Duration), cancellationToken).ConfigureAwait(false);
        long after = sink is null ? (await server.StatsAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Messages : reliable.Sum(r => r.Acknowledged);
        double rate = (after - before) / clock.Elapsed.TotalSeconds;
        await stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(senders).WaitAsync(TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
        foreach (ReliableTradeClient client in reliable)
        {
            await client.DisposeAsync().ConfigureAwait(false);
        }

        return rate;
    }

    private static async Task SendPlainAsync(TradeClient client, Trade[] frame, CancellationToken stop)
    {
        await using (client.ConfigureAwait(false))
        {
            while (!stop.IsCancellationRequested)
            {
                while (client.TryWriteTrades(frame))
                {
                }

                await client.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
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
    private static async Task<(double P50, double P99, double Max)> RoundTripAsync(string[] sink, Settings settings, CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync("gateway", "count", false, null, cancellationToken, sink).ConfigureAwait(false);
        await using ReliableTradeClient client = await ReliableTradeClient.ConnectAsync(new Uri($"ws://127.0.0.1:{server.EndPoint.Port}/"), cancellationToken: cancellationToken).ConfigureAwait(false);
        var recorder = new LatencyRecorder(settings.RoundTrips);
        for (int i = 1; i <= settings.RoundTrips + 100; i++)
        {
            long started = Stopwatch.GetTimestamp();
            await client.SendAsync(new Trade((ulong)i, (byte)'L', 1.5, 1), cancellationToken).ConfigureAwait(false);
            await client.WaitForAcknowledgementAsync(client.Sent, cancellationToken).ConfigureAwait(false);
            if (i > 100)
            {
                recorder.Record(Stopwatch.GetTimestamp() - started); // the first 100 warm up
            }
        }

        return (recorder.Percentile(50), recorder.Percentile(99), recorder.Max); // LatencyRecorder answers in µs
    }

    private readonly record struct Outage(long Before, long Max, long ReceivedDuring, long SentLastHalf, long Total, double Recovery);

    /// <summary>Clients send; the nats-server is stopped (SIGSTOP) for the outage, then continued: the server's working
    /// set, what it took in meanwhile, and what the clients managed to send.</summary>
    private static async Task<Outage> OutageAsync(string[] sink, NatsServerProcess nats, Settings settings, CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync("gateway", "count", false, null, cancellationToken, sink).ConfigureAwait(false);
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

    private sealed record Settings(int Runs, double Duration, int Connections, int Batch, int RoundTrips, double Outage);
}
