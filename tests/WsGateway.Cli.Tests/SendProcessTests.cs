using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace WsGateway.Cli.Tests;

/// <summary>
/// <c>wsgw send</c> as a user runs it: a child process against a real <c>wsgw serve</c> process (or a small server in
/// the test on 127.0.0.1), judged by its exit code, its standard output (the summary) and its standard error.
/// </summary>
public sealed partial class SendProcessTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(64, 1)]
    [InlineData(1, 4)]
    public async Task A_million_trades_to_an_echo_server_all_come_back_and_send_finishes(int batch, int connections)
    {
        await using ServeProcess serve = await ServeProcess.StartAsync(["--handler", "echo"]);

        Result send = await Wsgw.RunAsync(TimeSpan.FromMinutes(3), "send", "--url", serve.Url, "-n", "1000000", "--batch", $"{batch}", "-c", $"{connections}", "--verify");

        long frames = (1_000_000 + batch - 1) / batch;
        Assert.True(send.ExitCode == 0, send.ToString());
        Assert.Empty(send.Error);
        string[] lines = send.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith($"wsgw send: sent 1000000 trades in {frames} frames (", lines[0], StringComparison.Ordinal);
        Assert.Contains($" over {connections} connections in ", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("unsent", lines[0], StringComparison.Ordinal);
        Assert.Equal($"wsgw send: received 1000000 trades in {frames} frames from the server; --verify: {frames} frames as sent, 0 frames differed, 0 frames did not come back", lines[1]);
        Assert.Equal($"wsgw send: closes: {connections}x 1000", lines[2]);
    }

    [Fact]
    public async Task A_close_with_1009_is_a_nonzero_exit_with_the_code_and_reason_in_the_summary()
    {
        // 64 trades per frame are 1,856 bytes, over the server's 100-byte limit: it fails the connection with 1009.
        await using ServeProcess serve = await ServeProcess.StartAsync(["--handler", "echo", "--max-message-size", "100"]);

        Result send = await Wsgw.RunAsync(TimeSpan.FromMinutes(1), "send", "--url", serve.Url, "-n", "100000", "--batch", "64");

        Assert.True(send.ExitCode == 1, send.ToString());
        Assert.Matches(@"^wsgw send: sent \d+ trades in \d+ frames \(\d+ bytes\) over 1 connections in [\d.]+ s, ", send.Output);
        Assert.Contains("wsgw send: closes: 1x 1009 from the server \"", send.Output, StringComparison.Ordinal);
        Assert.Contains("; 1 connections did not close with send's 1000", send.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", send.Output + send.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_counts_are_exactly_what_the_server_counted()
    {
        await using ServeProcess serve = await ServeProcess.StartAsync(["--handler", "stats"]);

        Result send = await Wsgw.RunAsync(TimeSpan.FromMinutes(1), "send", "--url", serve.Url, "-n", "100003", "-c", "3", "--batch", "7");
        string served = await serve.StopAsync();

        Assert.True(send.ExitCode == 0, send.ToString());
        Assert.StartsWith("wsgw send: sent 100003 trades in 14287 frames (", send.Output, StringComparison.Ordinal); // 33,335 + 2 x 33,334 trades in frames of 7: 4,763 + 2 x 4,762
        Assert.Equal([33_334, 33_334, 33_335], SessionTrades(served).Order());
    }

    [Fact]
    public async Task A_server_shutting_down_mid_run_is_a_nonzero_exit_and_sent_plus_unsent_is_exact()
    {
        // The issue's case: 1001 in the middle of a run. The server delivers what arrives until send answers its close,
        // so the trades send counts as sent (flushed to the socket) are exactly those the server counted.
        await using ServeProcess serve = await ServeProcess.StartAsync(["--handler", "stats"], statsInterval: "0.2");
        using Process send = Wsgw.Start("send", "--url", serve.Url, "-n", "10000000", "--rate", "20000"); // 500 s if not stopped
        Task<string> output = send.StandardOutput.ReadToEndAsync();
        Task<string> error = send.StandardError.ReadToEndAsync();
        await serve.WaitForLineAsync(ServeProcess.OneConnection(), TimeSpan.FromSeconds(60)); // send is connected
        await Task.Delay(TimeSpan.FromSeconds(1));

        string served = await serve.StopAsync();
        await send.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        string summary = await output;

        Assert.True(send.ExitCode == 1, $"exit {send.ExitCode}\n{summary}\n{await error}");
        long counted = Assert.Single(SessionTrades(served));
        Match sent = Regex.Match(summary, @"^wsgw send: sent (\d+) trades in (\d+) frames .*; (\d+) trades unsent$", RegexOptions.Multiline);
        Assert.True(sent.Success, summary);
        Assert.Equal(counted, long.Parse(sent.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(counted, long.Parse(sent.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(10_000_000 - counted, long.Parse(sent.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.InRange(counted, 1, 9_999_999);
        Assert.Contains("wsgw send: closes: 1x 1001 from the server \"Server shutting down\"", summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ctrl_C_stops_send_with_exit_130_and_still_prints_the_summary()
    {
        await using ServeProcess serve = await ServeProcess.StartAsync(["--handler", "stats"], statsInterval: "0.2");
        using Process send = Wsgw.Start("send", "--url", serve.Url, "-n", "10000000", "--rate", "20000");
        Task<string> output = send.StandardOutput.ReadToEndAsync();
        Task<string> error = send.StandardError.ReadToEndAsync();
        await serve.WaitForLineAsync(ServeProcess.OneConnection(), TimeSpan.FromSeconds(60));

        using (Process kill = Process.Start("kill", $"-INT {send.Id}"))
        {
            await kill.WaitForExitAsync();
        }

        await send.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        string summary = await output;
        Assert.True(send.ExitCode == 130, $"exit {send.ExitCode}\n{summary}\n{await error}");
        Assert.Matches(@"^wsgw send: sent \d+ trades in \d+ frames .*; \d+ trades unsent\n", summary);
        Assert.Contains("wsgw send: closes: 1x 1006 dropped by send (interrupted)", summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_catches_an_echo_that_differs_and_exits_3()
    {
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new SendCommandTests.CorruptingEcho(corruptFrame: 3, trade: 0)).Start();

        Result send = await Wsgw.RunAsync(TimeSpan.FromMinutes(1), "send", "--url", server.Url.ToString(), "-n", "500", "--batch", "5", "--verify");

        Assert.True(send.ExitCode == 3, send.ToString());

        // Frame 3 starts with trade 11 (index 10): id 10, symbol 'K', price 102.5, quantity 11, echoed as 12.
        Assert.Equal(
            "wsgw send: --verify: connection 0: frame 3, trade 11: sent Trade { TradeId = 10, Symbol = 'K', Price = 102.5, Quantity = 11 }, "
            + "came back Trade { TradeId = 10, Symbol = 'K', Price = 102.5, Quantity = 12 }\n",
            send.Error);
        Assert.Contains("wsgw send: received 500 trades in 100 frames from the server; --verify: 99 frames as sent, 1 frames differed, 0 frames did not come back\n", send.Output, StringComparison.Ordinal);
        Assert.Contains("wsgw send: closes: 1x 1000\n", send.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_url_that_points_at_a_plain_http_server_shows_the_status_line_and_at_most_200_bytes_of_the_page()
    {
        string page = "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>It works</title></head>\n<body>\n"
            + string.Concat(Enumerable.Range(0, 60).Select(i => $"  <p>Paragraph {i:00} of an ordinary web page.</p>\n")) + "</body>\n</html>\n";
        Assert.InRange(Encoding.UTF8.GetByteCount(page), 2500, 4000);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        Task serving = ServeOnePageAsync(listener, page);
        string url = $"ws://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/";

        Result send = await Wsgw.RunAsync(TimeSpan.FromMinutes(1), "send", "--url", url, "-n", "10");
        await serving.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(send.ExitCode == 1, send.ToString());
        Assert.Empty(send.Output);
        string head = $"wsgw send: cannot connect to {url}: The server answered HTTP/1.1 200 OK instead of 101 Switching Protocols: is the URL a WebSocket endpoint?: ";
        Assert.StartsWith(head, send.Error, StringComparison.Ordinal);
        Assert.EndsWith(" more bytes of body)\n", send.Error, StringComparison.Ordinal);
        Assert.Single(send.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        string quoted = send.Error[head.Length..send.Error.IndexOf(" ... (", StringComparison.Ordinal)];
        Assert.StartsWith("<!DOCTYPE html> <html lang=\"en\"> <head><meta charset=\"utf-8\"><title>It works</title></head> <body> <p>Paragraph 00", quoted, StringComparison.Ordinal);
        Assert.InRange(Encoding.UTF8.GetByteCount(quoted), 150, 200);
        Assert.DoesNotContain("Paragraph 10", send.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_lists_the_exit_codes()
    {
        Result help = await Wsgw.RunAsync(TimeSpan.FromMinutes(1), "send", "--help");

        Assert.Equal(0, help.ExitCode);
        Assert.Contains("Exit codes:", help.Output, StringComparison.Ordinal);
        Assert.Matches(@"\n\s+0  every trade was sent", help.Output);
        Assert.Matches(@"\n\s+1  a connection could not be opened", help.Output);
        Assert.Matches(@"\n\s+3  --verify", help.Output);
        Assert.Matches(@"\n\s+130  interrupted", help.Output);
        Assert.Contains("--verify", help.Output, StringComparison.Ordinal);
    }

    /// <summary>The trades of every "Session stats" line (one per closed connection) that <c>wsgw serve</c> printed.</summary>
    private static long[] SessionTrades(string served)
        => [.. SessionStats().Matches(served).Select(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))];

    private static async Task ServeOnePageAsync(TcpListener listener, string page)
    {
        using Socket socket = await listener.AcceptSocketAsync();
        byte[] buffer = new byte[4096];
        var request = new StringBuilder();
        while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            int n = await socket.ReceiveAsync(buffer);
            if (n == 0)
            {
                return;
            }

            request.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }

        byte[] body = Encoding.UTF8.GetBytes(page);
        await socket.SendAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {body.Length}\r\n\r\n"));
        await socket.SendAsync(body);
        socket.Shutdown(SocketShutdown.Send);
    }

    [GeneratedRegex(@"Session stats: connection \d+ \([^)]*\): (\d+) (?:messages|trades)")]
    private static partial Regex SessionStats();

    internal sealed record Result(int ExitCode, string Output, string Error)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout:\n{Output}\nstderr:\n{Error}";
    }

    /// <summary>Starts <c>wsgw</c> (the built <c>wsgw.dll</c> beside the tests) as a child process.</summary>
    internal static class Wsgw
    {
        public static Process Start(params string[] args)
        {
            var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "wsgw.dll"));
            foreach (string arg in args)
            {
                info.ArgumentList.Add(arg);
            }

            return Process.Start(info)!;
        }

        /// <summary>Runs to the end; killed (and the test failed) if it takes longer than <paramref name="limit"/>.</summary>
        public static async Task<Result> RunAsync(TimeSpan limit, params string[] args)
        {
            using Process process = Start(args);
            Task<string> output = process.StandardOutput.ReadToEndAsync();
            Task<string> error = process.StandardError.ReadToEndAsync();
            try
            {
                await process.WaitForExitAsync().WaitAsync(limit);
            }
            catch (TimeoutException)
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"wsgw {string.Join(' ', args)} did not finish within {limit}");
            }

            return new Result(process.ExitCode, await output, await error);
        }
    }

    /// <summary>A <c>wsgw serve</c> child process on a free port, stopped with SIGTERM (a graceful shutdown).</summary>
    internal sealed partial class ServeProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _text = new();
        private readonly TaskCompletionSource<string> _url = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private ServeProcess(Process process)
        {
            _process = process;
            _process.OutputDataReceived += (_, e) => OnLine(e.Data);
            _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public string Url { get; private set; } = "";

        public static async Task<ServeProcess> StartAsync(string[] args, string statsInterval = "0")
        {
            var serve = new ServeProcess(Wsgw.Start(["serve", "--listen", "127.0.0.1:0", "--admin", "none", "--stats-interval", statsInterval, .. args]));
            try
            {
                serve.Url = await serve._url.Task.WaitAsync(TimeSpan.FromSeconds(60));
            }
            catch (TimeoutException)
            {
                await serve.DisposeAsync();
                lock (serve._text)
                {
                    Assert.Fail($"wsgw serve {string.Join(' ', args)} did not say where it listens within 60 s; it wrote:\n{serve._text}");
                }
            }

            return serve;
        }

        /// <summary>Waits until a line it wrote matches <paramref name="pattern"/>.</summary>
        public async Task WaitForLineAsync(Regex pattern, TimeSpan limit)
        {
            var clock = Stopwatch.StartNew();
            while (true)
            {
                lock (_text)
                {
                    if (pattern.IsMatch(_text.ToString()))
                    {
                        return;
                    }
                }

                Assert.True(clock.Elapsed < limit, $"wsgw serve wrote no line matching {pattern} within {limit}");
                await Task.Delay(50);
            }
        }

        /// <summary>SIGTERM, then everything it wrote (standard output and error together).</summary>
        public async Task<string> StopAsync()
        {
            if (!_process.HasExited)
            {
                using (Process kill = Process.Start("kill", $"-TERM {_process.Id}"))
                {
                    await kill.WaitForExitAsync();
                }

                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }

            _process.WaitForExit(); // the last lines of output
            lock (_text)
            {
                return _text.ToString();
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
        }

        private void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (_text)
            {
                _text.Append(line).Append('\n');
            }

            if (ListeningOn().Match(line) is { Success: true } match)
            {
                _url.TrySetResult(match.Groups[1].Value);
            }
        }

        [GeneratedRegex(@"listening on (ws://\S+)")]
        private static partial Regex ListeningOn();

        /// <summary>The live view's line (one each --stats-interval) once a connection is open.</summary>
        [GeneratedRegex(@"\bconnections 1\b")]
        internal static partial Regex OneConnection();
    }
}
