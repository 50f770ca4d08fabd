namespace WsGateway.LoadBench;

/// <summary>Everything the load benchmark measured; written as JSON with <c>--json</c>.</summary>
internal sealed record BenchReport(
    MachineInfo Machine,
    BenchSettings Settings,
    List<ThroughputResult> Throughput,
    List<LatencyResult> Latency,
    List<IdleMemoryResult> IdleMemory,
    List<TargetResult> Targets,
    List<string> Failures);

internal sealed record MachineInfo(int ProcessorCount, string CpuModel, string Os, string Runtime, bool ServerGc, string StartedUtc);

/// <summary>What was asked for; <paramref name="Only"/> selects scenarios by name (all when empty).</summary>
internal sealed record BenchSettings(int Runs, double DurationSeconds, int BatchSize, int Rate, int PingPongCount, int IdleConnections, bool Quick, string[] Only, bool AllocProfile)
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
