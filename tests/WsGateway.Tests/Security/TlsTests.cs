using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using WsGateway.Tests.Hosting;
using WsGateway.Tests.Infrastructure;

namespace WsGateway.Tests.Security;

/// <summary><c>wss://</c> on the standalone server: Kestrel's TLS in front of the connection handler, with a
/// self-signed certificate made in the test and ClientWebSocket trusting exactly that certificate.</summary>
public sealed class TlsTests
{
    [Fact]
    public async Task Trades_arrive_over_wss_and_the_url_says_wss()
    {
        using X509Certificate2 certificate = SecurityTestKit.CreateServerCertificate();
        var handler = new RecordingHandler();
        bool? secureAtHandshake = null;
        var options = new TradeGatewayOptions
        {
            ServerCertificate = certificate,
            ValidateHandshake = context =>
            {
                secureAtHandshake = context.IsSecure;
                return ValueTask.FromResult(HandshakeResult.Accept());
            },
        };
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => handler, options).Start();

        Assert.Equal("wss", server.Url!.Scheme);
        Assert.True(server.IsSecure);
        using ClientWebSocket client = SecurityTestKit.TrustingClient(certificate.Thumbprint);
        await client.ConnectAsync(server.Url, CancellationToken.None);
        await client.SendBinaryAsync(ClientFrames.Trade(1));
        await client.SendBinaryAsync(ClientFrames.Trades(2, 50));
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);

        WebSocketCloseInfo close = await handler.Disconnected.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1000, close.Code);
        Assert.Equal(51, handler.Trades.Count);
        Assert.True(secureAtHandshake);
    }

    [Fact]
    public async Task A_client_that_does_not_trust_the_certificate_cannot_connect()
    {
        using X509Certificate2 certificate = SecurityTestKit.CreateServerCertificate();
        var handler = new RecordingHandler();
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => handler, new TradeGatewayOptions { ServerCertificate = certificate }).Start();

        using ClientWebSocket client = SecurityTestKit.TrustingClient(new string('0', 40));
        await Assert.ThrowsAsync<WebSocketException>(() => client.ConnectAsync(server.Url!, CancellationToken.None));
        Assert.Equal(0, handler.Connects);
    }

    [Fact]
    public async Task Plain_ws_to_a_wss_server_gets_no_WebSocket()
    {
        using X509Certificate2 certificate = SecurityTestKit.CreateServerCertificate();
        var handler = new RecordingHandler();
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => handler, new TradeGatewayOptions { ServerCertificate = certificate }).Start();

        string answer = await SecurityTestKit.RawExchangeAsync(server.LocalEndPoint!, SecurityTestKit.RequestWith());

        Assert.DoesNotContain("101", answer, StringComparison.Ordinal);
        Assert.Equal(0, handler.Connects);
    }

    [Fact]
    public void A_certificate_without_a_private_key_is_refused_at_construction()
    {
        using X509Certificate2 withKey = SecurityTestKit.CreateServerCertificate();
        using X509Certificate2 publicOnly = X509CertificateLoader.LoadCertificate(withKey.Export(X509ContentType.Cert));

        ArgumentException error = Assert.Throws<ArgumentException>(() => new WebSocketServer("127.0.0.1:0", new RecordingHandler(), new TradeGatewayOptions { ServerCertificate = publicOnly }));
        Assert.Contains("private key", error.Message, StringComparison.Ordinal);
    }
}
