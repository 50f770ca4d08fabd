using System.Collections.Concurrent;
using System.Net;
using WsGateway.Tests.Infrastructure;
using WsGateway.Tests.Security;

namespace WsGateway.Tests.Lifecycle;

/// <summary>
/// A connection paused by backpressure is not read, so it cannot see its client's FIN or reset in the stream: the
/// transport must notice it (epoll's RDHUP/HUP on the native transport, the TCP state under Kestrel) and the connection
/// must be given up at once, its slot and socket freed, instead of holding both until the sink comes back.
/// </summary>
public sealed class PausedClientLeavesTests
{
    public enum Leaving
    {
        /// <summary>Closes its socket after everything it sent has reached the gateway's host: a FIN.</summary>
        Fin,

        /// <summary>Resets the connection (SO_LINGER 0), with bytes still unsent.</summary>
        Reset,

        /// <summary>Closes its socket with bytes it could not send (the gateway's window is shut while it does not
        /// read): the FIN waits behind them in the client's kernel, and only a probe from the gateway (the keep-alive
        /// ping, which the closed socket answers with a reset) can tell.</summary>
        CloseWithBytesUnsent,
    }

    [Theory]
    [InlineData(Leaving.Fin)]
    [InlineData(Leaving.Reset)]
    [InlineData(Leaving.CloseWithBytesUnsent)]
    public async Task Clients_that_leave_while_paused_free_their_slots_and_sockets(Leaving leaving)
    {
        const int Limit = 12;
        var handler = new PausingHandler();
        var options = new TradeGatewayOptions { MaxConnections = Limit, EventLoops = 1, KeepAliveInterval = TimeSpan.FromSeconds(1) };
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", c => handler.Create(c), options).Start();
        Assert.Equal(TransportUnderTest.Expected, server.Transport);

        // Every slot taken by a client that streams more than Kestrel's read-ahead (64 KiB) holds, then is paused (the
        // sink frozen). For a FIN to reach the gateway, the burst must fit in its socket's receive window; to stay
        // unsent, it must not.
        int frames = leaving == Leaving.Fin ? 45 : 600;
        byte[] burst = ClientFrames.Concat([.. Enumerable.Range(0, frames).Select(i => ClientFrames.BinaryFrame(ClientFrames.Trades((ulong)i * 64, 64)))]);
        int port = server.LocalEndPoint!.Port;
        int listening = TcpTable.SocketDescriptorsOnPort(port); // the listener's (other tests' sockets do not count)
        var clients = new List<RawWebSocketClient>();
        for (int i = 0; i < Limit; i++)
        {
            RawWebSocketClient client = await RawWebSocketClient.ConnectAsync(server.LocalEndPoint!);
            clients.Add(client);
            _ = client.SendAsync(burst); // may not finish: the gateway stops reading
        }

        await SecurityTestKit.WaitUntil(() => handler.Paused.Count == Limit);
        Assert.Equal(Limit, server.ConnectionCount);
        await Task.Delay(200); // what can reach the gateway's host has
        Assert.Equal(listening + (2 * Limit), TcpTable.SocketDescriptorsOnPort(port)); // each connection's two ends

        // They all leave, with their bytes still unread by the gateway.
        foreach (RawWebSocketClient client in clients)
        {
            if (leaving == Leaving.Reset)
            {
                client.Abort();
            }
            else
            {
                client.Dispose();
            }
        }

        // Noticed at once (the native transport's event), at the next heartbeat (Kestrel's TCP state), or after the
        // next keep-alive probe: long before the sink could come back. Nothing was resumed.
        await SecurityTestKit.WaitUntil(() => server.ConnectionCount == 0 && handler.Disconnects == Limit, timeoutMs: 6_000);
        Assert.All(handler.Closes, close => Assert.Equal(1006, close.Code));
        Assert.All(handler.Closes, close => Assert.Contains("Client left while receiving was paused", close.Reason, StringComparison.Ordinal));
        await SecurityTestKit.WaitUntil(() => TcpTable.SocketDescriptorsOnPort(port) == listening, timeoutMs: 3_000); // the gateway's ends closed too

        // And newcomers get the slots.
        for (int i = 0; i < Limit; i++)
        {
            (HttpStatusCode status, System.Net.WebSockets.ClientWebSocket socket) = await SecurityTestKit.TryConnectAsync(server.Url);
            socket.Dispose();
            Assert.Equal(HttpStatusCode.SwitchingProtocols, status);
        }
    }

    /// <summary>A connection whose receive loop waits off the loop when the shutdown gives up on it (here the rate
    /// limit's throttle, longer than the close timeout) reads again only after the native loop has stopped: that read,
    /// posted to a loop that will never run it, must still see the end (it runs on the poster's thread), so that the
    /// connection ends with its one <c>OnDisconnect</c>.</summary>
    [Fact]
    public async Task A_read_started_after_the_transport_stopped_sees_the_end_and_the_connection_ends()
    {
        var handler = new RecordingHandler();
        var options = new TradeGatewayOptions
        {
            EventLoops = 1,
            MessageRateLimit = new MessageRateLimit(messagesPerSecond: 0.5, burst: 1), // a token every 2 s: throttled
            ShutdownTimeout = TimeSpan.FromMilliseconds(100),
            CloseTimeout = TimeSpan.FromMilliseconds(300),
        };
        WebSocketServer server = new WebSocketServer("127.0.0.1:0", handler.Create, options).Start();
        using RawWebSocketClient client = await RawWebSocketClient.ConnectAsync(server.LocalEndPoint!);
        await client.SendAsync(ClientFrames.Concat(ClientFrames.BinaryFrame(ClientFrames.Trade(1)), ClientFrames.BinaryFrame(ClientFrames.Trade(2))));
        await handler.WaitForTradesAsync(1);

        await server.StopAsync().WaitAsync(TimeSpan.FromSeconds(10)); // gives up on the throttled connection
        if (server.Transport == GatewayTransport.Native)
        {
            Assert.Equal(0, handler.Disconnects); // its receive loop still waits for a token (Kestrel's ends it sooner)
        }

        await handler.WaitForDisconnectsAsync(1);
    }

    /// <summary>Pauses every connection at its first trade and never resumes it: a sink that is frozen.</summary>
    private sealed class PausingHandler
    {
        public ConcurrentQueue<IGatewayConnection> Paused { get; } = new();

        public ConcurrentQueue<WebSocketCloseInfo> Closes { get; } = new();

        public int Disconnects => Closes.Count;

        public ITradeMessageHandler Create(IGatewayConnection connection) => new Connection(this, connection);

        private sealed class Connection(PausingHandler owner, IGatewayConnection connection) : ITradeMessageHandler
        {
            private bool _paused;

            public void OnTrade(ReadOnlySpan<byte> data)
            {
                if (!_paused)
                {
                    _paused = true;
                    connection.PauseReceiving();
                    owner.Paused.Enqueue(connection);
                }
            }

            public void OnDisconnect(WebSocketCloseInfo close) => owner.Closes.Enqueue(close);
        }
    }
}
