using System.Diagnostics;
using System.Globalization;
using Npgsql;
using WsGateway.Cli.Tests.Infrastructure;
using WsGateway.Sinks.Tests.Infrastructure;
using Xunit.Abstractions;

namespace WsGateway.Sinks.Tests.Postgres;

/// <summary>
/// <c>wsgw send --reliable</c> while the gateway's sink is down: PostgreSQL stopped mid-send (immediate, as a crash)
/// and not started again. The gateway stays up and keeps retrying, so the connection is never lost, but nothing is
/// acknowledged any more: send gives up after <c>--ack-timeout</c> with exit code 4, the count acknowledged, and
/// every trade it calls acknowledged is in the table. Its own server, so that stopping it disturbs no other test.
/// </summary>
public sealed class ReliableSendSinkDownProcessTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly PostgresServer _server = new();

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task A_sink_that_stops_storing_ends_send_reliable_in_exit_4_with_the_count_acknowledged()
    {
        const string Table = "sink_down_trades";
        const int Count = 100_000;
        int port = FreePorts.Take(1)[0];
        using WsgwProcess gateway = WsgwProcess.Start(
            "serve", "--listen", $"127.0.0.1:{port}", "--admin", "none", "--stats-interval", "0",
            "--sink", $"postgres://postgres@127.0.0.1:{_server.Port}/postgres?table={Table}&Timeout=2");
        await gateway.WaitForStderrAsync(l => l.Contains("listening on", StringComparison.Ordinal));
        using WsgwProcess send = WsgwProcess.Start(
            "send", "--url", $"ws://127.0.0.1:{port}/", "--reliable", "--ack-timeout", "3",
            "--count", Count.ToString(CultureInfo.InvariantCulture), "--batch", "20", "--rate", "20000");
        try
        {
            var clock = Stopwatch.StartNew();
            while (await RowsAsync(Table) < 2_000)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "the first trades never reached the table");
                await Task.Delay(50);
            }

            await _server.StopImmediateAsync();
            await send.WaitForExitAsync();

            Assert.Equal(4, send.ExitCode);
            Assert.True(gateway.IsRunning, "the gateway must stay up, retrying, while its sink is down");
            string line = Assert.Single(send.Stdout, l => l.StartsWith("wsgw send: acknowledged", StringComparison.Ordinal));
            string[] words = line.Split(' ');
            long acknowledged = long.Parse(words[3], CultureInfo.InvariantCulture);
            Assert.Equal($"{Count}", words[5]);
            Assert.InRange(acknowledged, 1, Count - 1);
            Assert.Contains(send.Stderr, l => l.Contains("trades not acknowledged: nothing acknowledged for 3 s (--ack-timeout)", StringComparison.Ordinal));

            // Everything send calls acknowledged is stored.
            await _server.StartAsync();
            Assert.True(await RowsAsync(Table) >= acknowledged);
        }
        finally
        {
            foreach (string line in send.Stdout.Concat(send.Stderr).Concat(gateway.Stderr).Take(30))
            {
                output.WriteLine(line);
            }
        }
    }

    private async Task<long> RowsAsync(string table)
    {
        await using var connection = new NpgsqlConnection(_server.ConnectionString + ";Pooling=false");
        await connection.OpenAsync();
        await using var select = new NpgsqlCommand($"SELECT count(*) FROM {table}", connection);
        try
        {
            return (long)(await select.ExecuteScalarAsync())!;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return 0; // the gateway creates the table with the first batch
        }
    }
}
