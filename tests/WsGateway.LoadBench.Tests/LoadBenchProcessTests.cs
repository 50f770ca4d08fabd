using System.Diagnostics;

namespace WsGateway.LoadBench.Tests;

/// <summary>The load benchmark as it is run: <c>dotnet WsGateway.LoadBench.dll</c>, which starts its two servers as
/// child processes of itself.</summary>
public sealed class LoadBenchProcessTests
{
    [Fact]
    public async Task Quick_runs_both_servers_and_exits_zero()
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "WsGateway.LoadBench.dll"));
        info.ArgumentList.Add("--quick");
        using Process bench = Process.Start(info)!;
        Task<string> output = bench.StandardOutput.ReadToEndAsync();
        Task<string> errors = bench.StandardError.ReadToEndAsync();
        await bench.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        string text = await output;

        Assert.True(bench.ExitCode == 0, $"exit {bench.ExitCode}\n{text}\n{await errors}");
        Assert.Matches(@"single frames, 1 connection\s+[\d,]+\s+[\d,]+\s+[\d.]+x", text);
        Assert.Contains("ping-pong", text, StringComparison.Ordinal);
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
        Assert.NotEmpty(BenchCommand.Create().Parse(["server", "--kind", "other"]).Errors);
    }

    private static BenchSettings Settings(string[] only) => new(1, 0.1, 64, 1000, 10, 0, Quick: true, only, AllocProfile: false);
}
