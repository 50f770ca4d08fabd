using System.CommandLine;
using WsGateway.LoadBench.Sinks;
using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace WsGateway.LoadBench;

/// <summary>
/// The load benchmark (<c>dotnet run -c Release --project bench/WsGateway.LoadBench -- ...</c>): end-to-end
/// throughput, latency, allocations and idle memory of the gateway on its native transport (<c>gateway</c>), the
/// gateway on Kestrel's socket transport (<c>gateway-kestrel</c>) and, in the same run, of the baseline (Kestrel +
/// System.Net.WebSockets). Each server runs in its own <c>WsGateway.LoadBench server</c> process; this process is the
/// load generator.
/// </summary>
internal static class BenchCommand
{
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
        Option<string[]> servers = new("--servers")
        {
            Description = $"The servers to run, comma-separated: {string.Join(", ", ServerKinds.All)} (default all three; ratios need baseline)",
            AllowMultipleArgumentsPerToken = true,
        };
        servers.Validators.Add(r =>
        {
            _ = ServerKinds.Parse(r.GetValueOrDefault<string[]>() ?? [], out string? error);
            if (error is not null)
            {
                r.AddError(error);
            }
        });
        Option<string?> serverCpus = new("--server-cpus")
        {
            Description = "Pin every server process to these CPUs (taskset -c list, e.g. 0 or 0-1), started under taskset; default not pinned",
        };
        serverCpus.Validators.Add(r =>
        {
            CheckCpus(r, "--server-cpus");
            if (r.GetValueOrDefault<string?>() is { } list && CpuAffinity.FindTaskset() is null)
            {
                r.AddError($"--server-cpus {list}: taskset was not found on PATH (it is in util-linux); install it or leave out --server-cpus");
            }
        });
        Option<string?> clientCpus = new("--client-cpus")
        {
            Description = "Pin this load generator to these CPUs (e.g. 1), with Process.ProcessorAffinity; default not pinned",
        };
        clientCpus.Validators.Add(r => CheckCpus(r, "--client-cpus"));

        RootCommand command = new("WsGateway.LoadBench: end-to-end benchmark of the gateway (native and Kestrel transports) against a Kestrel + System.Net.WebSockets baseline, each server in its own process")
        {
            runs, duration, batch, rate, pingPongCount, idleConnections, quick, only, servers, serverCpus, clientCpus, allocProfile, json,
            BenchServerCommand.Create(),
            SinkBenchCommand.Create(),
            HoldCommand.Create(),
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
                result.GetValue(allocProfile),
                ServerKinds.Parse(result.GetValue(servers) ?? [], out _),
                result.GetValue(serverCpus),
                result.GetValue(clientCpus));
            if (settings.ClientCpus is { } cpus && CpuAffinity.TryParse(cpus, Environment.ProcessorCount, out long mask, out _))
            {
                CpuAffinity.PinCurrentProcess(mask);
            }

            BenchReport report = await RunAsync(settings, cancellationToken).ConfigureAwait(false);
            Console.WriteLine();
            Console.Write(ReportText.Format(report));
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
        var report = new BenchReport(Machine(), settings, [], [], [], [], [], []);
        string[] kinds = settings.Servers;
        TimeSpan runLimit = TimeSpan.FromSeconds(settings.Quick ? 20 : 60);

        Log($"count mode: starting {string.Join(", ", kinds)} servers{(settings.ServerCpus is null ? string.Empty : $" on CPUs {settings.ServerCpus}")}");
        var servers = new Dictionary<string, ServerProcess>();
        try
        {
            foreach (string kind in kinds)
            {
                servers[kind] = await ServerProcess.StartAsync(kind, "count", settings.AllocProfile, settings.ServerCpus, cancellationToken).ConfigureAwait(false);
                ServerStats stats = await servers[kind].StatsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                report.Servers.Add(new ServerInfo(kind, stats.Transport, stats.Cpus, stats.ProcessorCount));
                Log($"{kind}: {stats.Transport}, CPUs {stats.Cpus} ({stats.ProcessorCount} processors as the server sees them)");
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
                foreach (string kind in kinds)
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
            BenchTargets.Evaluate(report);
            return report;
        }

        Log("echo mode: starting servers");
        try
        {
            foreach (string kind in kinds)
            {
                servers[kind] = await ServerProcess.StartAsync(kind, "echo", settings.AllocProfile, settings.ServerCpus, cancellationToken).ConfigureAwait(false);
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

        BenchTargets.Evaluate(report);
        return report;
    }

    private static async Task ThroughputScenarioAsync(BenchReport report, Dictionary<string, ServerProcess> servers, string name, int connections, int tradesPerFrame, TimeSpan runLimit, CancellationToken cancellationToken)
    {
        BenchSettings settings = report.Settings;
        string[] kinds = settings.Servers;
        var sizes = new Dictionary<string, long>();
        var expected = new Dictionary<string, double>();
        var runs = kinds.ToDictionary(k => k, _ => new List<ThroughputRun>());
        try
        {
            if (settings.AllocProfile)
            {
                foreach (string kind in kinds)
                {
                    _ = await servers[kind].AllocationsAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            // Warm-up (not measured): JIT tiers, pools, and the size of a run of the target duration.
            foreach (string kind in kinds)
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
                foreach (string kind in kinds)
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
            foreach (string kind in kinds)
            {
                Log($"{name}: {kind} allocation ticks (~100 KB each, warm-up included): {await servers[kind].AllocationsAsync(cancellationToken).ConfigureAwait(false)}");
            }
        }

        foreach (string kind in kinds)
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
        string[] kinds = settings.Servers;
        var recorders = kinds.ToDictionary(k => k, _ => new List<LatencyRecorder>());
        try
        {
            foreach (string kind in kinds)
            {
                _ = await run(servers[kind], cancellationToken).ConfigureAwait(false); // warm-up, not measured
            }

            for (int i = 0; i < settings.Runs; i++)
            {
                foreach (string kind in kinds)
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

        foreach (string kind in kinds)
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

    private static void CheckCpus(System.CommandLine.Parsing.OptionResult result, string name)
    {
        if (result.GetValueOrDefault<string?>() is { } list && !CpuAffinity.TryParse(list, Environment.ProcessorCount, out _, out string? error))
        {
            result.AddError($"{name}: {error}");
        }
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

        return new MachineInfo(Environment.ProcessorCount, cpu, RuntimeInformation.OSDescription, RuntimeInformation.FrameworkDescription, GCSettings.IsServerGC, DateTime.UtcNow.ToString("u", CultureInfo.InvariantCulture), CpuAffinity.Current());
    }
}
