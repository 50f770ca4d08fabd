using System.Net.Sockets;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Connections;
using WsGateway.Tests.Infrastructure;
using WsGateway.Tests.Security;

namespace WsGateway.Tests.Hosting;

/// <summary>Issue 17, finding 3: a port is never shared silently. A second gateway, or any socket bound with
/// <c>SO_REUSEPORT</c>, cannot bind the port a gateway listens on; a gateway restarted on its port while its old
/// connections are in TIME_WAIT still binds (<c>SO_REUSEADDR</c> alone).</summary>
public sealed class PortSharingTests
{
    private const int SolSocket = 1;
    private const int SoReuseAddr = 2;
    private const int SoReusePort = 15;

    [Fact]
    public async Task A_second_server_on_the_same_port_fails_with_address_in_use_and_the_first_keeps_serving()
    {
        await using WebSocketServer first = new WebSocketServer("127.0.0.1:0", _ => new RecordingHandler()).Start();
        int port = first.LocalEndPoint!.Port;

        await using var second = new WebSocketServer($"127.0.0.1:{port}", _ => new RecordingHandler());
        IOException refused = await Assert.ThrowsAsync<IOException>(() => second.StartAsync());
        Assert.IsType<AddressInUseException>(refused.InnerException);
        Assert.Contains($"127.0.0.1:{port}", refused.Message, StringComparison.Ordinal);
        Assert.Contains("address already in use", refused.Message, StringComparison.OrdinalIgnoreCase);

        for (int i = 0; i < 8; i++)
        {
            // Were the port shared, the kernel would spread these over both listeners.
            using ClientWebSocket client = await SocketTestClient.ConnectAsync(first.Url);
            await client.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_socket_bound_with_SO_REUSEPORT_cannot_take_the_gateway_s_port()
    {
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new RecordingHandler()).Start();

        using var intruder = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        intruder.SetRawSocketOption(SolSocket, SoReuseAddr, BitConverter.GetBytes(1));
        intruder.SetRawSocketOption(SolSocket, SoReusePort, BitConverter.GetBytes(1));
        SocketException e = Assert.Throws<SocketException>(() => intruder.Bind(server.LocalEndPoint!));
        Assert.Equal(SocketError.AddressAlreadyInUse, e.SocketErrorCode);
    }

    [Fact]
    public async Task A_server_restarted_on_its_port_binds_while_its_old_connections_are_in_TIME_WAIT()
    {
        var server = new WebSocketServer("127.0.0.1:0", _ => new RecordingHandler());
        await server.StartAsync();
        int port = server.LocalEndPoint!.Port;
        List<ClientWebSocket> clients = [];
        for (int i = 0; i < 4; i++)
        {
            clients.Add(await SocketTestClient.ConnectAsync(server.Url));
        }

        // The server closes first (1001, then its end of TCP): its side of each connection stays in TIME_WAIT.
        Task stopped = server.StopAsync();
        foreach (ClientWebSocket client in clients)
        {
            (WebSocketMessageType type, _) = await client.ReceiveMessageAsync();
            Assert.Equal(WebSocketMessageType.Close, type);
            await client.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, null, CancellationToken.None);
        }

        await stopped.WaitAsync(TimeSpan.FromSeconds(15));
        await server.DisposeAsync();
        await SecurityTestKit.WaitUntil(() => TcpTable.TimeWaitOnLocalPort(port) > 0);

        await using WebSocketServer again = new WebSocketServer($"127.0.0.1:{port}", _ => new RecordingHandler()).Start();
        Assert.Equal(port, again.LocalEndPoint!.Port);
        using ClientWebSocket fresh = await SocketTestClient.ConnectAsync(again.Url);
        await fresh.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        foreach (ClientWebSocket client in clients)
        {
            client.Dispose();
        }
    }
}
