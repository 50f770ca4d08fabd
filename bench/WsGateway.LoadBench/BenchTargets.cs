using System.Globalization;

namespace WsGateway.LoadBench;

/// <summary>The targets of the load benchmark (issue 4), checked for each gateway transport that ran against the
/// baseline of the same run. Not checked in <c>--quick</c> runs (sizes too small to mean anything).</summary>
internal static class BenchTargets
{
    public static void Evaluate(BenchReport report)
    {
        if (report.Settings.Quick)
        {
            return;
        }

        foreach (string gateway in ServerKinds.Gateways)
        {
            if (Array.IndexOf(report.Settings.Servers, gateway) >= 0)
            {
                Evaluate(report, gateway);
            }
        }
    }

    private static void Evaluate(BenchReport report, string gateway)
    {
        ThroughputResult? Find(string server, int connections, int tradesPerFrame)
            => report.Throughput.Find(t => t.Server == server && t.Connections == connections && t.TradesPerFrame == tradesPerFrame);

        void Ratio(string target, int connections, int tradesPerFrame, double wanted)
        {
            if (Find(gateway, connections, tradesPerFrame) is { } gw && Find(ServerKinds.Baseline, connections, tradesPerFrame) is { } baseline)
            {
                double ratio = gw.MedianMessagesPerSecond / baseline.MedianMessagesPerSecond;
                report.Targets.Add(new TargetResult($"{gateway}: {target}", Invariant($"{ratio:0.00}x ({gw.MedianMessagesPerSecond:N0} vs {baseline.MedianMessagesPerSecond:N0} msg/s)"), ratio >= wanted));
            }
        }

        Ratio("single frames, 1 connection >= 3x baseline", 1, 1, 3);
        Ratio("batched, 1 connection >= 1.5x baseline", 1, report.Settings.BatchSize, 1.5);

        if (report.Latency.Find(l => l.Scenario == "ping-pong" && l.Server == gateway) is { } gwLatency
            && report.Latency.Find(l => l.Scenario == "ping-pong" && l.Server == ServerKinds.Baseline) is { } blLatency)
        {
            report.Targets.Add(new TargetResult($"{gateway}: ping-pong p50 <= baseline", Invariant($"{gwLatency.P50Us:0.0} us vs {blLatency.P50Us:0.0} us"), gwLatency.P50Us <= blLatency.P50Us));
        }

        List<ThroughputResult> runs = report.Throughput.FindAll(t => t.Server == gateway);
        if (runs.Count > 0)
        {
            // Steady state when sampled (full runs); otherwise the whole run, connection close included.
            double worst = runs.Max(t => double.IsNaN(t.SteadyAllocatedBytesPerMessage) ? t.AllocatedBytesPerMessage : t.SteadyAllocatedBytesPerMessage);
            report.Targets.Add(new TargetResult($"{gateway}: 0 B allocated per message in steady state (< 0.01 B/msg)", Invariant($"{worst:0.000} B/msg (worst scenario)"), worst < 0.01));
        }

        if (report.IdleMemory.Find(m => m.Server == gateway) is { } idle)
        {
            double worst = Math.Max(idle.GcHeapBytesPerConnection, idle.WorkingSetBytesPerConnection);
            report.Targets.Add(new TargetResult(
                $"{gateway}: <= 8 KiB server memory per idle connection",
                Invariant($"GC heap {idle.GcHeapBytesPerConnection / 1024:0.00} KiB, working set {idle.WorkingSetBytesPerConnection / 1024:0.00} KiB"),
                worst <= 8 * 1024));
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
