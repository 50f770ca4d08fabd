using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;
using WsGateway.Cli.Tests.Infrastructure;
using WsGateway.Sinks.Tests.Infrastructure;
using Xunit.Abstractions;

namespace WsGateway.Sinks.Tests.Postgres;

/// <summary>
/// <c>wsgw send --reliable</c> as a user runs it, against the real <c>wsgw serve --sink postgres://...</c> and a real
/// PostgreSQL 15: everything acknowledged; a re-run reported as duplicates (by send, the session line and /api/stats)
/// with the table unchanged, and a re-run with <c>--first-id</c> stored; the gateway killed with SIGKILL and started
/// again mid-send, every trade stored exactly once; the gateway gone for good, exit 4 with the count.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed partial class ReliableSendProcessTests(PostgresServerFixture server, ITestOutputHelper output)
{
    private static int s_tables;

    [Fact]
    public async Task Every_trade_acknowledged_exits_0_and_a_rerun_is_reported_as_duplicates_until_first_id_moves_on()
    {
        string table = NewTable();
        int[] ports = FreePorts.Take(2);
        using WsgwProcess gateway = await StartGatewayAsync(ports[0], table, "--admin", $"127.0.0.1:{ports[1]}");
        try
        {
            // (a) Every trade acknowledged: exit 0, the line, the rows.
            WsgwProcess first = await SendAsync(ports[0], "--count", "5000", "--connections", "2", "--batch", "50");
            Assert.Equal(0, first.ExitCode);
            Assert.Contains("wsgw send: acknowledged 5000 of 5000 trades (0 duplicates reported by the gateway, 0 reconnects)", first.Stdout);
            Assert.Equal((5000, 0L, 4999L), await RowsAsync(table));

            // (b) The same run again: every trade is a duplicate, said by send, the session lines and /api/stats; the
            // table is unchanged.
            WsgwProcess again = await SendAsync(ports[0], "--count", "5000", "--connections", "2", "--batch", "50");
            Assert.Equal(0, again.ExitCode);
            Assert.Contains("wsgw send: acknowledged 5000 of 5000 trades (5000 duplicates reported by the gateway, 0 reconnects)", again.Stdout);
            Assert.Equal((5000, 0L, 4999L), await RowsAsync(table));
            await WaitForSessionLinesAsync(gateway, 4);
            string[] sessions = gateway.Stdout.Where(l => l.StartsWith("Session stats:", StringComparison.Ordinal)).ToArray();
            Assert.Equal(2, sessions.Count(l => l.EndsWith("closed 1000; sink: 2500 stored, 0 duplicates", StringComparison.Ordinal)));
            Assert.Equal(2, sessions.Count(l => l.EndsWith("closed 1000; sink: 2500 stored, 2500 duplicates", StringComparison.Ordinal)));
            using (var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ports[1]}/") })
            {
                using JsonDocument stats = JsonDocument.Parse(await http.GetStringAsync(new Uri("api/stats", UriKind.Relative)));
                JsonElement sink = stats.RootElement.GetProperty("sink");
                Assert.Equal(10_000, sink.GetProperty("stored").GetInt64());
                Assert.Equal(5000, sink.GetProperty("duplicates").GetInt64());
            }

            // With --first-id past the first run's ids, the trades are new and stored.
            WsgwProcess moved = await SendAsync(ports[0], "--count", "5000", "--first-id", "5000", "--batch", "50");
            Assert.Equal(0, moved.ExitCode);
            Assert.Contains("wsgw send: acknowledged 5000 of 5000 trades (0 duplicates reported by the gateway, 0 reconnects)", moved.Stdout);
            Assert.Equal((10_000, 0L, 9999L), await RowsAsync(table));
        }
        finally
        {
            Log(gateway);
        }
    }

    [Fact]
    public async Task The_gateway_killed_and_started_again_mid_send_loses_and_doubles_nothing()
    {
        string table = NewTable();
        int port = FreePorts.Take(1)[0];
        const int Count = 60_000;
        WsgwProcess gateway = await StartGatewayAsync(port, table);
        WsgwProcess? restarted = null;
        using WsgwProcess send = WsgwProcess.Start(
            "send", "--url", $"ws://127.0.0.1:{port}/", "--reliable", "--ack-timeout", "20",
            "--count", Count.ToString(CultureInfo.InvariantCulture), "--batch", "20", "--rate", "15000", "--first-id", "1000000");
        try
        {
            // SIGKILL once part of the trades is stored: no drain, no close frames, a connection reset.
            var clock = Stopwatch.StartNew();
            while ((await RowsAsync(table)).Rows < 5_000)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "the first trades never reached the table");
                Assert.True(send.IsRunning, "send ended before the gateway was killed: " + string.Join('\n', send.Stdout.Concat(send.Stderr)));
                await Task.Delay(50);
            }

            await KillAsync(gateway);
            long storedAtKill = (await RowsAsync(table)).Rows;
            Assert.True(storedAtKill < Count, "every trade was stored before the kill: the restart proved nothing");
            await Task.Delay(1500);
            restarted = await StartGatewayAsync(port, table);

            await send.WaitForExitAsync();
            Log(send);
            Assert.Equal(0, send.ExitCode);
            Assert.Contains(send.Stderr, l => l.Contains("lost with", StringComparison.Ordinal) && l.Contains("reconnecting", StringComparison.Ordinal));
            string line = Assert.Single(send.Stdout, l => l.StartsWith("wsgw send: acknowledged", StringComparison.Ordinal));
            Match match = AcknowledgedLine().Match(line);
            Assert.True(match.Success, line);
            Assert.Equal(Count, long.Parse(match.Groups["acked"].Value, CultureInfo.InvariantCulture));
            Assert.Equal(Count, long.Parse(match.Groups["total"].Value, CultureInfo.InvariantCulture));
            Assert.True(int.Parse(match.Groups["reconnects"].Value, CultureInfo.InvariantCulture) >= 1, line);

            // Exactly once: the primary key forbids a second row per id, so count and range say every id is there.
            Assert.Equal((Count, 1_000_000L, 1_000_000L + Count - 1), await RowsAsync(table));
        }
        finally
        {
            Log(gateway);
            gateway.Dispose();
            if (restarted is not null)
            {
                Log(restarted);
                restarted.Dispose();
            }
        }
    }

    [Fact]
    public async Task With_a_failover_url_send_moves_to_the_other_gateway_when_its_own_is_killed_and_stores_everything_once()
    {
        string table = NewTable();
        int[] ports = FreePorts.Take(2);
        const int Count = 40_000;
        WsgwProcess first = await StartGatewayAsync(ports[0], table);
        using WsgwProcess second = await StartGatewayAsync(ports[1], table);
        using WsgwProcess send = WsgwProcess.Start(
            "send", "--url", $"ws://127.0.0.1:{ports[0]}/", "--failover-url", $"ws://127.0.0.1:{ports[1]}/", "--reliable", "--ack-timeout", "20",
            "--count", Count.ToString(CultureInfo.InvariantCulture), "--batch", "20", "--rate", "15000", "--first-id", "3000000");
        try
        {
            var clock = Stopwatch.StartNew();
            while ((await RowsAsync(table)).Rows < 5_000)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "the first trades never reached the table");
                await Task.Delay(50);
            }

            await KillAsync(first); // not started again: the rest must go through the second gateway
            await send.WaitForExitAsync();
            Log(send);
            Assert.Equal(0, send.ExitCode);
            Assert.Contains(send.Stderr, l => l.Contains($"reconnected to ws://127.0.0.1:{ports[1]}/", StringComparison.Ordinal));
            Assert.Contains(send.Stdout, l => l.StartsWith($"wsgw send: acknowledged {Count} of {Count} trades", StringComparison.Ordinal));
            Assert.Equal((Count, 3_000_000L, 3_000_000L + Count - 1), await RowsAsync(table));
        }
        finally
        {
            Log(first);
            first.Dispose();
            Log(second);
        }
    }

    [Theory]
    [InlineData("-9")]    // killed: the connection is reset, every reconnect is refused
    [InlineData("-STOP")] // frozen: the connection stays open and nothing is acknowledged any more
    public async Task A_gateway_that_never_comes_back_ends_in_exit_4_with_the_count_acknowledged(string signal)
    {
        string table = NewTable();
        int port = FreePorts.Take(1)[0];
        const int Count = 100_000;
        WsgwProcess gateway = await StartGatewayAsync(port, table);
        using WsgwProcess send = WsgwProcess.Start(
            "send", "--url", $"ws://127.0.0.1:{port}/", "--reliable", "--ack-timeout", "3",
            "--count", Count.ToString(CultureInfo.InvariantCulture), "--batch", "20", "--rate", "20000", "--first-id", "2000000");
        try
        {
            var clock = Stopwatch.StartNew();
            while ((await RowsAsync(table)).Rows < 2_000)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "the first trades never reached the table");
                await Task.Delay(50);
            }

            await SignalAsync(gateway, signal);
            var waited = Stopwatch.StartNew();
            await send.WaitForExitAsync();
            Log(send);
            if (signal == "-STOP")
            {
                await SignalAsync(gateway, "-CONT");
            }

            Assert.Equal(4, send.ExitCode);
            Assert.True(waited.Elapsed >= TimeSpan.FromSeconds(2.5), $"send gave up after {waited.Elapsed.TotalSeconds:0.0} s, before --ack-timeout 3");
            string line = Assert.Single(send.Stdout, l => l.StartsWith("wsgw send: acknowledged", StringComparison.Ordinal));
            Match match = AcknowledgedLine().Match(line);
            Assert.True(match.Success, line);
            long acknowledged = long.Parse(match.Groups["acked"].Value, CultureInfo.InvariantCulture);
            Assert.Equal(Count, long.Parse(match.Groups["total"].Value, CultureInfo.InvariantCulture));
            Assert.InRange(acknowledged, 1, Count - 1);

            // What send calls acknowledged is stored (and may be less than what is stored: acks lost with the gateway).
            Assert.True((await RowsAsync(table)).Rows >= acknowledged);
            Assert.Contains(send.Stderr, l => l.Contains("trades not acknowledged: nothing acknowledged for 3 s (--ack-timeout)", StringComparison.Ordinal));
        }
        finally
        {
            Log(gateway);
            gateway.Dispose();
        }
    }

    [Fact]
    public async Task Bad_reliable_arguments_are_refused_with_exit_2_and_one_line()
    {
        WsgwProcess timeout = await WsgwProcess.RunAsync("send", "--reliable", "--ack-timeout", "0");
        Assert.Equal(2, timeout.ExitCode);
        Assert.Equal("wsgw send: --ack-timeout must be between 0 and 86400 seconds (more than 0), got 0", Assert.Single(timeout.Stderr));

        WsgwProcess both = await WsgwProcess.RunAsync("send", "--reliable", "--verify");
        Assert.Equal(2, both.ExitCode);
        Assert.Contains("--verify is for an echoing server", Assert.Single(both.Stderr), StringComparison.Ordinal);

        WsgwProcess overflow = await WsgwProcess.RunAsync("send", "--first-id", "18446744073709551615", "--count", "1");
        Assert.Equal(2, overflow.ExitCode);
        Assert.Contains("goes past the largest trade id", Assert.Single(overflow.Stderr), StringComparison.Ordinal);

        // No gateway at all: the first connect fails at once, as without --reliable (exit 1), not after --ack-timeout.
        var clock = Stopwatch.StartNew();
        WsgwProcess nobody = await WsgwProcess.RunAsync("send", "--reliable", "--url", $"ws://127.0.0.1:{FreePorts.Take(1)[0]}/", "-n", "10");
        Assert.Equal(1, nobody.ExitCode);
        Assert.StartsWith("wsgw send: cannot connect to ws://127.0.0.1:", Assert.Single(nobody.Stderr), StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed.TotalSeconds:0.0} s");

        WsgwProcess help = await WsgwProcess.RunAsync("send", "--help");
        string text = string.Join('\n', help.Stdout);
        Assert.Contains("--reliable", text, StringComparison.Ordinal);
        Assert.Contains("--first-id", text, StringComparison.Ordinal);
        Assert.Contains("4  --reliable: not every trade was acknowledged", text, StringComparison.Ordinal);
        Assert.Contains("without --reliable, send closes as soon as its trades", text, StringComparison.Ordinal);
    }

    private async Task<WsgwProcess> StartGatewayAsync(int port, string table, params string[] more)
    {
        WsgwProcess gateway = WsgwProcess.Start(
            ["serve", "--listen", $"127.0.0.1:{port}", "--stats-interval", "0", .. (more.Length > 0 ? more : ["--admin", "none"]),
            "--sink", $"postgres://postgres@127.0.0.1:{server.Port}/postgres?table={table}&Timeout=2"]);
        await gateway.WaitForStderrAsync(l => l.Contains("listening on", StringComparison.Ordinal));
        return gateway;
    }

    private static string NewTable() => $"reliable_send_{Environment.ProcessId}_{Interlocked.Increment(ref s_tables)}";

    private static async Task<WsgwProcess> SendAsync(int port, params string[] args)
        => await WsgwProcess.RunAsync(["send", "--url", $"ws://127.0.0.1:{port}/", "--reliable", "--ack-timeout", "20", .. args]);

    private static async Task SignalAsync(WsgwProcess process, string signal)
    {
        if (signal == "-9")
        {
            await KillAsync(process);
            return;
        }

        using Process kill = Process.Start("kill", $"{signal} {process.Id}");
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    private static async Task KillAsync(WsgwProcess process)
    {
        using Process kill = Process.Start("kill", $"-9 {process.Id}");
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
        await process.WaitForExitAsync();
    }

    private static async Task WaitForSessionLinesAsync(WsgwProcess gateway, int count)
    {
        var clock = Stopwatch.StartNew();
        while (gateway.Stdout.Count(l => l.StartsWith("Session stats:", StringComparison.Ordinal)) < count)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "session lines: " + string.Join('\n', gateway.Stdout));
            await Task.Delay(20);
        }
    }

    private async Task<(long Rows, long Min, long Max)> RowsAsync(string table)
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString + ";Pooling=false");
        await connection.OpenAsync();
        await using var select = new NpgsqlCommand(
            $"SELECT count(*), coalesce(min(trade_id), 0), coalesce(max(trade_id), 0) FROM {table}",
            connection);
        try
        {
            await using NpgsqlDataReader reader = await select.ExecuteReaderAsync();
            await reader.ReadAsync();
            return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return (0, 0, 0); // the gateway creates the table with the first batch
        }
    }

    private void Log(WsgwProcess process)
    {
        foreach (string line in process.Stdout.Concat(process.Stderr).Take(40))
        {
            output.WriteLine(line);
        }
    }

    [GeneratedRegex(@"^wsgw send: acknowledged (?<acked>\d+) of (?<total>\d+) trades \((?:(?<dups>\d+) duplicates reported by the gateway|duplicates unknown[^,]*|no TradeAck received from the gateway), (?<reconnects>\d+) reconnects\)$")]
    private static partial Regex AcknowledgedLine();
}
