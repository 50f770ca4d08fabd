using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Npgsql;
using WsGateway.Cli.Tests.Infrastructure;
using WsGateway.Client;
using WsGateway.Sbe;
using WsGateway.Sinks.Tests.Infrastructure;
using Xunit.Abstractions;

namespace WsGateway.Sinks.Tests.Postgres;

/// <summary>
/// The real <c>wsgw serve --sink postgres://...</c> process with clients sending as fast as they can: PostgreSQL is
/// slower than they are, so the in-flight bound pauses them; the database is restarted (immediate stop, as a crash)
/// in the middle. Its own server, so that the restart does not disturb the other tests.
/// </summary>
public sealed class PostgresGatewayProcessTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan s_bounded = TimeSpan.FromSeconds(60);
    private readonly PostgresServer _server = new();

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task A_database_slower_than_the_clients_pauses_them_memory_stays_bounded_and_a_restart_loses_and_doubles_nothing()
    {
        int[] ports = FreePorts.Take(2);
        const int MaxInFlight = 20_000;
        const int Clients = 3;
        const string Table = "gateway_trades";
        using WsgwProcess gateway = WsgwProcess.Start(
            "serve", "--listen", $"127.0.0.1:{ports[0]}", "--admin", $"127.0.0.1:{ports[1]}", "--stats-interval", "0",
            "--sink", $"postgres://postgres@127.0.0.1:{_server.Port}/postgres?table={Table}&max-in-flight={MaxInFlight}&Timeout=2");
        await gateway.WaitForStderrAsync(l => l.Contains("listening on", StringComparison.Ordinal));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ports[1]}/"), Timeout = TimeSpan.FromSeconds(5) };
        var clients = new ReliableTradeClient[Clients];
        var senders = new Task[Clients];
        using var stop = new CancellationTokenSource();
        long rssBefore = 0;
        long rssMax = 0;
        long inFlightMax = 0;
        int pausedMax = 0;
        try
        {
            for (int c = 0; c < Clients; c++)
            {
                clients[c] = await ReliableTradeClient.ConnectAsync(new Uri($"ws://127.0.0.1:{ports[0]}/"), new ReliableTradeClientOptions { MaxUnacknowledged = 4_000_000 });
                senders[c] = SendUntilStoppedAsync(clients[c], FirstId(c), stop.Token);
            }

            // Flat out for 3 s, the database restarted (down 1 s), flat out for 3 s more; the stats polled all along.
            var clock = Stopwatch.StartNew();
            bool restarted = false;
            while (clock.Elapsed < TimeSpan.FromSeconds(7))
            {
                if (!restarted && clock.Elapsed > TimeSpan.FromSeconds(3))
                {
                    restarted = true;
                    await _server.StopImmediateAsync();
                    await Task.Delay(1000);
                    await _server.StartAsync();
                }

                (long inFlight, int paused) = await SinkStatsAsync(http);
                inFlightMax = Math.Max(inFlightMax, inFlight);
                pausedMax = Math.Max(pausedMax, paused);
                long rss = Rss(gateway.Id);
                rssBefore = rssBefore == 0 && clock.Elapsed > TimeSpan.FromSeconds(1) ? rss : rssBefore;
                rssMax = Math.Max(rssMax, rss);
                await Task.Delay(50);
            }

            await stop.CancelAsync();
            await Task.WhenAll(senders).WaitAsync(s_bounded);
            foreach (ReliableTradeClient client in clients)
            {
                using var timeout = new CancellationTokenSource(s_bounded);
                await client.WaitForAllAcknowledgedAsync(timeout.Token);
            }

            long sent = clients.Sum(c => c.Sent);
            using JsonDocument stats = JsonDocument.Parse(await http.GetStringAsync("api/stats"));
            JsonElement sink = stats.RootElement.GetProperty("sink");
            output.WriteLine($"{sent:N0} trades sent and acknowledged; at most {inFlightMax:N0} in flight and {pausedMax} connections paused; gateway RSS {rssBefore >> 20} MiB after 1 s, at most {rssMax >> 20} MiB; {sink.GetProperty("retries").GetInt64()} retries");

            Assert.True(pausedMax > 0, "no connection was ever paused: the sink kept up with the clients, and the test proved nothing");
            Assert.True(inFlightMax <= MaxInFlight + (Clients * 20_000), $"{inFlightMax} trades in flight with a bound of {MaxInFlight}");
            Assert.True(rssMax - rssBefore < 150 * 1024 * 1024, $"gateway RSS grew from {rssBefore >> 20} MiB to {rssMax >> 20} MiB");
            Assert.True(sink.GetProperty("retries").GetInt64() > 0, "no publish failed: the restart did not hit the stream");
            Assert.Equal(sent, sink.GetProperty("stored").GetInt64());
            Assert.Equal(0, sink.GetProperty("inFlightTrades").GetInt64());

            // Every trade sent, once, with its own client's fields.
            var expected = new HashSet<long>();
            for (int c = 0; c < Clients; c++)
            {
                for (long i = 0; i < clients[c].Sent; i++)
                {
                    expected.Add((long)FirstId(c) + i);
                }
            }

            await using var connection = new NpgsqlConnection(_server.ConnectionString + ";Pooling=false");
            await connection.OpenAsync();
            await using var select = new NpgsqlCommand($"SELECT trade_id, quantity FROM {Table}", connection);
            await using NpgsqlDataReader reader = await select.ExecuteReaderAsync();
            long rows = 0;
            while (await reader.ReadAsync())
            {
                rows++;
                long id = reader.GetInt64(0);
                Assert.True(expected.Remove(id), $"trade {id} stored twice or never sent");
                Assert.Equal((id / 1_000_000_000) + 10, reader.GetInt64(1));
            }

            Assert.True(expected.Count == 0, $"{expected.Count} of {sent} trades sent and acknowledged are not in the table");
            Assert.Equal(sent, rows);
        }
        finally
        {
            await stop.CancelAsync();
            foreach (ReliableTradeClient? client in clients)
            {
                if (client is not null)
                {
                    await client.DisposeAsync();
                }
            }

            foreach (string line in gateway.Stderr.Where(l => l.Contains("Sink", StringComparison.Ordinal)).Take(20))
            {
                output.WriteLine(line);
            }
        }
    }

    private static ulong FirstId(int client) => ((ulong)(client + 1) * 1_000_000_000) + 1;

    private static async Task SendUntilStoppedAsync(ReliableTradeClient client, ulong firstId, CancellationToken stop)
    {
        var frame = new Trade[500];
        uint quantity = (uint)(firstId / 1_000_000_000) + 10;
        while (!stop.IsCancellationRequested)
        {
            ulong id = firstId + (ulong)client.Sent;
            for (int i = 0; i < frame.Length; i++)
            {
                frame[i] = new Trade(id + (ulong)i, (byte)'P', 100.25, quantity);
            }

            // Not cancelled by stop: a send held back by backpressure completes once the sink has caught up.
            await client.SendAsync(frame);
        }
    }

    private static async Task<(long InFlight, int Paused)> SinkStatsAsync(HttpClient http)
    {
        using JsonDocument stats = JsonDocument.Parse(await http.GetStringAsync("api/stats"));
        JsonElement sink = stats.RootElement.GetProperty("sink");
        return (sink.GetProperty("inFlightTrades").GetInt64(), sink.GetProperty("pausedConnections").GetInt32());
    }

    private static long Rss(int pid)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }
}
