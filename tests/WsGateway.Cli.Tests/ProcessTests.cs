using System.Diagnostics;
using System.Net.WebSockets;
using System.Text.RegularExpressions;

namespace WsGateway.Cli.Tests;

/// <summary>The <c>wsgw</c> executable itself, as a user runs it: a child process, signals, exit codes.</summary>
public sealed partial class ProcessTests
{
    private static string WsgwDll => Path.Combine(AppContext.BaseDirectory, "wsgw.dll");

    private static Process Start(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(WsgwDll);
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return Process.Start(info)!;
    }

    [Fact]
    public async Task Serve_listens_counts_and_shuts_down_gracefully_on_SIGTERM()
    {
        using Process serve = Start("serve", "--listen", "127.0.0.1:0", "--stats-interval", "0.2", "--admin", "none");
        string? banner = await serve.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Match url = ListeningOn().Match(banner ?? string.Empty);
        Assert.True(url.Success, $"unexpected first line: {banner}");

        using (var client = new ClientWebSocket())
        {
            await client.ConnectAsync(new Uri(url.Groups[1].Value), CancellationToken.None);
            byte[] trade = Convert.FromHexString("15000100010000003930000000000000420000000000205940e8030000");
            await client.SendAsync(trade, WebSocketMessageType.Binary, true, CancellationToken.None);
            await client.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }

        await Task.Delay(500);
        Assert.Equal(0, Kill(serve.Id, 15)); // SIGTERM
        string rest = await serve.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await serve.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(0, serve.ExitCode);
        Assert.Matches(@"Session stats: connection \d+ \(127\.0\.0\.1:\d+\): 1 messages, total quantity 1000, 0 errors, closed 1000", rest);
        Assert.Contains("connections 0, messages/s", rest, StringComparison.Ordinal);
        Assert.Contains("wsgw: shutting down (closing connections with 1001)", rest, StringComparison.Ordinal);
        Assert.Contains("wsgw: 1 connections, 1 trades, total quantity 1000, 0 errors", rest, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bench_quick_runs_both_servers_and_exits_zero()
    {
        using Process bench = Start("bench", "--quick");
        Task<string> output = bench.StandardOutput.ReadToEndAsync();
        Task<string> errors = bench.StandardError.ReadToEndAsync();
        await bench.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        string text = await output;

        Assert.True(bench.ExitCode == 0, $"exit {bench.ExitCode}\n{text}\n{await errors}");
        Assert.Matches(@"single frames, 1 connection\s+[\d,]+\s+[\d,]+\s+[\d.]+x", text);
        Assert.Contains("ping-pong", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_parses_its_url_and_reports_an_unreachable_gateway()
    {
        using Process send = Start("send", "--url", "ws://127.0.0.1:1/", "-n", "1");
        Task<string> output = send.StandardOutput.ReadToEndAsync();
        string error = await send.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await send.WaitForExitAsync();

        Assert.Equal(1, send.ExitCode);
        Assert.StartsWith("wsgw send: cannot connect to ws://127.0.0.1:1/: ", error, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", error + await output, StringComparison.Ordinal);

        using Process bad = Start("send", "--url", "not a url");
        string badError = await bad.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await bad.WaitForExitAsync();
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("--url must be an absolute ws:// or wss:// URL such as ws://127.0.0.1:9001/, got 'not a url'", badError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Decode_prints_the_table_and_exits_nonzero_on_a_bad_message()
    {
        using Process decode = Start("decode", "1500010001000000393000000000000042000000000020594");
        string text = await decode.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30));
        string error = await decode.StandardError.ReadToEndAsync();
        await decode.WaitForExitAsync();

        Assert.Equal(2, decode.ExitCode); // odd number of digits
        Assert.Contains("Odd number of hex digits", error, StringComparison.Ordinal);
        Assert.Empty(text);
    }

    private static int Kill(int pid, int signal)
    {
        using Process kill = Process.Start("kill", $"-{signal} {pid}");
        kill.WaitForExit();
        return kill.ExitCode;
    }

    [GeneratedRegex(@"listening on (ws://\S+)")]
    private static partial Regex ListeningOn();
}
