namespace WsGateway.LoadBench;

/// <summary>Everything the load benchmark measured; written as JSON with <c>--json</c>.</summary>
internal sealed record BenchReport(
    MachineInfo Machine,
    BenchSettings Settings,
    List<ServerInfo> Servers,
    List<ThroughputResult> Throughput,
    List<LatencyResult> Latency,
    List<IdleMemoryResult> IdleMemory,
    List<TargetResult> Targets,
    List<string> Failures);

/// <summary>Where the run took place; <c>ClientCpus</c> is the CPUs the load generator may run on, as the operating
/// system reports them after <c>--client-cpus</c> (a list such as <c>1</c> or <c>0-3</c>).</summary>
internal sealed record MachineInfo(int ProcessorCount, string CpuModel, string Os, string Runtime, bool ServerGc, string StartedUtc, string ClientCpus);

/// <summary>One server process of the run (count mode), with the CPUs it reported it may run on.</summary>
internal sealed record ServerInfo(string Server, string Transport, string Cpus, int ProcessorCount);

/// <summary>The servers the benchmark compares; <see cref="All"/> is also the order of their columns.</summary>
internal static class ServerKinds
{
    /// <summary>WsGateway's <c>WebSocketServer</c> on its native epoll transport (<c>GatewayTransport.Native</c>).</summary>
    public const string Gateway = "gateway";

    /// <summary>WsGateway's <c>WebSocketServer</c> on Kestrel's socket transport (<c>GatewayTransport.Kestrel</c>).</summary>
    public const string GatewayKestrel = "gateway-kestrel";

    /// <summary>Kestrel + <c>System.Net.WebSockets</c> (bench/WsGateway.Baseline).</summary>
    public const string Baseline = "baseline";

    public static readonly string[] All = [Gateway, GatewayKestrel, Baseline];

    /// <summary>The two gateway transports, which the targets check against the baseline.</summary>
    public static readonly string[] Gateways = [Gateway, GatewayKestrel];

    /// <summary>Reads <c>--servers</c> (names separated by commas or spaces, in any order, each at most once) into
    /// the column order of <see cref="All"/>; returns an error naming the bad value instead when there is one.</summary>
    public static string[] Parse(IEnumerable<string> values, out string? error)
    {
        var chosen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string value in values)
        {
            foreach (string name in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (Array.IndexOf(All, name) < 0)
                {
                    error = $"--servers: unknown server '{name}'; expected a comma-separated list of {string.Join(", ", All)}";
                    return [];
                }

                chosen.Add(name);
            }
        }

        error = null;
        return chosen.Count == 0 ? All : Array.FindAll(All, chosen.Contains);
    }
}

/// <summary>What was asked for; <paramref name="Only"/> selects scenarios by name (all when empty),
/// <paramref name="Servers"/> the servers (in <see cref="ServerKinds.All"/> order); <paramref name="ServerCpus"/>
/// (<c>taskset -c</c> list) and <paramref name="ClientCpus"/> pin the server processes and the load generator
/// (null: not pinned).</summary>
internal sealed record BenchSettings(int Runs, double DurationSeconds, int BatchSize, int Rate, int PingPongCount, int IdleConnections, bool Quick, string[] Only, bool AllocProfile, string[] Servers, string? ServerCpus, string? ClientCpus)
{
    /// <summary>Whether the scenario <paramref name="name"/> runs.</summary>
    public bool Selected(string name)
    {
        foreach (string word in Only)
        {
            if (name.Contains(word, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return Only.Length == 0;
    }
}

/// <summary>One throughput scenario against one server: medians over the runs.</summary>
internal sealed record ThroughputResult(
    string Scenario,
    string Server,
    int Connections,
    int TradesPerFrame,
    long MessagesPerRun,
    double[] MessagesPerSecondRuns,
    double MedianMessagesPerSecond,
    double AllocatedBytesPerMessage,
    long AllocatedBytesPerRun,
    double SteadyAllocatedBytesPerMessage);

/// <summary>One latency scenario against one server: each percentile is the median of the runs' percentiles.</summary>
internal sealed record LatencyResult(
    string Scenario,
    string Server,
    int SamplesPerRun,
    double P50Us,
    double P90Us,
    double P99Us,
    double P999Us,
    double MaxUs);

internal sealed record IdleMemoryResult(string Server, int Connections, double GcHeapBytesPerConnection, double WorkingSetBytesPerConnection);

internal sealed record TargetResult(string Target, string Measured, bool Met);
