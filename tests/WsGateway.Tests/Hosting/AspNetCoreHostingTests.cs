using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WsGateway.Tests.Infrastructure;

namespace WsGateway.Tests.Hosting;

/// <summary><c>AddTradeGateway</c>/<c>MapTradeGateway</c> in a real ASP.NET Core application on Kestrel, over
/// loopback sockets.</summary>
public sealed class AspNetCoreHostingTests
{
    private static Task<(WebApplication App, Uri Url)> StartAppAsync(ConcurrentQueue<RecordingHandler> handlers, Action<TradeGatewayOptions>? configure = null)
        => TestWebApp.StartAsync(services => services.AddTradeGateway(TestWebApp.Collecting(handlers), configure));

    [Fact]
    public async Task MapTradeGateway_accepts_WebSocket_clients_and_delivers_trades()
    {
        var handlers = new ConcurrentQueue<RecordingHandler>();
        (WebApplication app, Uri url) = await StartAppAsync(handlers);
        await using (app)
        {
            using ClientWebSocket client = await SocketTestClient.ConnectAsync(url);
            await client.SendBinaryAsync(ClientFrames.Trade(1));
            await client.SendBinaryAsync(ClientFrames.Trades(2, 3));
            await client.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);

            RecordingHandler handler = Assert.Single(handlers);
            Assert.Equal(1000, (await handler.Disconnected.WaitAsync(TimeSpan.FromSeconds(10))).Code);
            Assert.Equal(4, handler.Trades.Count);
            Assert.Equal("/trades", handler.Connection?.Path);
            await app.StopAsync();
        }
    }

    [Fact]
    public async Task A_plain_HTTP_request_to_the_endpoint_is_refused_with_400()
    {
        var handlers = new ConcurrentQueue<RecordingHandler>();
        (WebApplication app, Uri url) = await StartAppAsync(handlers);
        await using (app)
        {
            using var http = new HttpClient();
            HttpResponseMessage response = await http.GetAsync(new UriBuilder(url) { Scheme = "http" }.Uri);

            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("WebSocket", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Empty(handlers);
            await app.StopAsync();
        }
    }

    [Fact]
    public async Task Stopping_the_application_closes_connections_with_1001()
    {
        var handlers = new ConcurrentQueue<RecordingHandler>();
        (WebApplication app, Uri url) = await StartAppAsync(handlers);
        await using (app)
        {
            using ClientWebSocket client = await SocketTestClient.ConnectAsync(url);
            await client.SendBinaryAsync(ClientFrames.Trade(1));
            Task<(WebSocketMessageType Type, byte[] Payload)> receive = client.ReceiveMessageAsync();

            Task stopping = app.StopAsync();
            (WebSocketMessageType type, _) = await receive;
            Assert.Equal(WebSocketMessageType.Close, type);
            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, client.CloseStatus);
            await client.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, null, CancellationToken.None);
            await stopping.WaitAsync(TimeSpan.FromSeconds(20));

            RecordingHandler handler = Assert.Single(handlers);
            Assert.Single(handler.Trades);
            Assert.Equal(1001, (await handler.Disconnected).Code);
            Assert.Equal(1, handler.Disconnects);
        }
    }

    [Fact]
    public async Task Invalid_options_are_refused_when_the_host_starts()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.AddTradeGateway<RecordingHandler>(o => o.MaxConnections = 0);
        await using WebApplication app = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());
        Assert.Contains("MaxConnections must be at least 1, got 0", ex.Message, StringComparison.Ordinal);
    }
}
