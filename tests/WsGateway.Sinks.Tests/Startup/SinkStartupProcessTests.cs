using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using Confluent.Kafka;
using NATS.Client.Core;
using NATS.Client.JetStream;
using Npgsql;
using WsGateway.Cli.Tests.Infrastructure;
using WsGateway.Sbe;
using WsGateway.Sinks.Tests.Infrastructure;
using WsGateway.Sinks.Tests.Postgres;
using Xunit.Abstractions;

namespace WsGateway.Sinks.Tests.Startup;

/// <summary>
/// The real <c>wsgw serve --sink</c> process against real engines (PostgreSQL 15, <c>nats-server -js</c>, librdkafka's
/// mock Kafka cluster): the start-up check authenticates and creates the table, stream or topic before anything
/// listens, a refused role fails the start in one line with exit code 2, <c>--sink-wait</c> turns Healthy once the
/// engine comes up and stores what waited, and a stop with the sink gone ends within <c>--shutdown-timeout</c>.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SinkStartupProcessTests(PostgresServerFixture postgres, ITestOutputHelper output)
{
    private static readonly byte[] s_trade = Convert.FromHexString("15000100010000003930000000000000420000000000205940e8030000");

    [Fact]
    public async Task Postgres_a_role_that_does_not_exist_fails_the_start_in_one_line_with_exit_code_2_and_nothing_listens()
    {
        int[] ports = FreePorts.Take(2);
        string uri = $"postgres://nosuchuser@127.0.0.1:{postgres.Port}/postgres?table=t";
        var clock = Stopwatch.StartNew();
        using WsgwProcess serve = WsgwProcess.Start("serve", "--listen", $"127.0.0.1:{ports[0]}", "--admin", $"127.0.0.1:{ports[1]}", "--sink", uri);
        while (serve.IsRunning)
        {
            Assert.False(LoopbackPorts.Accepts(ports[0]) || LoopbackPorts.Accepts(ports[1]), "serve listened before its sink was ready");
            await Task.Delay(50);
        }

        await serve.WaitForExitAsync();

        Assert.Equal(2, serve.ExitCode);
        Assert.Equal([$"wsgw serve: sink {uri} is not ready: 28000: role \"nosuchuser\" does not exist"], serve.Stderr);
        Assert.Empty(serve.Stdout);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task Postgres_the_table_exists_when_the_banner_says_listening_before_any_trade()
    {
        string table = "startup_" + Guid.NewGuid().ToString("N")[..8];
        (WsgwProcess serve, Uri _) = await WsgwProcess.StartServeAsync(
            "--stats-interval", "0", "--admin", "none", "--sink", $"postgres://postgres@127.0.0.1:{postgres.Port}/postgres?table={table}");
        using WsgwProcess _ = serve;

        await using var connection = new NpgsqlConnection(postgres.ConnectionString + ";Pooling=false");
        await connection.OpenAsync();
        await using var exists = new NpgsqlCommand($"SELECT to_regclass('{table}') IS NOT NULL", connection);
        Assert.True((bool)(await exists.ExecuteScalarAsync())!, $"table {table} was not created at start");
        await serve.StopAsync();
        Assert.Equal(0, serve.ExitCode);
    }

    [Fact]
    public async Task Nats_the_stream_exists_when_the_banner_says_listening_before_any_trade()
    {
        using var nats = NatsServerProcess.Start();
        string stream = "S" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        (WsgwProcess serve, Uri _) = await WsgwProcess.StartServeAsync(
            "--stats-interval", "0", "--admin", "none", "--sink", $"{nats.Url}?stream={stream}&subject={stream.ToLowerInvariant()}");
        using WsgwProcess _ = serve;

        await using var connection = new NatsConnection(NatsOpts.Default with { Url = nats.Url });
        INatsJSStream created = await new NatsJSContext(connection).GetStreamAsync(stream);
        Assert.Equal(0L, (long)created.Info.State.Messages);
        await serve.StopAsync();
        Assert.Equal(0, serve.ExitCode);
    }

    [Fact]
    public async Task Nats_with_sink_wait_health_is_unhealthy_until_the_server_starts_then_healthy_and_the_waiting_trades_are_stored_and_acknowledged()
    {
        int[] ports = FreePorts.Take(2);
        int natsPort = ports[0];
        int admin = ports[1];
        (WsgwProcess serve, Uri url) = await WsgwProcess.StartServeAsync(
            "--stats-interval", "0", "--admin", $"127.0.0.1:{admin}", "--sink-wait", "--sink", $"nats://127.0.0.1:{natsPort}?stream=WAITED&subject=waited");
        using WsgwProcess _ = serve;
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{admin}/") };
        (HttpStatusCode before, string beforeText) = await HealthAsync(http);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, before);
        Assert.Contains("not ready", beforeText, StringComparison.Ordinal);
        Assert.Equal("0", await SinkReadyAsync(http));

        using var client = new ClientWebSocket();
        await client.ConnectAsync(url, CancellationToken.None);
        for (int i = 0; i < 5; i++)
        {
            byte[] trade = (byte[])s_trade.Clone();
            trade[8] = (byte)(i + 1); // distinct trade ids (the little-endian id starts at offset 8)
            await client.SendAsync(trade, WebSocketMessageType.Binary, true, CancellationToken.None);
        }

        using NatsServerProcess nats = NatsServerProcess.StartOn(natsPort);
        await serve.WaitForStderrAsync(l => l.Contains($"wsgw: sink nats://127.0.0.1:{natsPort}?stream=WAITED&subject=waited is ready", StringComparison.Ordinal));

        // The trades that waited are stored and acknowledged: the TradeAck says 5.
        var buffer = new byte[64];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        ulong acknowledged = 0;
        while (acknowledged < 5)
        {
            WebSocketReceiveResult received = await client.ReceiveAsync(buffer, timeout.Token);
            Assert.True(TradeAck.TryDecode(buffer.AsSpan(0, received.Count), out TradeAck ack), "not a TradeAck");
            acknowledged = ack.Count;
        }

        Assert.Equal(5UL, acknowledged);
        (HttpStatusCode after, string afterText) = await HealthAsync(http);
        Assert.True(after == HttpStatusCode.OK, afterText);
        Assert.Equal("1", await SinkReadyAsync(http));
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        await serve.StopAsync();
        Assert.Equal(0, serve.ExitCode);
    }

    [Fact]
    public async Task Kafka_the_topic_is_created_at_start_and_a_stop_with_every_broker_down_ends_within_the_shutdown_timeout_with_the_count_and_exit_3()
    {
        using var cluster = new KafkaMockCluster();
        string topic = "startup-" + Guid.NewGuid().ToString("N")[..8];
        (WsgwProcess serve, Uri url) = await WsgwProcess.StartServeAsync(
            "--stats-interval", "0", "--admin", "none", "--shutdown-timeout", "3", "--sink", $"kafka://{cluster.BootstrapServers}/{topic}");
        using WsgwProcess _ = serve;

        // The topic exists before any trade.
        using (IAdminClient admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = cluster.BootstrapServers }).SetLogHandler((_, _) => { }).Build())
        {
            Metadata metadata = admin.GetMetadata(topic, TimeSpan.FromSeconds(10));
            TopicMetadata created = Assert.Single(metadata.Topics);
            Assert.Equal(ErrorCode.NoError, created.Error.Code);
            Assert.NotEmpty(created.Partitions);
        }

        // Every broker down, then 1,000 trades: none can be stored.
        for (int broker = 1; broker <= 3; broker++)
        {
            cluster.SetDown(broker);
        }

        using (var client = new ClientWebSocket())
        {
            await client.ConnectAsync(url, CancellationToken.None);
            for (int i = 0; i < 1000; i++)
            {
                await client.SendAsync(s_trade, WebSocketMessageType.Binary, true, CancellationToken.None);
            }

            await client.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }

        await serve.WaitForStdoutAsync(l => l.Contains("1000 trades", StringComparison.Ordinal)); // the session line: all received
        var clock = Stopwatch.StartNew();
        await serve.StopAsync();
        output.WriteLine($"stopped in {clock.Elapsed.TotalSeconds:0.00} s with --shutdown-timeout 3; standard error:\n{string.Join('\n', serve.Stderr)}");

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3 + 4), $"stopping took {clock.Elapsed} with --shutdown-timeout 3");
        Assert.Equal(3, serve.ExitCode);
        Assert.Contains(serve.Stderr, l => l.StartsWith("wsgw: 1000 trades received were not stored by the sink before it stopped", StringComparison.Ordinal));
        Assert.Contains(serve.Stderr, l => l.Contains($"Kafka sink (topic {topic}): brokers", StringComparison.Ordinal) && l.Contains("unreachable", StringComparison.Ordinal));
    }

    private static async Task<(HttpStatusCode Status, string Body)> HealthAsync(HttpClient http)
    {
        using HttpResponseMessage response = await http.GetAsync("health");
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The value of <c>wsgateway_sink_ready</c> on /metrics.</summary>
    private static async Task<string> SinkReadyAsync(HttpClient http)
    {
        string metrics = await http.GetStringAsync("metrics");
        string line = metrics.Split('\n').Single(l => l.StartsWith("wsgateway_sink_ready{", StringComparison.Ordinal));
        return line.Split(' ')[1];
    }
}
