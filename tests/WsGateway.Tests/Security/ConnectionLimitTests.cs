using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using WsGateway.Diagnostics;
using WsGateway.Tests.Infrastructure;

namespace WsGateway.Tests.Security;

/// <summary>Connections per remote address (429) and the slowloris defence (408) over real sockets.</summary>
public sealed class ConnectionLimitTests
{
    private static readonly IPEndPoint s_a = new(IPAddress.Parse("10.0.0.1"), 40001);
    private static readonly IPEndPoint s_a2 = new(IPAddress.Parse("::ffff:10.0.0.1"), 40002);
    private static readonly IPEndPoint s_b = new(IPAddress.Parse("10.0.0.2"), 40003);

    [Fact]
    public async Task The_second_connection_from_one_address_is_429_while_another_address_is_served()
    {
        using var metrics = new GatewayMetrics();
        using var limits = new MetricCollector<long>(metrics.Meter, "wsgateway.limits.exceeded");
        var handler = new RecordingHandler();
        using var manager = InMemoryConnection.CreateManager(_ => new RecordingHandler(), new TradeGatewayOptions { MaxConnectionsPerAddress = 1 }, metrics: metrics);

        await using var first = InMemoryConnection.Open(manager, handler, handshake: true, s_a);
        await first.SendAsync(SecurityTestKit.RequestWith());
        Assert.StartsWith("HTTP/1.1 101 ", await first.ReadHttpResponseAsync(), StringComparison.Ordinal);

        // The same address, IPv4-mapped: still the same client.
        await using (var second = InMemoryConnection.Open(manager, new RecordingHandler(), handshake: true, s_a2))
        {
            await second.SendAsync(SecurityTestKit.RequestWith());
            string refused = await second.ReadHttpResponseAsync();
            Assert.StartsWith("HTTP/1.1 429 ", refused, StringComparison.Ordinal);
            Assert.Contains("Connection limit per address reached: 1 connections are open from 10.0.0.1", refused, StringComparison.Ordinal);
        }

        await using (var other = InMemoryConnection.Open(manager, new RecordingHandler(), handshake: true, s_b))
        {
            await other.SendAsync(SecurityTestKit.RequestWith());
            Assert.StartsWith("HTTP/1.1 101 ", await other.ReadHttpResponseAsync(), StringComparison.Ordinal);
        }

        CollectedMeasurement<long> m = Assert.Single(limits.GetMeasurementSnapshot());
        Assert.Equal("max_connections_per_address", m.Tags["wsgateway.limit"]);
        Assert.Equal("rejected", m.Tags["wsgateway.limit.action"]);

        // Once the first connection ends, the address may connect again.
        await first.SendAsync(ClientFrames.CloseFrame(1000));
        await first.ReadAllFramesAsync();
        await first.WaitClosedAsync();
        Assert.Equal(0, manager.ConnectionsFrom(s_a.Address));
        await using var again = InMemoryConnection.Open(manager, new RecordingHandler(), handshake: true, s_a);
        await again.SendAsync(SecurityTestKit.RequestWith());
        Assert.StartsWith("HTTP/1.1 101 ", await again.ReadHttpResponseAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Over_real_sockets_the_third_connection_from_loopback_is_429()
    {
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new RecordingHandler(), new TradeGatewayOptions { MaxConnectionsPerAddress = 2 }).Start();

        (HttpStatusCode s1, ClientWebSocket c1) = await SecurityTestKit.TryConnectAsync(server.Url);
        (HttpStatusCode s2, ClientWebSocket c2) = await SecurityTestKit.TryConnectAsync(server.Url);
        (HttpStatusCode s3, ClientWebSocket c3) = await SecurityTestKit.TryConnectAsync(server.Url);
        c3.Dispose();

        Assert.Equal(HttpStatusCode.SwitchingProtocols, s1);
        Assert.Equal(HttpStatusCode.SwitchingProtocols, s2);
        Assert.Equal(HttpStatusCode.TooManyRequests, s3);
        Assert.Equal(2, server.ConnectionCount);

        await c1.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        c1.Dispose();
        await SecurityTestKit.WaitUntil(() => server.ConnectionCount == 1);
        (HttpStatusCode s4, ClientWebSocket c4) = await SecurityTestKit.TryConnectAsync(server.Url);
        Assert.Equal(HttpStatusCode.SwitchingProtocols, s4);
        c2.Dispose();
        c4.Dispose();
    }

    [Fact]
    public void A_per_address_limit_below_one_is_refused_by_validation()
        => Assert.Contains("MaxConnectionsPerAddress", new TradeGatewayOptions { MaxConnectionsPerAddress = 0 }.Validate(), StringComparison.Ordinal);

    [Fact]
    public async Task Slowloris_a_request_trickled_one_byte_per_second_gets_408_within_the_handshake_timeout()
    {
        var handler = new RecordingHandler();
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => handler, new TradeGatewayOptions { HandshakeTimeout = TimeSpan.FromSeconds(3) }).Start();
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server.LocalEndPoint!);
        var clock = Stopwatch.StartNew();

        byte[] request = Encoding.ASCII.GetBytes(SecurityTestKit.RequestWith());
        using var stop = new CancellationTokenSource();
        Task trickle = Task.Run(async () =>
        {
            try
            {
                for (int i = 0; i < request.Length && !stop.IsCancellationRequested; i++)
                {
                    await socket.SendAsync(request.AsMemory(i, 1), SocketFlags.None);
                    await Task.Delay(1000, stop.Token);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        });

        string answer = await SecurityTestKit.ReadUntilClosedAsync(socket, TimeSpan.FromSeconds(8));
        TimeSpan took = clock.Elapsed;
        await stop.CancelAsync();
        await trickle;

        Assert.StartsWith("HTTP/1.1 408 ", answer, StringComparison.Ordinal);
        Assert.Contains("Handshake not completed within 3 s", answer, StringComparison.Ordinal);
        Assert.InRange(took, TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(5.5));
        Assert.Equal(0, handler.Connects);
    }
}
