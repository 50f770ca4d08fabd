using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using WsGateway.Diagnostics;
using WsGateway.Tests.Infrastructure;

namespace WsGateway.Tests.Security;

/// <summary>The origin allow-list on both hostings: a listed origin or none passes, any other is refused 403.</summary>
public sealed class OriginTests
{
    private static TradeGatewayOptions Options() => new() { AllowedOrigins = { "https://trading.example.com", "http://localhost:8080" } };

    [Theory]
    [InlineData("Origin: https://trading.example.com", "HTTP/1.1 101 ")]
    [InlineData("Origin: HTTPS://Trading.Example.com", "HTTP/1.1 101 ")]
    [InlineData("Origin: http://localhost:8080", "HTTP/1.1 101 ")]
    [InlineData(null, "HTTP/1.1 101 ")]
    [InlineData("Origin: https://evil.example.net", "HTTP/1.1 403 ")]
    [InlineData("Origin: https://trading.example.com.evil.net", "HTTP/1.1 403 ")]
    [InlineData("Origin: http://trading.example.com", "HTTP/1.1 403 ")]
    [InlineData("Origin: null", "HTTP/1.1 403 ")]
    public async Task Standalone_handshakes_are_checked_against_the_allow_list(string? originHeader, string expected)
    {
        var handler = new RecordingHandler();
        await using var connection = InMemoryConnection.Raw(handler, Options());

        await connection.SendAsync(originHeader is null ? SecurityTestKit.RequestWith() : SecurityTestKit.RequestWith(originHeader));
        string response = await connection.ReadHttpResponseAsync();

        Assert.StartsWith(expected, response, StringComparison.Ordinal);
        if (expected.Contains("403", StringComparison.Ordinal))
        {
            Assert.Contains("is not allowed", response, StringComparison.Ordinal);
            await connection.WaitClosedAsync();
            Assert.Equal(0, handler.Connects);
            Assert.Equal(0, connection.Manager.OpenWebSockets);
        }
        else
        {
            await connection.SendAsync(ClientFrames.CloseFrame(1000));
            await connection.ReadAllFramesAsync();
            Assert.Equal(1, handler.Connects);
        }
    }

    [Theory]
    [InlineData("Origin: https://anything.example", "HTTP/1.1 403 ")]
    [InlineData(null, "HTTP/1.1 101 ")]
    public async Task An_empty_allow_list_with_RequireListedOrigin_refuses_every_browser_and_no_other_client(string? originHeader, string expected)
    {
        var handler = new RecordingHandler();
        await using var connection = InMemoryConnection.Raw(handler, new TradeGatewayOptions { RequireListedOrigin = true });

        await connection.SendAsync(originHeader is null ? SecurityTestKit.RequestWith() : SecurityTestKit.RequestWith(originHeader));
        string response = await connection.ReadHttpResponseAsync();

        Assert.StartsWith(expected, response, StringComparison.Ordinal);
        if (originHeader is not null)
        {
            Assert.Contains("Origin 'https://anything.example' is not allowed: no browser origin is", response, StringComparison.Ordinal);
            await connection.WaitClosedAsync();
            Assert.Equal(0, connection.Manager.OpenWebSockets);
        }
    }

    [Fact]
    public async Task An_empty_allow_list_accepts_any_origin()
    {
        var handler = new RecordingHandler();
        await using var connection = InMemoryConnection.Raw(handler);

        await connection.SendAsync(SecurityTestKit.RequestWith("Origin: https://anything.example"));

        Assert.StartsWith("HTTP/1.1 101 ", await connection.ReadHttpResponseAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_origin_is_counted_and_its_control_characters_are_not_echoed()
    {
        using var metrics = new GatewayMetrics();
        using var denied = new MetricCollector<long>(metrics.Meter, "wsgateway.handshakes.denied");
        var handler = new RecordingHandler();
        using var manager = InMemoryConnection.CreateManager(_ => handler, Options(), metrics: metrics);
        await using var connection = InMemoryConnection.Open(manager, handler, handshake: true);

        await connection.SendAsync(SecurityTestKit.RequestWith("Origin: https://evil.example\u00ff<script>"));
        string response = await connection.ReadHttpResponseAsync();

        Assert.StartsWith("HTTP/1.1 403 ", response, StringComparison.Ordinal);
        Assert.Contains("Origin 'https://evil.example?<script>' is not allowed", response, StringComparison.Ordinal);
        CollectedMeasurement<long> m = Assert.Single(denied.GetMeasurementSnapshot());
        Assert.Equal("origin", m.Tags["wsgateway.denial.reason"]);
    }

    [Fact]
    public void An_origin_with_a_trailing_slash_is_refused_by_validation()
    {
        var options = new TradeGatewayOptions { AllowedOrigins = { "https://example.com/" } };
        Assert.Contains("AllowedOrigins", options.Validate(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AspNetCore_refuses_an_unlisted_origin_with_403_and_accepts_a_listed_one()
    {
        var handlers = new ConcurrentQueue<RecordingHandler>();
        (WebApplication app, Uri url) = await TestWebApp.StartAsync(services => services.AddTradeGateway(
            TestWebApp.Collecting(handlers),
            o => o.AllowedOrigins.Add("https://trading.example.com")));
        await using WebApplication owned = app;

        (HttpStatusCode refused, ClientWebSocket evil) = await SecurityTestKit.TryConnectAsync(url, o => o.SetRequestHeader("Origin", "https://evil.example.net"));
        evil.Dispose();
        Assert.Equal(HttpStatusCode.Forbidden, refused);
        Assert.Empty(handlers);

        (HttpStatusCode accepted, ClientWebSocket good) = await SecurityTestKit.TryConnectAsync(url, o => o.SetRequestHeader("Origin", "https://trading.example.com"));
        using (good)
        {
            Assert.Equal(HttpStatusCode.SwitchingProtocols, accepted);
            await good.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }

        Assert.Single(handlers);
        await app.StopAsync();
    }
}
