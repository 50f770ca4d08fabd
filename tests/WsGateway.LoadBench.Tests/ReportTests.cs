namespace WsGateway.LoadBench.Tests;

/// <summary>The report's text and targets from figures chosen here, so the expected ratios are worked out by hand.</summary>
public sealed class ReportTests
{
    [Fact]
    public void Each_gateway_column_carries_its_ratio_to_the_baseline()
    {
        BenchReport report = Report(quick: true, ServerKinds.All);
        report.Throughput.Add(Throughput("single frames, 1 connection", ServerKinds.Gateway, 3_000_000, 0));
        report.Throughput.Add(Throughput("single frames, 1 connection", ServerKinds.GatewayKestrel, 1_500_000, 0));
        report.Throughput.Add(Throughput("single frames, 1 connection", ServerKinds.Baseline, 1_000_000, 0.25));
        report.Latency.Add(Latency("ping-pong", ServerKinds.Gateway, 20));
        report.Latency.Add(Latency("ping-pong", ServerKinds.GatewayKestrel, 30));
        report.Latency.Add(Latency("ping-pong", ServerKinds.Baseline, 40));

        string text = ReportText.Format(report);

        Assert.Matches(@"(?m)^single frames, 1 connection\s+3,000,000\s+3\.00x\s+1,500,000\s+1\.50x\s+1,000,000\s*$", text);
        Assert.Matches(@"(?m)^ping-pong p50\s+20\.0\s+0\.50x\s+30\.0\s+0\.75x\s+40\.0\s*$", text);
        Assert.Matches(@"(?m)^single frames, 1 connection\s+0\.000\s+0\.000\s+0\.250\s*$", text); // steady B/msg: no ratios
    }

    [Fact]
    public void Without_the_baseline_there_are_no_ratios()
    {
        BenchReport report = Report(quick: true, [ServerKinds.Gateway, ServerKinds.GatewayKestrel]);
        report.Throughput.Add(Throughput("single frames, 1 connection", ServerKinds.Gateway, 3_000_000, 0));
        report.Throughput.Add(Throughput("single frames, 1 connection", ServerKinds.GatewayKestrel, 1_500_000, 0));

        string text = ReportText.Format(report);

        Assert.Matches(@"(?m)^single frames, 1 connection\s+3,000,000\s+1,500,000\s*$", text);
        Assert.DoesNotContain("x ", text.Split("Targets")[0].Split("Throughput")[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Targets_are_checked_for_both_gateway_transports()
    {
        BenchReport report = Report(quick: false, ServerKinds.All);
        report.Throughput.Add(Throughput("single frames, 1 connection", ServerKinds.Gateway, 4_000_000, 0));
        report.Throughput.Add(Throughput("single frames, 1 connection", ServerKinds.GatewayKestrel, 2_000_000, 0.5));
        report.Throughput.Add(Throughput("single frames, 1 connection", ServerKinds.Baseline, 1_000_000, 1));
        report.IdleMemory.Add(new IdleMemoryResult(ServerKinds.Gateway, 100, 4096, 6000));
        report.IdleMemory.Add(new IdleMemoryResult(ServerKinds.GatewayKestrel, 100, 9000, 9000));
        report.IdleMemory.Add(new IdleMemoryResult(ServerKinds.Baseline, 100, 15000, 15000));

        BenchTargets.Evaluate(report);

        Assert.True(Target(report, "gateway: single frames").Met);
        Assert.False(Target(report, "gateway-kestrel: single frames").Met); // 2x < 3x
        Assert.True(Target(report, "gateway: 0 B allocated").Met);
        Assert.False(Target(report, "gateway-kestrel: 0 B allocated").Met); // 0.5 B/msg
        Assert.True(Target(report, "gateway: <= 8 KiB").Met);
        Assert.False(Target(report, "gateway-kestrel: <= 8 KiB").Met);
        Assert.DoesNotContain(report.Targets, t => t.Target.StartsWith("baseline", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("0", 0b1L, "0")]
    [InlineData("0,2-3", 0b1101L, "0,2-3")]
    [InlineData("3,0-1", 0b1011L, "0-1,3")]
    public void Cpu_lists_read_as_taskset_writes_them(string list, long mask, string formatted)
    {
        Assert.True(CpuAffinity.TryParse(list, 8, out long parsed, out string? error), error);
        Assert.Equal(mask, parsed);
        Assert.Equal(formatted, CpuAffinity.Format(parsed));
    }

    [Theory]
    [InlineData("", "not a CPU list")]
    [InlineData("a", "not a CPU list")]
    [InlineData("3-1", "not a CPU list")]
    [InlineData("0-8", "names CPU 8, but this machine has CPUs 0-7")]
    public void A_bad_cpu_list_says_what_was_expected(string list, string message)
    {
        Assert.False(CpuAffinity.TryParse(list, 8, out _, out string? error));
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    private static TargetResult Target(BenchReport report, string prefix)
        => Assert.Single(report.Targets, t => t.Target.StartsWith(prefix, StringComparison.Ordinal));

    private static BenchReport Report(bool quick, string[] servers)
        => new(
            new MachineInfo(2, "cpu", "os", "runtime", false, "now", "0-1"),
            new BenchSettings(1, 1, 64, 1000, 10, 0, quick, [], AllocProfile: false, servers, ServerCpus: null, ClientCpus: null),
            [], [], [], [], [], []);

    private static ThroughputResult Throughput(string scenario, string server, double perSecond, double steadyBytes)
        => new(scenario, server, 1, 1, 1000, [perSecond], perSecond, steadyBytes, (long)(steadyBytes * 1000), steadyBytes);

    private static LatencyResult Latency(string scenario, string server, double p50)
        => new(scenario, server, 100, p50, p50 + 1, p50 + 2, p50 + 3, p50 + 4);
}
