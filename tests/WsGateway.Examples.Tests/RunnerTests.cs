using System.Text.RegularExpressions;
using WsGateway.Client;
using WsGateway.Examples.Runner;
using WsGateway.Examples.Tests.Infrastructure;

namespace WsGateway.Examples.Tests;

/// <summary>The runnable examples, started in-process through the runner's entry method with a cancellation token
/// standing in for Ctrl+C, on port 0, fed by the real client.</summary>
public sealed partial class RunnerTests
{
    [Fact]
    public async Task Printing_prints_each_trade_and_stops_on_cancel()
    {
        await using RunningExample example = await RunningExample.StartAsync("printing", "--port", "0");

        await TradeSender.SendAsync(example.Url, count: 2, batchSize: 1, TextWriter.Null);
        await example.Lines.WaitForLineAsync(l => l.StartsWith("disconnected:", StringComparison.Ordinal));

        Assert.Equal(0, await example.StopAsync());
        IReadOnlyList<string> lines = example.Lines.Lines;
        Assert.Equal($"printing: listening on {example.Url} (Ctrl+C stops)", lines[0]);
        Assert.Equal(["trade 1 B 200 @ 100.25", "trade 2 C 300 @ 100.5", "trade 3 D 400 @ 100.75"], lines.Where(l => l.StartsWith("trade", StringComparison.Ordinal)));
        Assert.Equal("printing: stopped", lines[^1]);
    }

    [Fact]
    public async Task Stats_prints_the_final_per_symbol_table()
    {
        await using RunningExample example = await RunningExample.StartAsync("stats", "--port", "0", "--interval", "3600");

        await TradeSender.SendAsync(example.Url, count: 4, batchSize: 4, TextWriter.Null);

        Assert.Equal(0, await example.StopAsync());
        IReadOnlyList<string> lines = example.Lines.Lines;
        Assert.Equal(
            [
                "stats: stopped; final table:",
                "A: 2 trades, volume 1400, VWAP 100.3571, low 100, high 101, last 100",
                "B: 2 trades, volume 800, VWAP 101, low 100.25, high 101.25, last 101.25",
                "C: 2 trades, volume 1000, VWAP 101.2, low 100.5, high 101.5, last 101.5",
                "D: 2 trades, volume 1200, VWAP 101.4167, low 100.75, high 101.75, last 101.75",
                "total: 8 trades, 0 errors, 0 connections open",
            ],
            lines.Skip(1));
    }

    [Fact]
    public async Task Batch_prints_one_summary_per_message()
    {
        await using RunningExample example = await RunningExample.StartAsync("batch", "--port", "0");

        await TradeSender.SendAsync(example.Url, count: 1, batchSize: 3, TextWriter.Null);

        Assert.Equal(0, await example.StopAsync());
        Assert.Equal(
            [
                $"batch: listening on {example.Url} (Ctrl+C stops)",
                "batch of 1: trades 1..1, volume 200",
                "batch of 3: trades 2..4, volume 1200",
                "batch: stopped",
            ],
            example.Lines.Lines);
    }

    [Fact]
    public async Task Queue_processes_every_trade_and_prints_the_counters()
    {
        await using RunningExample example = await RunningExample.StartAsync("queue", "--port", "0", "--capacity", "1024", "--policy", "close");

        await TradeSender.SendAsync(example.Url, count: 90, batchSize: 10, TextWriter.Null);

        Assert.Equal(0, await example.StopAsync());
        Assert.Equal(
            [
                $"queue: listening on {example.Url}, capacity 1024, when full CloseConnection (Ctrl+C stops)",
                "queue: stopped; accepted 100, processed 100 (volume 55000), dropped 0, connections closed 0",
            ],
            example.Lines.Lines);
    }

    [Fact]
    public async Task Stopping_a_server_example_closes_its_clients_with_1001()
    {
        await using RunningExample example = await RunningExample.StartAsync("printing", "--port", "0");
        await using TradeClient client = await TradeClient.ConnectAsync(example.Url);
        await client.SendTradeAsync(TradeSender.CreateTrade(1));

        Task<int> stopped = example.StopAsync();
        ClientMessage close = await client.ReceiveAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(close.IsClose);
        Assert.Equal((ushort)1001, close.CloseStatus);
        await client.CloseAsync();
        Assert.Equal(0, await stopped);
        Assert.Contains("trade 1 B 200 @ 100.25", example.Lines.Lines);
    }

