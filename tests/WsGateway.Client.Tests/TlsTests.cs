using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using WsGateway.Client.Tests.Infrastructure;
using WsGateway.Sbe;

namespace WsGateway.Client.Tests;

/// <summary>wss:// against the gateway mapped into an ASP.NET Core app on Kestrel with a self-signed certificate.</summary>
public sealed class TlsTests
{
    private static async Task<(WebApplication App, int Port)> StartAppAsync(X509Certificate2 certificate, RecordingHandler handler)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.UseHttps(certificate)));
        builder.Services.AddTradeGateway((_, _) => handler);
        WebApplication app = builder.Build();
        app.MapTradeGateway("/trades");
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new Uri(address).Port);
    }

    [Fact]
    public async Task Trades_over_wss_reach_the_ASP_NET_Core_gateway()
    {
        using X509Certificate2 certificate = TestCertificate.Create();
        var handler = new RecordingHandler();
        (WebApplication app, int port) = await StartAppAsync(certificate, handler);
        await using (app)
        {
            var options = new TradeClientOptions
            {
                // Trust exactly this certificate, nothing else.
                RemoteCertificateValidationCallback = (_, cert, _, _) => cert is not null && cert.GetCertHashString() == certificate.GetCertHashString(),
            };
            options.RequestHeaders.Add(new("Origin", "https://localhost"));
            await using TradeClient client = await TradeClient.ConnectAsync(new Uri($"wss://localhost:{port}/trades"), options);

            await client.SendTradeAsync(new Trade(1, (byte)'S', 1.5, 10));
            await client.SendTradesAsync([new Trade(2, (byte)'S', 2.5, 20), new Trade(3, (byte)'S', 3.5, 30)]);
            await client.CloseAsync(1000, "tls done");

            WebSocketCloseInfo close = await handler.Disconnected.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(new WebSocketCloseInfo(1000, "tls done", InitiatedByClient: true, Clean: true), close);
            Assert.Equal([new Trade(1, (byte)'S', 1.5, 10), new Trade(2, (byte)'S', 2.5, 20), new Trade(3, (byte)'S', 3.5, 30)], handler.DecodedTrades);
            Assert.Equal("/trades", handler.Connection?.Path);
            await app.StopAsync();
        }
    }

    [Fact]
    public async Task An_untrusted_certificate_fails_the_connect()
    {
        using X509Certificate2 certificate = TestCertificate.Create();
        var handler = new RecordingHandler();
        (WebApplication app, int port) = await StartAppAsync(certificate, handler);
        await using (app)
        {
            // No callback: the platform's validation refuses a self-signed certificate.
            await Assert.ThrowsAsync<AuthenticationException>(() => TradeClient.ConnectAsync(new Uri($"wss://localhost:{port}/trades")));

            var refusing = new TradeClientOptions { RemoteCertificateValidationCallback = (_, _, _, _) => false };
            await Assert.ThrowsAsync<AuthenticationException>(() => TradeClient.ConnectAsync(new Uri($"wss://localhost:{port}/trades"), refusing));
            await app.StopAsync();
        }
    }

    [Fact]
    public async Task A_wrong_path_on_the_ASP_NET_Core_host_is_a_404()
    {
        using X509Certificate2 certificate = TestCertificate.Create();
        (WebApplication app, int port) = await StartAppAsync(certificate, new RecordingHandler());
        await using (app)
        {
            var options = new TradeClientOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true };
            var ex = await Assert.ThrowsAsync<WebSocketHandshakeException>(() => TradeClient.ConnectAsync(new Uri($"wss://127.0.0.1:{port}/nowhere"), options));
            Assert.Equal(404, ex.StatusCode);
            await app.StopAsync();
        }
    }
}
