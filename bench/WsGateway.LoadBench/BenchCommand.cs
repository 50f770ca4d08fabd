using System.CommandLine;
using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace WsGateway.LoadBench;

/// <summary>
/// The load benchmark (<c>dotnet run -c Release --project bench/WsGateway.LoadBench -- ...</c>): end-to-end
/// throughput, latency, allocations and idle memory of the gateway and, in the same run, of the baseline (Kestrel +
/// System.Net.WebSockets). Each server runs in its own <c>WsGateway.LoadBench server</c> process; this process is the
/// load generator.
/// </summary>
internal static class BenchCommand
{
    private static readonly string[] s_kinds = ["gateway", "baseline"];

    /// <summary>The benchmark as the root command, with the hidden <c>server</c> command of its child processes.</summary>
    public static RootCommand Create()
    {
        Option<int> runs = new("--runs")
        {
            Description = "Measured runs of each scenario; medians are reported",
            DefaultValueFactory = _ => 3,
        };
        Option<double> duration = new("--duration")
        {
            Description = "Target seconds of one throughput run (its size is calibrated in the warm-up)",
            DefaultValueFactory = _ => 2.0,
        };
        Option<int> batch = new("--batch")
        {
            Description = "Trades per frame in the batched scenario",
            DefaultValueFactory = _ => 64,
        };
        Option<int> rate = new("--rate")
        {
            Description = "Frames (one trade each) per second of the fixed-rate latency scenario",
            DefaultValueFactory = _ => 10_000,
        };
        Option<int> pingPongCount = new("--pingpong-count")
        {
            Description = "Round trips of one ping-pong run",
            DefaultValueFactory = _ => 20_000,
        };
        Option<int> idleConnections = new("--idle-connections")
        {
            Description = "Idle WebSocket connections opened to measure server memory per connection (0 skips)",
            DefaultValueFactory = _ => 10_000,
        };
        Option<bool> quick = new("--quick")
        {
            Description = "Tiny sizes and one run: checks that everything works, measures nothing worth quoting",
        };
        Option<string[]> only = new("--only")
        {
            Description = "Run only the scenarios whose name contains one of these words (single, batched, connections, ping-pong, fixed, idle)",
            AllowMultipleArgumentsPerToken = true,
        };
        Option<bool> allocProfile = new("--alloc-profile")
        {
            Description = "Sample the servers' allocations by type during each throughput scenario and print the top types",
            Hidden = true,
        };
        Option<FileInfo?> json = new("--json")
        {
            Description = "Also write the results as JSON to this file",
        };

        RootCommand command = new("WsGateway.LoadBench: end-to-end benchmark of the gateway against a Kestrel + System.Net.WebSockets baseline, each in its own process")
        {
            runs, duration, batch, rate, pingPongCount, idleConnections, quick, only, allocProfile, json,
            BenchServerCommand.Create(),
            SinkBenchCommand.Create(),
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            bool isQuick = result.GetValue(quick);
            var settings = new BenchSettings(
                isQuick ? 1 : Math.Max(1, result.GetValue(runs)),
                isQuick ? 0.1 : Math.Max(0.1, result.GetValue(duration)),
                Math.Max(1, result.GetValue(batch)),
                isQuick ? 2_000 : Math.Max(1, result.GetValue(rate)),
                isQuick ? 2_000 : Math.Max(10, result.GetValue(pingPongCount)),
                isQuick ? Math.Min(200, result.GetValue(idleConnections)) : Math.Max(0, result.GetValue(idleConnections)),
                isQuick,
                result.GetValue(only) ?? [],
                result.GetValue(allocProfile));
            BenchReport report = await RunAsync(settings, cancellationToken).ConfigureAwait(false);
            Console.WriteLine();
            Console.Write(Format(report));
            if (result.GetValue(json) is { } file)
            {
                file.Directory?.Create();
                await File.WriteAllTextAsync(file.FullName, JsonSerializer.Serialize(report, BenchJsonContext.Default.BenchReport), cancellationToken).ConfigureAwait(false);
                Console.WriteLine($"JSON written to {file.FullName}");
            }

            return report.Failures.Count == 0 ? 0 : 1;
        });
        return command;
    }

    private static async Task<BenchReport> RunAsync(BenchSettings settings, CancellationToken cancellationToken)
    {
        var report = new BenchReport(Machine(), settings, [], [], [], [], []);
        TimeSpan runLimit = TimeSpan.FromSeconds(settings.Quick ? 20 : 60);

        Log($"count mode: starting {string.Join(" and ", s_kinds)} servers");
        var servers = new Dictionary<string, ServerProcess>();
        try
        {
            foreach (string kind in s_kinds)
            {
                servers[kind] = await ServerProcess.StartAsync(kind, "count", settings.AllocProfile, cancellationToken).ConfigureAwait(false);
            }

            (string Name, int Connections, int TradesPerFrame)[] scenarios =
            [
                ("single frames, 1 connection", 1, 1),
                ("single frames, 10 connections", 10, 1),
                ("single frames, 100 connections", 100, 1),
                ($"batched ({settings.BatchSize}/frame), 1 connection", 1, settings.BatchSize),
            ];
            foreach ((string name, int connections, int tradesPerFrame) in scenarios.Where(s => settings.Selected(s.Name)))
            {
                await ThroughputScenarioAsync(report, servers, name, connections, tradesPerFrame, runLimit, cancellationToken).ConfigureAwait(false);
            }

            if (settings.IdleConnections > 0 && settings.Selected("idle connections"))
            {
                foreach (string kind in s_kinds)
                {
                    Log($"idle memory: {kind}, {settings.IdleConnections} connections");
                    try
                    {
                        (double heap, double workingSet) = await Scenarios.IdleMemoryAsync(servers[kind], settings.IdleConnections, TimeSpan.FromSeconds(120), cancellationToken).ConfigureAwait(false);
                        report.IdleMemory.Add(new IdleMemoryResult(kind, settings.IdleConnections, heap, workingSet));
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                    {
                        Fail(report, $"idle memory ({kind}): {ex.GetType().Name}: {ex.Message}");
                    }
                }
            }
        }
        finally
        {
            await StopAsync(servers).ConfigureAwait(false);
        }

        if (!settings.Selected("ping-pong") && !settings.Selected("fixed rate"))
        {
            EvaluateTargets(report);
            return report;
        }

        Log("echo mode: starting servers");
        try
        {
            foreach (string kind in s_kinds)
            {
                servers[kind] = await ServerProcess.StartAsync(kind, "echo", settings.AllocProfile, cancellationToken).ConfigureAwait(false);
            }

            if (settings.Selected("ping-pong"))
            {
                await LatencyScenarioAsync(report, servers, "ping-pong", (server, ct) => Scenarios.PingPongAsync(server, settings.PingPongCount, runLimit, ct), settings, cancellationToken).ConfigureAwait(false);
            }

            int fixedCount = (int)Math.Max(10, settings.Rate * settings.DurationSeconds * (settings.Quick ? 5 : 1));
            if (settings.Selected("fixed rate"))
            {
                await LatencyScenarioAsync(report, servers, $"fixed rate {settings.Rate}/s", (server, ct) => Scenarios.FixedRateAsync(server, settings.Rate, fixedCount, runLimit, ct), settings, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            await StopAsync(servers).ConfigureAwait(false);
        }

        EvaluateTargets(report);
        return report;
    }

    private static async Task ThroughputScenarioAsync(BenchReport report, Dictionary<string, ServerProcess> servers, string name, int connections, int tradesPerFrame, TimeSpan runLimit, CancellationToken cancellationToken)
    {
        BenchSettings settings = report.Settings;
        var sizes = new Dictionary<string, long>();
        var expected = new Dictionary<string, double>();
        var runs = s_kinds.ToDictionary(k => k, _ => new List<ThroughputRun>());
        try
        {
            if (settings.AllocProfile)
            {
                foreach (string kind in s_kinds)
                {
                    _ = await servers[kind].AllocationsAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            // Warm-up (not measured): JIT tiers, pools, and the size of a run of the target duration.
            foreach (string kind in s_kinds)
            {
                long trades = settings.Quick ? 20_000L * Math.Min(tradesPerFrame, 8) : 100_000L * Math.Min(tradesPerFrame, 16);
                ThroughputRun warm = await Scenarios.ThroughputAsync(servers[kind], connections, tradesPerFrame, trades, 0, runLimit, cancellationToken).ConfigureAwait(false);
                if (!settings.Quick)
                {
                    // About a second more: long enough for tiered PGO to reach its final code in the receive loops.
                    for (int i = 0; i < 2; i++)
                    {
                        trades = Size(warm.MessagesPerSecond * 0.5, connections, tradesPerFrame);
                        warm = await Scenarios.ThroughputAsync(servers[kind], connections, tradesPerFrame, trades, 0, runLimit, cancellationToken).ConfigureAwait(false);
                    }

                    trades = Size(warm.MessagesPerSecond * settings.DurationSeconds, connections, tradesPerFrame);
                }

                sizes[kind] = trades;
                expected[kind] = settings.Quick ? 0 : trades / warm.MessagesPerSecond;
                Log($"{name}: {kind} warm-up {warm.MessagesPerSecond:N0} msg/s; runs of {trades:N0} trades");
            }

            // Measured runs, alternating the servers so that a noisy neighbour hurts both alike.
            for (int run = 0; run < settings.Runs; run++)
            {
                foreach (string kind in s_kinds)
                {
                    ThroughputRun measured = await Scenarios.ThroughputAsync(servers[kind], connections, tradesPerFrame, sizes[kind], expected[kind], runLimit, cancellationToken).ConfigureAwait(false);
                    runs[kind].Add(measured);
                    Log($"{name}: {kind} run {run + 1}: {measured.MessagesPerSecond:N0} msg/s ({measured.Messages:N0} in {measured.Seconds:0.000} s), {(double)measured.AllocatedBytes / measured.Messages:0.000} B/msg allocated ({measured.AllocatedBytes:N0} B), steady state {measured.SteadyBytesPerMessage:0.000} B/msg over {measured.SteadyMessages:N0}");
                    if (measured.ServerMessages != measured.Messages || measured.ServerErrors != 0)
                    {
                        Fail(report, $"{name}, {kind} run {run + 1}: sent {measured.Messages} trades, the server counted {measured.ServerMessages} with {measured.ServerErrors} errors");
                    }
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Fail(report, $"{name}: {ex.GetType().Name}: {ex.Message}");
        }

        if (settings.AllocProfile)
        {
            foreach (string kind in s_kinds)
            {
                Log($"{name}: {kind} allocation ticks (~100 KB each, warm-up included): {await servers[kind].AllocationsAsync(cancellationToken).ConfigureAwait(false)}");
            }
        }

        foreach (string kind in s_kinds)
        {
            List<ThroughputRun> measured = runs[kind];
            if (measured.Count == 0)
            {
                continue;
            }

            ThroughputRun median = measured.OrderBy(r => r.MessagesPerSecond).ElementAt(measured.Count / 2);
            report.Throughput.Add(new ThroughputResult(
                name,
                kind,
                connections,
                tradesPerFrame,
                median.Messages,
                [.. measured.Select(r => Math.Round(r.MessagesPerSecond))],
                Math.Round(median.MessagesPerSecond),
                Median(measured.Select(r => (double)r.AllocatedBytes / r.Messages)),
                (long)Median(measured.Select(r => (double)r.AllocatedBytes)),
                Median(measured.Where(r => r.SteadyMessages > 0).Select(r => r.SteadyBytesPerMessage))));
        }
    }

    private static async Task LatencyScenarioAsync(BenchReport report, Dictionary<string, ServerProcess> servers, string name, Func<ServerProcess, CancellationToken, Task<LatencyRecorder>> run, BenchSettings settings, CancellationToken cancellationToken)
    {
        var recorders = s_kinds.ToDictionary(k => k, _ => new List<LatencyRecorder>());
        try
        {
            foreach (string kind in s_kinds)
            {
                _ = await run(servers[kind], cancellationToken).ConfigureAwait(false); // warm-up, not measured
            }

            for (int i = 0; i < settings.Runs; i++)
            {
                foreach (string kind in s_kinds)
                {
                    LatencyRecorder recorder = await run(servers[kind], cancellationToken).ConfigureAwait(false);
                    recorders[kind].Add(recorder);
                    Log($"{name}: {kind} run {i + 1}: {recorder.Count} samples, p50 {recorder.Percentile(50):0.0} us, p99 {recorder.Percentile(99):0.0} us, max {recorder.Max:0.0} us");
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Fail(report, $"{name}: {ex.GetType().Name}: {ex.Message}");
        }

        foreach (string kind in s_kinds)
        {
            List<LatencyRecorder> runs = recorders[kind];
            if (runs.Count == 0)
            {
                continue;
            }

            report.Latency.Add(new LatencyResult(
                name,
                kind,
                (int)Median(runs.Select(r => (double)r.Count)),
                Median(runs.Select(r => r.Percentile(50))),
                Median(runs.Select(r => r.Percentile(90))),
                Median(runs.Select(r => r.Percentile(99))),
                Median(runs.Select(r => r.Percentile(99.9))),
                Median(runs.Select(r => r.Max))));
        }
    }

    private static void EvaluateTargets(BenchReport report)
    {
        if (report.Settings.Quick)
        {
            return; // sizes too small to mean anything
        }

        ThroughputResult? Find(string server, int connections, int tradesPerFrame)
            => report.Throughput.Find(t => t.Server == server && t.Connections == connections && t.TradesPerFrame == tradesPerFrame);

        void Ratio(string target, int connections, int tradesPerFrame, double wanted)
        {
            if (Find("gateway", connections, tradesPerFrame) is { } gateway && Find("baseline", connections, tradesPerFrame) is { } baseline)
            {
                double ratio = gateway.MedianMessagesPerSecond / baseline.MedianMessagesPerSecond;
                report.Targets.Add(new TargetResult(target, Invariant($"{ratio:0.00}x ({gateway.MedianMessagesPerSecond:N0} vs {baseline.MedianMessagesPerSecond:N0} msg/s)"), ratio >= wanted));
            }
        }

        Ratio("single frames, 1 connection >= 3x baseline", 1, 1, 3);
        Ratio("batched, 1 connection >= 1.5x baseline", 1, report.Settings.BatchSize, 1.5);

        if (report.Latency.Find(l => l.Scenario == "ping-pong" && l.Server == "gateway") is { } gw
            && report.Latency.Find(l => l.Scenario == "ping-pong" && l.Server == "baseline") is { } bl)
        {
            report.Targets.Add(new TargetResult("ping-pong p50 <= baseline", Invariant($"{gw.P50Us:0.0} us vs {bl.P50Us:0.0} us"), gw.P50Us <= bl.P50Us));
        }

        List<ThroughputResult> gatewayRuns = report.Throughput.FindAll(t => t.Server == "gateway");
        if (gatewayRuns.Count > 0)
        {
            // Steady state when sampled (full runs); otherwise the whole run, connection close included.
            double worst = gatewayRuns.Max(t => double.IsNaN(t.SteadyAllocatedBytesPerMessage) ? t.AllocatedBytesPerMessage : t.SteadyAllocatedBytesPerMessage);
            report.Targets.Add(new TargetResult("0 B allocated per message in steady state (< 0.01 B/msg)", Invariant($"{worst:0.000} B/msg (worst scenario)"), worst < 0.01));
        }

        if (report.IdleMemory.Find(m => m.Server == "gateway") is { } idle)
        {
            double worst = Math.Max(idle.GcHeapBytesPerConnection, idle.WorkingSetBytesPerConnection);
            report.Targets.Add(new TargetResult(
                "<= 8 KiB server memory per idle connection",
                Invariant($"GC heap {idle.GcHeapBytesPerConnection / 1024:0.00} KiB, working set {idle.WorkingSetBytesPerConnection / 1024:0.00} KiB"),
                worst <= 8 * 1024));
        }
    }

    private static string Format(BenchReport report)
    {
        var text = new StringBuilder();
        MachineInfo m = report.Machine;
        BenchSettings s = report.Settings;
        text.AppendLine(Invariant($"WsGateway.LoadBench: {m.ProcessorCount} cores ({m.CpuModel}), {m.Os}, {m.Runtime}, {(m.ServerGc ? "server" : "workstation")} GC; {s.Runs} run(s), medians{(s.Quick ? "; QUICK: sizes too small to quote" : string.Empty)}"));
        text.AppendLine();
        text.AppendLine(Invariant($"{"Throughput (trades/s)",-34} {"gateway",13} {"baseline",13} {"ratio",7}   {"server B/msg: steady gw",23} {"baseline",9} {"run gw",8} {"baseline",9}"));
        foreach (IGrouping<string, ThroughputResult> scenario in report.Throughput.GroupBy(t => t.Scenario))
        {
            ThroughputResult? gw = scenario.FirstOrDefault(t => t.Server == "gateway");
            ThroughputResult? bl = scenario.FirstOrDefault(t => t.Server == "baseline");
            string ratio = gw is not null && bl is not null ? Invariant($"{gw.MedianMessagesPerSecond / bl.MedianMessagesPerSecond:0.00}x") : "-";
            text.AppendLine(Invariant($"{scenario.Key,-34} {gw?.MedianMessagesPerSecond,13:N0} {bl?.MedianMessagesPerSecond,13:N0} {ratio,7}   {gw?.SteadyAllocatedBytesPerMessage,23:0.000} {bl?.SteadyAllocatedBytesPerMessage,9:0.000} {gw?.AllocatedBytesPerMessage,8:0.000} {bl?.AllocatedBytesPerMessage,9:0.000}"));
        }

        text.AppendLine();
        text.AppendLine(Invariant($"{"Latency (us, round trip)",-26} {"server",-9} {"p50",8} {"p90",8} {"p99",8} {"p99.9",8} {"max",9} {"samples",8}"));
        foreach (LatencyResult l in report.Latency)
        {
            text.AppendLine(Invariant($"{l.Scenario,-26} {l.Server,-9} {l.P50Us,8:0.0} {l.P90Us,8:0.0} {l.P99Us,8:0.0} {l.P999Us,8:0.0} {l.MaxUs,9:0.0} {l.SamplesPerRun,8}"));
        }

        if (report.IdleMemory.Count > 0)
        {
            text.AppendLine();
            text.AppendLine(Invariant($"{"Idle connections",-26} {"server",-9} {"GC heap/conn",13} {"working set/conn",17}"));
            foreach (IdleMemoryResult i in report.IdleMemory)
            {
                text.AppendLine(Invariant($"{i.Connections,-26:N0} {i.Server,-9} {i.GcHeapBytesPerConnection / 1024,9:0.00} KiB {i.WorkingSetBytesPerConnection / 1024,13:0.00} KiB"));
            }
        }

        text.AppendLine();
        text.AppendLine("Targets");
        foreach (TargetResult t in report.Targets)
        {
            text.AppendLine(Invariant($"  [{(t.Met ? "met" : "MISSED")}] {t.Target}: {t.Measured}"));
        }

        foreach (string failure in report.Failures)
        {
            text.AppendLine(Invariant($"FAILURE: {failure}"));
        }

        return text.ToString();
    }

    private static long Size(double trades, int connections, int tradesPerFrame)
    {
        long unit = (long)connections * tradesPerFrame;
        long clamped = (long)Math.Clamp(trades, 10_000, 500_000_000);
        return Math.Max(unit, clamped / unit * unit);
    }

    private static double Median(IEnumerable<double> values)
    {
        double[] sorted = [.. values.Order()];
        return sorted.Length == 0 ? double.NaN : sorted[sorted.Length / 2];
    }

    private static async Task StopAsync(Dictionary<string, ServerProcess> servers)
    {
        foreach (ServerProcess server in servers.Values)
        {
            await server.DisposeAsync().ConfigureAwait(false);
        }

        servers.Clear();
    }

    private static void Fail(BenchReport report, string failure)
    {
        report.Failures.Add(failure);
        Log($"FAILURE: {failure}");
    }

    private static void Log(string message) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {message}");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static MachineInfo Machine()
    {
        string cpu = RuntimeInformation.ProcessArchitecture.ToString();
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                string? line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
                if (line is not null)
                {
                    cpu = line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                }
            }
        }
        catch (IOException)
        {
        }

        return new MachineInfo(Environment.ProcessorCount, cpu, RuntimeInformation.OSDescription, RuntimeInformation.FrameworkDescription, GCSettings.IsServerGC, DateTime.UtcNow.ToString("u", CultureInfo.InvariantCulture));
    }
}