    [Fact]
    public async Task Client_sends_what_it_prints_to_a_live_gateway()
    {
        var recorder = new RecordingHandler();
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => recorder).Start();
        var lines = new LineWriter();

        int exitCode = await ExampleRunner.RunAsync(["client", "--url", server.Url.ToString(), "--count", "7", "--batch", "3"], lines, CancellationToken.None);
        await recorder.Disconnected.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(0, exitCode);
        Assert.Equal(Enumerable.Range(1, 7).Select(i => TradeSender.CreateTrade((ulong)i)), recorder.DecodedTrades);
        Assert.Equal([3, 3, 1], recorder.MessageSizes); // --batch is the trades per message
        Assert.Equal(
            [$"connected to {server.Url}", "sent 7 trades (ids 1..7) in 3 messages of up to 3", "closed: 1000"],
            lines.Lines);
    }

    [Fact]
    public async Task Client_reports_a_gateway_that_is_not_there()
    {
        var lines = new LineWriter();

        int exitCode = await ExampleRunner.RunAsync(["client", "--url", "ws://127.0.0.1:1/", "--count", "1"], lines, CancellationToken.None);

        Assert.Equal(1, exitCode);
        Assert.StartsWith("client failed: ", Assert.Single(lines.Lines), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new string[0], "no example given")]
    [InlineData(new[] { "nope" }, "unknown example 'nope'")]
    [InlineData(new[] { "printing", "--port" }, "expected --option value, got '--port'")]
    [InlineData(new[] { "printing", "--port", "70000" }, "--port must be 0 to 65535, got 70000")]
    [InlineData(new[] { "queue", "--policy", "block" }, "--policy must be drop or close, got 'block'")]
    [InlineData(new[] { "batch", "--capacity", "3" }, "batch has no option --capacity")]
    [InlineData(new[] { "client", "--count", "-1" }, "--count must be a whole number of at least 0, got '-1'")]
    [InlineData(new[] { "postgres", "--port", "0" }, "--connection is required")]
    [InlineData(new[] { "postgres", "--connection", "Hots=x" }, "postgres sink: bad connection string: Couldn't set hots (Parameter 'hots'); expected 'Host=127.0.0.1;Port=5432;Username=...;Password=...;Database=...'.")]
    [InlineData(new[] { "kafka", "--bootstrap", "127.0.0.1:9092" }, "--topic is required")]
    [InlineData(new[] { "kafka", "--topic", "a/b" }, "kafka sink: topic 'a/b' is not a Kafka topic name; expected 1 to 249 characters of letters, digits, '.', '_' and '-'.")]
    public async Task Usage_errors_print_the_problem_and_the_usage_and_exit_with_2(string[] args, string problem)
    {
        var lines = new LineWriter();

        int exitCode = await ExampleRunner.RunAsync(args, lines, CancellationToken.None);

        Assert.Equal(2, exitCode);
        Assert.Equal(problem, lines.Lines[0]);
        Assert.StartsWith("usage: ", lines.Lines[1], StringComparison.Ordinal);
    }

    /// <summary>An example running in-process on port 0; disposing it cancels it (Ctrl+C) if still running.</summary>
    private sealed partial class RunningExample : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private Task<int> _run = Task.FromResult(0);

        public LineWriter Lines { get; } = new();

        public Uri Url { get; private set; } = null!;

        public static async Task<RunningExample> StartAsync(params string[] args)
        {
            var example = new RunningExample();
            example._run = Task.Run(() => ExampleRunner.RunAsync(args, example.Lines, example._stop.Token));
            string listening = await example.Lines.WaitForLineAsync(l => l.Contains("listening on", StringComparison.Ordinal));
            example.Url = new Uri(UrlPattern().Match(listening).Value);
            return example;
        }

        /// <summary>Ctrl+C, then the exit code.</summary>
        public async Task<int> StopAsync()
        {
            await _stop.CancelAsync();
            return await _run.WaitAsync(TimeSpan.FromSeconds(20));
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            try
            {
                await _run.WaitAsync(TimeSpan.FromSeconds(20));
            }
            finally
            {
                _stop.Dispose();
            }
        }

        [GeneratedRegex(@"ws://127\.0\.0\.1:\d+/")]
        private static partial Regex UrlPattern();
    }
}
