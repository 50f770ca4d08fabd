using System.Globalization;
using System.Text;

namespace WsGateway.LoadBench;

/// <summary>The report as text: one table per measure, a row per scenario (or percentile), a column per server in
/// <see cref="ServerKinds.All"/> order; a gateway column carries its figure and, where the baseline ran, the ratio of
/// that figure to the baseline's (<c>7.69x</c>).</summary>
internal static class ReportText
{
    private const int LabelWidth = 34;
    private const int ValueWidth = 13;
    private const int RatioWidth = 7;

    public static string Format(BenchReport report)
    {
        var text = new StringBuilder();
        MachineInfo m = report.Machine;
        BenchSettings s = report.Settings;
        string[] servers = s.Servers;
        text.AppendLine(Invariant($"WsGateway.LoadBench: {m.ProcessorCount} cores ({m.CpuModel}), {m.Os}, {m.Runtime}, {(m.ServerGc ? "server" : "workstation")} GC; {s.Runs} run(s), medians{(s.Quick ? "; QUICK: sizes too small to quote" : string.Empty)}"));
        var where = new StringBuilder("Servers: ");
        foreach (ServerInfo server in report.Servers)
        {
            where.Append(Invariant($"{server.Server} ({server.Transport}) on CPUs {server.Cpus}; "));
        }

        where.Append(Invariant($"load generator on CPUs {m.ClientCpus}"));
        text.AppendLine(where.ToString());
        bool ratios = Array.IndexOf(servers, ServerKinds.Baseline) >= 0 && servers.Length > 1;
        if (ratios)
        {
            text.AppendLine("Each gateway column: the figure, then the ratio of that figure to the baseline's.");
        }

        var throughput = new List<(string, Func<string, double?>)>();
        var steady = new List<(string, Func<string, double?>)>();
        var whole = new List<(string, Func<string, double?>)>();
        foreach (IGrouping<string, ThroughputResult> scenario in report.Throughput.GroupBy(t => t.Scenario))
        {
            throughput.Add((scenario.Key, kind => scenario.FirstOrDefault(t => t.Server == kind)?.MedianMessagesPerSecond));
            steady.Add((scenario.Key, kind => scenario.FirstOrDefault(t => t.Server == kind)?.SteadyAllocatedBytesPerMessage));
            whole.Add((scenario.Key, kind => scenario.FirstOrDefault(t => t.Server == kind)?.AllocatedBytesPerMessage));
        }

        Table(text, "Throughput (trades/s)", servers, throughput, "N0", ratios);
        Table(text, "Server B/msg, steady state", servers, steady, "0.000", ratios: false);
        Table(text, "Server B/msg, whole run", servers, whole, "0.000", ratios: false);

        var latency = new List<(string, Func<string, double?>)>();
        foreach (IGrouping<string, LatencyResult> scenario in report.Latency.GroupBy(l => l.Scenario))
        {
            latency.Add(($"{scenario.Key} p50", kind => scenario.FirstOrDefault(l => l.Server == kind)?.P50Us));
            latency.Add(($"{scenario.Key} p90", kind => scenario.FirstOrDefault(l => l.Server == kind)?.P90Us));
            latency.Add(($"{scenario.Key} p99", kind => scenario.FirstOrDefault(l => l.Server == kind)?.P99Us));
            latency.Add(($"{scenario.Key} p99.9", kind => scenario.FirstOrDefault(l => l.Server == kind)?.P999Us));
            latency.Add(($"{scenario.Key} max", kind => scenario.FirstOrDefault(l => l.Server == kind)?.MaxUs));
        }

        Table(text, "Latency (us, round trip)", servers, latency, "0.0", ratios);

        var idle = new List<(string, Func<string, double?>)>();
        if (report.IdleMemory.Count > 0)
        {
            int connections = report.IdleMemory[0].Connections;
            idle.Add(("GC heap/connection", kind => report.IdleMemory.Find(i => i.Server == kind)?.GcHeapBytesPerConnection / 1024));
            idle.Add(("working set/connection", kind => report.IdleMemory.Find(i => i.Server == kind)?.WorkingSetBytesPerConnection / 1024));
            Table(text, Invariant($"Idle memory (KiB, {connections:N0} connections)"), servers, idle, "0.00", ratios);
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

    private static void Table(StringBuilder text, string title, string[] servers, List<(string Label, Func<string, double?> Value)> rows, string format, bool ratios)
    {
        bool any = false;
        foreach ((_, Func<string, double?> value) in rows)
        {
            foreach (string kind in servers)
            {
                any |= value(kind) is { } v && !double.IsNaN(v);
            }
        }

        if (!any)
        {
            return; // e.g. no steady-state samples: --quick runs end before the second one
        }

        text.AppendLine();
        text.Append(title.PadRight(LabelWidth));
        foreach (string kind in servers)
        {
            text.Append(' ').Append(kind.PadLeft(Width(kind, ratios)));
        }

        text.AppendLine();
        foreach ((string label, Func<string, double?> value) in rows)
        {
            text.Append(label.PadRight(LabelWidth));
            double? baseline = value(ServerKinds.Baseline);
            foreach (string kind in servers)
            {
                double? figure = value(kind);
                string cell = figure is { } f && !double.IsNaN(f) ? f.ToString(format, CultureInfo.InvariantCulture) : "-";
                if (HasRatio(kind, ratios))
                {
                    string ratio = figure is { } g && baseline is { } b && b > 0 && !double.IsNaN(g)
                        ? (g / b).ToString("0.00", CultureInfo.InvariantCulture) + "x"
                        : "-";
                    cell = cell.PadLeft(ValueWidth) + " " + ratio.PadLeft(RatioWidth);
                }

                text.Append(' ').Append(cell.PadLeft(Width(kind, ratios)));
            }

            text.AppendLine();
        }
    }

    private static bool HasRatio(string kind, bool ratios) => ratios && kind != ServerKinds.Baseline;

    private static int Width(string kind, bool ratios)
        => Math.Max(kind.Length, HasRatio(kind, ratios) ? ValueWidth + 1 + RatioWidth : ValueWidth);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
