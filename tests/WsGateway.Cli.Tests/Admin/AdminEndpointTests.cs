using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using WsGateway.Cli.Admin;
using WsGateway.Client;
using WsGateway.Sbe;

namespace WsGateway.Cli.Tests.Admin;

/// <summary><c>wsgw serve</c>'s admin endpoints over real sockets: a real client sends, HTTP reads.</summary>
[Collection(AdminCollection.Name)]
public sealed class AdminEndpointTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);

    private static Trade TradeNumber(int i) => new(5_000_000_000UL + (ulong)i, (byte)'K', 250.5 + i, (uint)(10 + i));

    private static Task<ServeHost> StartAsync(RecordingHandler recorder, string admin = "127.0.0.1:0", TradeGatewayOptions? options = null)
        => ServeHost.StartAsync(new ServeSettings("127.0.0.1:0", admin, options ?? new TradeGatewayOptions()), recorder.Create, NullLoggerFactory.Instance);

    /// <summary>300 singles and 50 batches of 10 (800 trades in 350 messages), one message that is not a trade, on
    /// one connection; then a second connection that sends text (closed 1003).</summary>
    private static async Task SendKnownTrafficAsync(Uri gateway)
    {
        await using (TradeClient client = await TradeClient.ConnectAsync(gateway))
        {
            for (int i = 0; i < 300; i++)
            {
                await client.SendTradeAsync(TradeNumber(i));
            }

            for (int b = 0; b < 50; b++)
            {
                await client.SendTradesAsync(Enumerable.Range(300 + (b * 10), 10).Select(TradeNumber).ToArray());
            }

            await client.SendRawAsync(new byte[20]); // too short for a trade: a decode error
            await client.CloseAsync();
        }

        await using TradeClient text = await TradeClient.ConnectAsync(gateway);
        await text.SendTextAsync("not SBE");
        await text.CloseAsync();
    }

    [Fact]
    public async Task Metrics_in_Prometheus_format_count_what_a_real_client_sent()
    {
        var recorder = new RecordingHandler();
        await using ServeHost host = await StartAsync(recorder);
        await SendKnownTrafficAsync(host.GatewayUrl);
        await recorder.WaitForDisconnectsAsync(2);
        Assert.Equal(800, recorder.DecodedTrades.Count);

        using var http = new HttpClient { BaseAddress = host.AdminUrl, Timeout = s_timeout };
        using HttpResponseMessage response = await http.GetAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType!.MediaType, StringComparison.Ordinal);
        var metrics = new PrometheusText(await response.Content.ReadAsStringAsync());

        Assert.Equal(800, metrics.Value("wsgateway_trades_received_total"));
        Assert.Equal(351, metrics.Value("wsgateway_messages_received_total")); // 300 + 50 + the bad one (text is refused before)
        Assert.Equal(1, metrics.Value("wsgateway_decode_errors_total"));
        Assert.Equal(1, metrics.Value("wsgateway_protocol_errors_total", "websocket_close_code=\"1003\""));
        Assert.Equal(2, metrics.Value("wsgateway_connections_opened_total"));
        Assert.Equal(0, metrics.Value("wsgateway_connections_active"));
        Assert.DoesNotContain("wsgateway_handler_errors_total{", metrics.Text, StringComparison.Ordinal); // never thrown: no series
        Assert.InRange(metrics.Value("wsgateway_bytes_received_bytes_total"), (800 * 29) + 20, 64 * 1024);
        double reads = metrics.Value("wsgateway_dispatch_duration_seconds_count");
        Assert.InRange(reads, 1, 352);
        Assert.Equal(reads, metrics.Value("wsgateway_dispatch_duration_seconds_bucket", "le=\"+Inf\""));
        Assert.InRange(metrics.Value("wsgateway_dispatch_duration_seconds_bucket", "le=\"0.001\""), 0, reads); // buckets in seconds, from the instrument's advice
        Assert.Contains("# TYPE wsgateway_trades_received_total counter", metrics.Text, StringComparison.Ordinal);
        Assert.Contains("service_name=\"wsgw\"", metrics.Text, StringComparison.Ordinal);

        // The same numbers reach the live view's monitor: one meter, two listeners.
        GatewayMonitor.Snapshot totals = host.Monitor.Read();
        Assert.Equal((800L, 351L, 1L, 1L), (totals.Trades, totals.Messages, totals.DecodeErrors, totals.ProtocolErrors));
    }

    [Fact]
    public async Task Health_is_healthy_with_the_connection_count_while_the_gateway_listens()
    {
        var recorder = new RecordingHandler();
        await using ServeHost host = await StartAsync(recorder);
        using var http = new HttpClient { BaseAddress = host.AdminUrl, Timeout = s_timeout };

        await using (TradeClient client = await TradeClient.ConnectAsync(host.GatewayUrl))
        {
            using HttpResponseMessage response = await http.GetAsync(new Uri("/health", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using JsonDocument report = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal("Healthy", report.RootElement.GetProperty("status").GetString());
            JsonElement gateway = report.RootElement.GetProperty("checks").GetProperty("gateway");
            Assert.Equal($"listening on {host.GatewayUrl}, 1 connection", gateway.GetProperty("description").GetString());
            Assert.Equal(1, gateway.GetProperty("data").GetProperty("connections").GetInt32());
            await client.CloseAsync();
        }

        await recorder.WaitForDisconnectsAsync(1);

        // The slot is given back once the socket is closed, just after OnDisconnect.
        string? description = null;
        for (int i = 0; i < 100 && description?.EndsWith(", 0 connections", StringComparison.Ordinal) != true; i++)
        {
            await Task.Delay(i == 0 ? 0 : 50);
            using JsonDocument after = JsonDocument.Parse(await http.GetStringAsync(new Uri("/health", UriKind.Relative)));
            description = after.RootElement.GetProperty("checks").GetProperty("gateway").GetProperty("description").GetString();
        }

        Assert.EndsWith(", 0 connections", description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Api_stats_has_totals_errors_by_kind_dispatch_percentiles_and_a_series()
    {
        var recorder = new RecordingHandler();
        await using ServeHost host = await StartAsync(recorder);
        await SendKnownTrafficAsync(host.GatewayUrl);
        await recorder.WaitForDisconnectsAsync(2);
        host.Stats!.Sample();

        using var http = new HttpClient { BaseAddress = host.AdminUrl, Timeout = s_timeout };
        using HttpResponseMessage response = await http.GetAsync(new Uri("/api/stats", UriKind.Relative));
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        using JsonDocument stats = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        JsonElement root = stats.RootElement;

        Assert.Equal(host.GatewayUrl.ToString(), root.GetProperty("gateway").GetProperty("url").GetString());
        Assert.True(root.GetProperty("gateway").GetProperty("listening").GetBoolean());
        JsonElement totals = root.GetProperty("totals");
        Assert.Equal(800, totals.GetProperty("trades").GetInt64());
        Assert.Equal(351, totals.GetProperty("messages").GetInt64());
        Assert.Equal(2, totals.GetProperty("opened").GetInt64());
        Assert.Equal(0, totals.GetProperty("connections").GetInt64());
        Assert.Equal(2, totals.GetProperty("errors").GetInt64());
        JsonElement errors = root.GetProperty("errors");
        Assert.Equal(1, errors.GetProperty("decode").GetInt64());
        Assert.Equal(1, errors.GetProperty("protocolByCloseCode").GetProperty("1003").GetInt64());

        JsonElement recent = root.GetProperty("dispatch").GetProperty("recent");
        long reads = recent.GetProperty("count").GetInt64();
        Assert.InRange(reads, 1, 352);
        Assert.Equal(reads, root.GetProperty("dispatch").GetProperty("sinceStart").GetProperty("count").GetInt64());
        double p50 = recent.GetProperty("p50").GetDouble();
        double p99 = recent.GetProperty("p99").GetDouble();
        Assert.InRange(p50, 0, p99);
        Assert.InRange(p99, p50, recent.GetProperty("max").GetDouble());

        JsonElement series = root.GetProperty("series");
        int samples = series.GetProperty("time").GetArrayLength();
        Assert.InRange(samples, 1, GatewayStats.SeriesLength);
        Assert.Equal(samples, series.GetProperty("trades").GetArrayLength());
        double[] trades = [.. series.GetProperty("trades").EnumerateArray().Select(e => e.GetDouble())];
        Assert.All(trades, rate => Assert.True(rate >= 0));
        Assert.True(trades[^1] > 0, "the sample taken after sending has a trade rate");
        Assert.Equal(trades[^1], root.GetProperty("rates").GetProperty("trades").GetDouble());
    }

    [Theory]
    [InlineData("/", "text/html", "<canvas id=\"rate-chart\"")]
    [InlineData("/client", "text/html", "id=\"send-form\"")]
    [InlineData("/dashboard.js", "text/javascript", "/api/stats")]
    [InlineData("/client.js", "text/javascript", "setBigUint64")]
    [InlineData("/linechart.js", "text/javascript", "class LineChart")]
    [InlineData("/admin.css", "text/css", "--accent")]
    public async Task Pages_are_served_from_the_assembly_with_a_same_origin_policy(string path, string mediaType, string expected)
    {
        await using ServeHost host = await StartAsync(new RecordingHandler());
        using var http = new HttpClient { BaseAddress = host.AdminUrl, Timeout = s_timeout };
        using HttpResponseMessage response = await http.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType!.MediaType);
        string body = await response.Content.ReadAsStringAsync();
        Assert.Contains(expected, body, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", body, StringComparison.Ordinal); // no CDN, no external font
        Assert.DoesNotContain("http://", body, StringComparison.Ordinal);
        Assert.StartsWith("default-src 'self'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_route_has_its_embedded_file()
    {
        foreach (string file in AdminPages.Routes.Values)
        {
            Assert.NotEmpty(AdminPages.Read(file));
        }
    }

    [Fact]
    public async Task Admin_none_runs_the_gateway_alone()
    {
        var recorder = new RecordingHandler();
        await using ServeHost host = await StartAsync(recorder, admin: "none");
        Assert.Null(host.AdminUrl);
        Assert.Null(host.Stats);

        await using (TradeClient client = await TradeClient.ConnectAsync(host.GatewayUrl))
        {
            await client.SendTradeAsync(TradeNumber(7));
            await client.CloseAsync();
        }

        await recorder.WaitForDisconnectsAsync(1);
        Assert.Equal([TradeNumber(7)], recorder.DecodedTrades);
        Assert.Equal(1, host.Monitor.Read().Trades);
    }

    [Fact]
    public async Task A_busy_admin_port_fails_the_start()
    {
        await using ServeHost first = await StartAsync(new RecordingHandler());
        string taken = $"127.0.0.1:{first.AdminUrl!.Port}";

        ServeStartException e = await Assert.ThrowsAsync<ServeStartException>(() => StartAsync(new RecordingHandler(), admin: taken));
        Assert.StartsWith($"cannot listen on http://{taken}/ (--admin", e.Message, StringComparison.Ordinal);
        Assert.EndsWith("): address already in use", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stats_json_round_trips_through_the_source_generated_context()
    {
        await using ServeHost host = await StartAsync(new RecordingHandler());
        using var http = new HttpClient { BaseAddress = host.AdminUrl, Timeout = s_timeout };
        StatsResponse? stats = await http.GetFromJsonAsync(new Uri("/api/stats", UriKind.Relative), AdminJsonContext.Default.StatsResponse);
        Assert.NotNull(stats);
        Assert.Equal(0, stats.Totals.Trades);
        Assert.Equal(0, stats.Dispatch.SinceStart.Count);
        Assert.Null(stats.Dispatch.SinceStart.P99);
    }
}
