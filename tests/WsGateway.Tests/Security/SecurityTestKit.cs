using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace WsGateway.Tests.Security;

/// <summary>Shared pieces of the security tests: a self-signed certificate, raw handshake requests, and a
/// ClientWebSocket that reports the HTTP status of a refused handshake.</summary>
internal static class SecurityTestKit
{
    public const string Request =
        "GET /trades HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

    /// <summary>The upgrade request with extra header lines (each "Name: value"), terminated.</summary>
    public static string RequestWith(params string[] headers)
    {
        var text = new StringBuilder(Request);
        foreach (string header in headers)
        {
            text.Append(header).Append("\r\n");
        }

        return text.Append("\r\n").ToString();
    }

    /// <summary>A self-signed server certificate for 127.0.0.1/localhost, with its private key, made in the test.</summary>
    public static X509Certificate2 CreateServerCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=wsgateway-test", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        using X509Certificate2 ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));

        // Round-trip through PKCS#12 so that the private key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12, "test"), "test");
    }

    /// <summary>A client that trusts exactly the certificate with <paramref name="thumbprint"/>.</summary>
    public static ClientWebSocket TrustingClient(string thumbprint)
    {
        var client = new ClientWebSocket();
        client.Options.KeepAliveInterval = TimeSpan.Zero;
        client.Options.RemoteCertificateValidationCallback = (_, certificate, _, _)
            => certificate is not null && string.Equals(certificate.GetCertHashString(), thumbprint, StringComparison.OrdinalIgnoreCase);
        return client;
    }

    /// <summary>Connects, returning the HTTP status of the handshake's answer (101 when connected).</summary>
    public static async Task<(HttpStatusCode Status, ClientWebSocket Client)> TryConnectAsync(Uri url, Action<ClientWebSocketOptions>? configure = null)
    {
        var client = new ClientWebSocket();
        client.Options.KeepAliveInterval = TimeSpan.Zero;
        client.Options.CollectHttpResponseDetails = true;
        configure?.Invoke(client.Options);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await client.ConnectAsync(url, timeout.Token);
        }
        catch (WebSocketException)
        {
        }

        return (client.HttpStatusCode, client);
    }

    /// <summary>Sends a raw request over a new TCP connection and reads the answer until the server closes
    /// (or 10 s pass).</summary>
    public static async Task<string> RawExchangeAsync(IPEndPoint server, string request)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server);
        await socket.SendAsync(Encoding.ASCII.GetBytes(request), SocketFlags.None);
        return await ReadUntilClosedAsync(socket, TimeSpan.FromSeconds(10));
    }

    public static async Task<string> ReadUntilClosedAsync(Socket socket, TimeSpan limit)
    {
        using var timeout = new CancellationTokenSource(limit);
        var received = new MemoryStream();
        byte[] buffer = new byte[4096];
        try
        {
            while (true)
            {
                int n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                if (n == 0)
                {
                    break;
                }

                received.Write(buffer, 0, n);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException)
        {
        }

        return Encoding.UTF8.GetString(received.ToArray());
    }

    public static async Task WaitUntil(Func<bool> condition, int timeoutMs = 10_000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("Condition not met in time.");
            }

            await Task.Delay(5);
        }
    }
}
