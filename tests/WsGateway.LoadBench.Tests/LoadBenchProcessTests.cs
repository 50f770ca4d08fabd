using System.Diagnostics;
using System.Text.Json;

namespace WsGateway.LoadBench.Tests;

/// <summary>The load benchmark as it is run: <c>dotnet WsGateway.LoadBench.dll</c>, which starts its three servers as
/// child processes of itself.</summary>
public sealed class LoadBenchProcessTests
{
    private static readonly string s_lastCpu = (Environment.ProcessorCount - 1).ToString(System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task Quick_runs_all_three_servers_pinned_and_reports_each_with_ratios_to_the_baseline()
    {
        string json = Path.Combine(Path.GetTempPath(), $"loadbench-{Guid.NewGuid():N}.json");
        try
        {
            (int exit, string text, string errors) = await RunAsync("--quick", "--server-cpus", "0", "--client-cpus", s_lastCpu, "--json", json);

            Assert.True(exit == 0, $"exit {exit}\n{text}\n{errors}");

            // A column per server, each gateway figure followed by its ratio to the baseline's.
            Assert.Matches(@"(?m)^Throughput \(trades/s\)\s+gateway\s+gateway-kestrel\s+baseline\s*$", text);
            Assert.Matches(@"(?m)^single frames, 1 connection\s+[\d,]+\s+[\d.]+x\s+[\d,]+\s+[\d.]+x\s+[\d,]+\s*$", text);
            Assert.Matches(@"(?m)^ping-pong p50\s+[\d.]+\s+[\d.]+x\s+[\d.]+\s+[\d.]+x\s+[\d.]+\s*$", text);

            // Each server says which transport it runs on and where it may run: pinned by taskset to CPU 0.
            Assert.Contains("gateway (native, 1 event loop) on CPUs 0;", text, StringComparison.Ordinal);
            Assert.Contains("gateway-kestrel (kestrel) on CPUs 0;", text, StringComparison.Ordinal);
            Assert.Contains("baseline (kestrel+System.Net.WebSockets) on CPUs 0;", text, StringComparison.Ordinal);
            Assert.Contains($"load generator on CPUs {s_lastCpu}", text, StringComparison.Ordinal);

            using JsonDocument report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
            string[] all = ["gateway", "gateway-kestrel", "baseline"];
            Assert.Equal(all, Servers(report, "throughput", "single frames, 1 connection"));
            Assert.Equal(all, Servers(report, "throughput", "batched (64/frame), 1 connection"));
            Assert.Equal(all, Servers(report, "latency", "ping-pong"));
            Assert.Equal(all, report.RootElement.GetProperty("idleMemory").EnumerateArray().Select(r => r.GetProperty("server").GetString()!).ToArray());
            Assert.Equal(all, report.RootElement.GetProperty("servers").EnumerateArray().Select(r => r.GetProperty("server").GetString()!).ToArray());
        }
        finally
        {
            File.Delete(json);
        }
    }

    [Fact]
    public async Task Sinks_quick_measures_jetstream_against_its_own_client_in_both_record_modes()
    {
        (int exit, string text, string errors) = await RunAsync("sinks", "--quick", "--engines", "nats");

        Assert.True(exit == 0, $"exit {exit}\n{text}\n{errors}");
        Assert.Matches(@"(?m)^\| nats \| NATS\.Net async publisher[^|]*\| [1-9][\d,]* \| [\d, ]+ \| 1\.00 \| \|$", text);
        Assert.Matches(@"(?m)^\| nats \| gateway \+ sink, one record per trade[^|]*\| [1-9][\d,]* \| [\d, ]+ \| [\d.]+x \| [\d.]+ \|$", text);
        Assert.Matches(@"(?m)^\| nats \| gateway \+ sink, one record per frame[^|]*\| [1-9][\d,]* \| [\d, ]+ \| [\d.]+x \| [\d.]+ \|$", text);
        Assert.Matches(@"(?m)^nats: TradeAck round trip .* p50 \d+ µs, p99 \d+ µs.*the engine's bare round trip p50 \d+ µs", text);
        Assert.Matches(@"(?m)^nats: down 1 s .* all [\d,]+ acknowledged", text);
    }

    [Fact]
    public async Task Servers_option_runs_only_the_servers_named()
    {
        (int exit, string text, string errors) = await RunAsync("--quick", "--only", "single frames, 1 connection", "--servers", "gateway-kestrel");

        Assert.True(exit == 0, $"exit {exit}\n{text}\n{errors}");
        Assert.Matches(@"(?m)^Throughput \(trades/s\)\s+gateway-kestrel\s*$", text);
        Assert.Matches(@"(?m)^single frames, 1 connection\s+[\d,]+\s*$", text);
        Assert.DoesNotContain("gateway (native", text, StringComparison.Ordinal);
        Assert.DoesNotContain("baseline", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Only_selects_scenarios_by_a_word_of_their_name()
    {
        BenchSettings all = Settings([]);
        BenchSettings some = Settings(["ping", "BATCHED"]);

        Assert.True(all.Selected("idle connections"));
        Assert.True(some.Selected("ping-pong"));
        Assert.True(some.Selected("batched (64/frame), 1 connection"));
        Assert.False(some.Selected("single frames, 1 connection"));
        Assert.False(some.Selected("idle connections"));
    }

    [Fact]
    public void A_bad_value_is_a_parse_error_before_any_server_starts()
    {
        Assert.NotEmpty(BenchCommand.Create().Parse(["--runs", "many"]).Errors);
        Assert.Empty(BenchCommand.Create().Parse(["server", "--kind", "baseline", "--mode", "echo"]).Errors);
        Assert.Empty(BenchCommand.Create().Parse(["server", "--kind", "gateway-kestrel"]).Errors);
        Assert.NotEmpty(BenchCommand.Create().Parse(["server", "--kind", "other"]).Errors);
        Assert.Empty(BenchCommand.Create().Parse(["--servers", "baseline,gateway", "--server-cpus", "0", "--client-cpus", "0"]).Errors);

        string error = Assert.Single(BenchCommand.Create().Parse(["--servers", "gateway,nginx"]).Errors).Message;
        Assert.Contains("'nginx'", error, StringComparison.Ordinal);
        Assert.Contains("gateway, gateway-kestrel, baseline", error, StringComparison.Ordinal);
        Assert.Contains("--server-cpus", Assert.Single(BenchCommand.Create().Parse(["--server-cpus", "first"]).Errors).Message, StringComparison.Ordinal);
        Assert.Contains("CPU 4096", Assert.Single(BenchCommand.Create().Parse(["--client-cpus", "0-4096"]).Errors).Message, StringComparison.Ordinal);
    }

    private static BenchSettings Settings(string[] only) => new(1, 0.1, 64, 1000, 10, 0, Quick: true, only, AllocProfile: false, ServerKinds.All, ServerCpus: null, ClientCpus: null);

    private static string[] Servers(JsonDocument report, string section, string scenario)
        => [.. report.RootElement.GetProperty(section).EnumerateArray()
            .Where(r => r.GetProperty("scenario").GetString() == scenario)
            .Select(r => r.GetProperty("server").GetString()!)];

    private static async Task<(int Exit, string Output, string Errors)> RunAsync(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "WsGateway.LoadBench.dll"));
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using Process bench = Process.Start(info)!;
        Task<string> output = bench.StandardOutput.ReadToEndAsync();
        Task<string> errors = bench.StandardError.ReadToEndAsync();
        try
        {
            await bench.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        }
        finally
        {
            if (!bench.HasExited)
            {
                bench.Kill(entireProcessTree: true);
            }
        }

        return (bench.ExitCode, await output, await errors);
    }
}
