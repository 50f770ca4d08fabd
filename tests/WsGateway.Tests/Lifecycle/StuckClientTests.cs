using System.Diagnostics;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using WsGateway.Handlers;
using WsGateway.Tests.Hosting;
using WsGateway.Tests.Infrastructure;
using static WsGateway.Tests.Infrastructure.ClientFrames;

namespace WsGateway.Tests.Lifecycle;

/// <summary>
/// Issue 11, findings 1-3, over real loopback sockets: a client that sends a large message and then never reads
/// (the echo's flush stalls on TCP flow control) must not keep its socket once given up, must not stall any shared
/// path (the heartbeat, the shutdown), and must not keep the server from stopping.
/// </summary>
public sealed class StuckClientTests
{
    private const int Big = 4 * 1024 * 1024;

    [Fact]
    public async Task A_given_up_client_that_does_not_read_has_its_socket_closed_before_its_slot_is_given_back()
    {
        var options = new TradeGatewayOptions
        {
            MaxMessageSize = Big,
            MaxConnections = 4,
            KeepAliveInterval = TimeSpan.FromSeconds(1),
            KeepAliveTimeout = TimeSpan.FromSeconds(1),
        };
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new EchoHandler(), options).Start();
        int port = server.LocalEndPoint!.Port;
        var clients = new List<StuckClient>();
        try
        {
            byte[] message = BinaryFrame(new byte[Big]);
            for (int i = 0; i < 4; i++)
            {
                StuckClient client = await StuckClient.ConnectAsync(server.LocalEndPoint!);
                clients.Add(client);
                await client.SendAsync(message).WaitAsync(TimeSpan.FromSeconds(20));
            }

            Assert.Equal(4, TcpTable.EstablishedOnLocalPort(port));

            // The keep-alive gives up on them (no answer to a ping they cannot even receive).
            var clock = Stopwatch.StartNew();
            while (server.ConnectionCount > 0 && clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(20);
            }

            Assert.Equal(0, server.ConnectionCount);

            // A slot is free only once its socket is closed: no server socket may still be established now.
            Assert.Equal(0, TcpTable.EstablishedOnLocalPort(port));
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task A_client_that_does_not_read_does_not_stall_the_heartbeat_of_other_connections()
    {
        var options = new TradeGatewayOptions
        {
            MaxMessageSize = Big,
            KeepAliveInterval = TimeSpan.Zero,
            IdleTimeout = TimeSpan.FromSeconds(1), // the heartbeat closes the stuck connection: its close cannot be sent
            HandshakeTimeout = TimeSpan.FromSeconds(2),
        };
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new EchoHandler(), options).Start();
        using StuckClient stuck = await StuckClient.ConnectAsync(server.LocalEndPoint!);
        await stuck.SendAsync(BinaryFrame(new byte[Big])).WaitAsync(TimeSpan.FromSeconds(20));
        await Task.Delay(TimeSpan.FromSeconds(2.5)); // past the idle timeout: the heartbeat has met the stuck connection

        // Another client starts a handshake and never finishes it: the heartbeat must still answer 408.
        using var slow = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await slow.ConnectAsync(server.LocalEndPoint!);
        await slow.SendAsync("GET /trades HTTP/1.1\r\n"u8.ToArray(), SocketFlags.None);
        byte[] buffer = new byte[1024];
        int n = await slow.ReceiveAsync(buffer, SocketFlags.None).WaitAsync(TimeSpan.FromSeconds(8));
        Assert.StartsWith("HTTP/1.1 408 ", Encoding.ASCII.GetString(buffer, 0, n), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Shutdown_with_a_client_that_does_not_read_closes_the_others_at_once_and_returns()
    {
        var options = new TradeGatewayOptions
        {
            MaxMessageSize = Big,
            KeepAliveInterval = TimeSpan.Zero,
            ShutdownTimeout = TimeSpan.FromSeconds(1),
            CloseTimeout = TimeSpan.FromSeconds(1),
        };
        var server = new WebSocketServer("127.0.0.1:0", _ => new EchoHandler(), options).Start();
        int port = server.LocalEndPoint!.Port;
        using StuckClient stuck = await StuckClient.ConnectAsync(server.LocalEndPoint!);
        await stuck.SendAsync(BinaryFrame(new byte[Big])).WaitAsync(TimeSpan.FromSeconds(20));
        using ClientWebSocket healthy = await SocketTestClient.ConnectAsync(server.Url);
        await Task.Delay(500); // the echo to the stuck client has filled its window

        var clock = Stopwatch.StartNew();
        Task stopping = server.StopAsync();
        (WebSocketMessageType type, _) = await healthy.ReceiveMessageAsync().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(WebSocketMessageType.Close, type);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, healthy.CloseStatus);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"the healthy client got its 1001 after {clock.Elapsed}");
        await healthy.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);

        // Shutdown timeout (1 s), then the stuck connection is aborted and its socket closed.
        await stopping.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(0, TcpTable.EstablishedOnLocalPort(port));
    }
}
