using System.Diagnostics;

namespace WsGateway.Cli.Tests;

/// <summary>The <c>wsgw</c> executable itself, as a user runs it: a child process, exit codes (serve: <see cref="ServeProcessTests"/>).</summary>
public sealed class ProcessTests
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
}
