using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text.Json;
using WsGateway.Cli.Tests.Infrastructure;

namespace WsGateway.Cli.Tests;

/// <summary>
/// <c>wsgw serve --sink</c> when the sink cannot be reached, as a user meets it: the start-up check fails in one line
/// naming the sink and the reason, with exit code 2 and nothing listening, within <c>--sink-timeout</c>; or, with
/// <c>--sink-wait</c>, serve listens degraded (/health Unhealthy, trades unacknowledged) and a stop with trades never
/// stored ends within <c>--shutdown-timeout</c> with their count and exit code 3. No sink engine runs here (nothing
/// listens on port 1); tests/WsGateway.Sinks.Tests has the same with real NATS, PostgreSQL and Kafka.
/// </summary>
public sealed class SinkStartProcessTests
{
    private static readonly byte[] s_trade = Convert.FromHexString("15000100010000003930000000000000420000000000205940e8030000");

    [Fact]
    public async Task A_nats_sink_nothing_listens_on_fails_the_start_in_one_line_without_its_password_with_exit_code_2()
    {
        var clock = Stopwatch.StartNew();
        using WsgwProcess serve = await WsgwProcess.RunAsync("serve", "--listen", "127.0.0.1:0", "--admin", "none", "--sink", "nats://trader:s3cret@127.0.0.1:1?stream=TRADES");

        Assert.Equal(2, serve.ExitCode);
        Assert.Equal(["wsgw serve: sink nats://trader:***@127.0.0.1:1?stream=TRADES is not ready: can not connect uris: nats://trader:***@127.0.0.1:1"], serve.Stderr);
        Assert.Empty(serve.Stdout);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task A_kafka_sink_whose_brokers_refuse_fails_the_start_in_one_line_with_exit_code_2()
    {
        using WsgwProcess serve = await WsgwProcess.RunAsync("serve", "--listen", "127.0.0.1:0", "--admin", "none", "--sink", "kafka://127.0.0.1:1/trades");

        Assert.Equal(2, serve.ExitCode);
        string line = Assert.Single(serve.Stderr);
        Assert.StartsWith("wsgw serve: sink kafka://127.0.0.1:1/trades is not ready: brokers 127.0.0.1:1 unreachable: ", line, StringComparison.Ordinal);
        Assert.Contains("Connection refused", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_sink_host_that_never_answers_fails_at_the_sink_timeout_and_nothing_listens_meanwhile()
    {
        // A TCP port that accepts connections (the kernel's backlog) and never says a word: NATS waits for its INFO.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        int sinkPort = ((IPEndPoint)silent.LocalEndpoint).Port;
        int[] ports = FreePorts(2);
        var clock = Stopwatch.StartNew();
        using WsgwProcess serve = WsgwProcess.Start(
            "serve", "--listen", $"127.0.0.1:{ports[0]}", "--admin", $"127.0.0.1:{ports[1]}", "--sink-timeout", "1.5",
            "--sink", $"nats://127.0.0.1:{sinkPort}?stream=TRADES");

        // While the check waits, neither the gateway nor the admin port accepts anything.
        bool probed = false;
        while (serve.IsRunning)
        {
            Assert.False(LoopbackPorts.Accepts(ports[0]), "the gateway listened before its sink was ready");
            Assert.False(LoopbackPorts.Accepts(ports[1]), "the admin endpoints listened before the sink was ready");
            probed = true;
            await Task.Delay(100);
        }

        await serve.WaitForExitAsync();
        Assert.True(probed);
        Assert.Equal(2, serve.ExitCode);
        string line = Assert.Single(serve.Stderr);
        Assert.StartsWith($"wsgw serve: sink nats://127.0.0.1:{sinkPort}?stream=TRADES is not ready: ", line, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(12), $"took {clock.Elapsed} with --sink-timeout 1.5");
    }

    [Fact]
    public async Task With_sink_wait_it_listens_unhealthy_and_a_stop_with_trades_never_stored_ends_within_the_shutdown_timeout_with_exit_3()
    {
        int admin = FreePorts(1)[0];
        (WsgwProcess serve, Uri url) = await WsgwProcess.StartServeAsync(
            "--stats-interval", "0", "--admin", $"127.0.0.1:{admin}", "--sink-wait", "--shutdown-timeout", "2", "--sink", "nats://127.0.0.1:1?stream=TRADES");
        using WsgwProcess _ = serve;
        string banner = serve.Stderr.First(l => l.Contains("listening on", StringComparison.Ordinal));
        Assert.Contains("sink: nats://127.0.0.1:1?stream=TRADES not ready yet, retrying: can not connect uris: nats://127.0.0.1:1", banner, StringComparison.Ordinal);

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{admin}/") };
        using HttpResponseMessage health = await http.GetAsync("health");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        using JsonDocument report = JsonDocument.Parse(await health.Content.ReadAsStringAsync());
        JsonElement sink = report.RootElement.GetProperty("checks").GetProperty("sink");
        Assert.Equal("Unhealthy", sink.GetProperty("status").GetString());
        Assert.Contains("not ready", sink.GetProperty("description").GetString(), StringComparison.Ordinal);

        // Trades arriving meanwhile wait, unacknowledged: none comes back before the stop.
        using (var client = new ClientWebSocket())
        {
            await client.ConnectAsync(url, CancellationToken.None);
            for (int i = 0; i < 7; i++)
            {
                await client.SendAsync(s_trade, WebSocketMessageType.Binary, true, CancellationToken.None);
            }

            var buffer = new byte[64];
            using var quiet = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.ReceiveAsync(buffer, quiet.Token));
        }

        var clock = Stopwatch.StartNew();
        await serve.StopAsync();

        Assert.Equal(3, serve.ExitCode);
        Assert.Contains(serve.Stderr, l => l.StartsWith("wsgw: 7 trades received were not stored by the sink before it stopped (--shutdown-timeout 2 s; 7 received in all)", StringComparison.Ordinal));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2 + 4), $"stopping took {clock.Elapsed} with --shutdown-timeout 2");
    }

    [Fact]
    public async Task Sink_wait_without_a_sink_is_a_usage_error()
    {
        using WsgwProcess serve = await WsgwProcess.RunAsync("serve", "--listen", "127.0.0.1:0", "--admin", "none", "--sink-wait");

        Assert.NotEqual(0, serve.ExitCode);
        Assert.Contains(serve.Stderr, l => l.Contains("--sink-wait is for --sink", StringComparison.Ordinal));
    }

    private static int[] FreePorts(int count)
    {
        var listeners = new TcpListener[count];
        for (int i = 0; i < count; i++)
        {
            listeners[i] = new TcpListener(IPAddress.Loopback, 0);
            listeners[i].Start();
        }

        int[] ports = [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        foreach (TcpListener listener in listeners)
        {
            listener.Stop();
        }

        return ports;
    }
}
