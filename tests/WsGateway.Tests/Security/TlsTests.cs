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

        Assert.Equal("wss", server.Url.Scheme);
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
        await Assert.ThrowsAsync<WebSocketException>(() => client.ConnectAsync(server.Url, CancellationToken.None));
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

    [Fact]
    public async Task The_handshake_timeout_counts_from_the_TCP_accept_not_from_the_end_of_TLS()
    {
        // Issue 11, finding 7: a TLS handshake finished just before the timeout used to start a fresh HandshakeTimeout
        // (up to twice the documented bound), and the connection then waited CloseTimeout for a socket close that
        // Kestrel's TLS middleware only does after the handler returns. With 4 s: TLS started at 2.5 s, then silence.
        // Counted from the accept the connection ends by about 4 s plus one heartbeat (1 s); before, not until 6.5 s
        // plus CloseTimeout (20 s here). The bound leaves room for a loaded machine.
        using X509Certificate2 certificate = SecurityTestKit.CreateServerCertificate();
        var options = new TradeGatewayOptions { ServerCertificate = certificate, HandshakeTimeout = TimeSpan.FromSeconds(4), CloseTimeout = TimeSpan.FromSeconds(20) };
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new RecordingHandler(), options).Start();

        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(server.Url.Host, server.Url.Port);
        var accepted = System.Diagnostics.Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        using var tls = new System.Net.Security.SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, _, _, _) => true);

        // Send nothing after TLS; read until the server gives up (a 408 and the end of the stream, or a reset). On a
        // loaded machine the deadline may already pass during TLS: the connection ended in time then too.
        byte[] buffer = new byte[1024];
        try
        {
            await tls.AuthenticateAsClientAsync("localhost");
            while (await tls.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(60)) > 0)
            {
            }
        }
        catch (IOException)
        {
        }

        Assert.True(accepted.Elapsed < TimeSpan.FromSeconds(12), $"the connection ended {accepted.Elapsed.TotalSeconds:F1} s after the TCP accept; the bound is 4 s (+ one heartbeat)");
    }
}
