using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using WsGateway.Handlers;
using WsGateway.Tests.Infrastructure;

namespace WsGateway.Tests.Hosting;

/// <summary>The standalone <see cref="WebSocketServer"/> on Kestrel, over real loopback sockets, with the framework's
/// own <see cref="ClientWebSocket"/> as the peer.</summary>
public sealed class StandaloneServerTests
{
    [Fact]
    public async Task Url_is_the_listening_address_once_started_and_refused_with_the_reason_before()
    {
        var server = new WebSocketServer("127.0.0.1:0", _ => new RecordingHandler());
        var before = Assert.Throws<InvalidOperationException>(() => server.Url);
        Assert.Contains("not listening", before.Message, StringComparison.Ordinal);

        await using (server.Start())
        {
            Uri url = server.Url; // not nullable: passes to a client as the docs show, without a warning
            Assert.Equal($"ws://127.0.0.1:{server.LocalEndPoint!.Port}/", url.ToString());
        }
    }

    [Fact]
    public async Task Trades_sent_over_a_real_socket_reach_the_handler()
    {
        var handler = new RecordingHandler();
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => handler).Start();
        using ClientWebSocket client = await SocketTestClient.ConnectAsync(server.Url);

        await client.SendBinaryAsync(ClientFrames.Trade(1));
        await client.SendBinaryAsync(ClientFrames.Trades(2, 100));
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);

        WebSocketCloseInfo close = await handler.Disconnected.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(new WebSocketCloseInfo(1000, "done", InitiatedByClient: true, Clean: true), close);
        Assert.Equal(101, handler.Trades.Count);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, client.CloseStatus);
        Assert.IsType<IPEndPoint>(handler.Connection?.RemoteEndPoint);
    }

    [Fact]
    public async Task The_echo_handler_returns_binary_and_text_with_their_opcodes()
    {
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new EchoHandler()).Start();
        using ClientWebSocket client = await SocketTestClient.ConnectAsync(server.Url);

        await client.SendAsync(Encoding.UTF8.GetBytes("h\u00e9llo"), WebSocketMessageType.Text, true, CancellationToken.None);
        (WebSocketMessageType type, byte[] payload) = await client.ReceiveMessageAsync();
        Assert.Equal(WebSocketMessageType.Text, type);
        Assert.Equal("h\u00e9llo", Encoding.UTF8.GetString(payload));

        byte[] big = new byte[300_000];
        Random.Shared.NextBytes(big);
        await client.SendBinaryAsync(big);
        (type, payload) = await client.ReceiveMessageAsync();
        Assert.Equal(WebSocketMessageType.Binary, type);
        Assert.Equal(big, payload);
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
    }

    [Fact]
    public async Task A_text_message_closes_the_connection_with_1003()
    {
        var handler = new RecordingHandler();
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => handler).Start();
        using ClientWebSocket client = await SocketTestClient.ConnectAsync(server.Url);

        await client.SendAsync("{}"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        (WebSocketMessageType type, _) = await client.ReceiveMessageAsync();

        Assert.Equal(WebSocketMessageType.Close, type);
        Assert.Equal(WebSocketCloseStatus.InvalidMessageType, client.CloseStatus);
        Assert.Equal(WsErrorKind.UnsupportedData, Assert.Single(handler.Errors).Kind);
    }

    [Fact]
    public async Task Many_connections_at_once_deliver_every_message_in_order()
    {
        const int Connections = 40;
        const int Messages = 500;
        var received = new ConcurrentDictionary<long, List<ulong>>();
        var done = new CountdownEvent(Connections);
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", c => new SequenceHandler(received, done)).Start();

        await Parallel.ForEachAsync(Enumerable.Range(0, Connections), async (n, ct) =>
        {
            using ClientWebSocket client = await SocketTestClient.ConnectAsync(server.Url, ct);
            for (int i = 0; i < Messages; i++)
            {
                ulong id = ((ulong)n << 32) | (uint)i;
                await client.SendBinaryAsync(ClientFrames.Trade(id));
            }

            await client.CloseAsync(WebSocketCloseStatus.NormalClosure, null, ct);
        });

        Assert.True(done.Wait(TimeSpan.FromSeconds(20)), "every connection's OnDisconnect");
        Assert.Equal(Connections, received.Count);
        foreach (List<ulong> ids in received.Values)
        {
            ulong client = ids[0] >> 32;
            Assert.Equal(Enumerable.Range(0, Messages).Select(i => (client << 32) | (uint)i), ids);
        }
    }

    [Fact]
    public async Task A_client_vanishing_mid_frame_does_not_disturb_the_others()
    {
        var handlers = new ConcurrentQueue<RecordingHandler>();
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ =>
        {
            var h = new RecordingHandler();
            handlers.Enqueue(h);
            return h;
        }).Start();
        using ClientWebSocket healthy = await SocketTestClient.ConnectAsync(server.Url);

        using (var raw = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await raw.ConnectAsync(server.LocalEndPoint!);
            string request = $"GET / HTTP/1.1\r\nHost: {server.LocalEndPoint}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
            await raw.SendAsync(Encoding.ASCII.GetBytes(request));
            byte[] response = new byte[1024];
            int n = await raw.ReceiveAsync(response);
            Assert.StartsWith("HTTP/1.1 101", Encoding.ASCII.GetString(response, 0, n), StringComparison.Ordinal);
            byte[] frame = ClientFrames.BinaryFrame(ClientFrames.Trade(1));
            await raw.SendAsync(frame.AsMemory(0, 12));
            raw.Close(); // gone, mid-frame
        }

        await healthy.SendBinaryAsync(ClientFrames.Trade(2));
        await healthy.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);

        RecordingHandler[] all = [.. handlers];
        Assert.Equal(2, all.Length);
        WebSocketCloseInfo[] closes = await Task.WhenAll(all.Select(h => h.Disconnected)).WaitAsync(TimeSpan.FromSeconds(10));
        RecordingHandler vanished = all.Single(h => h.Trades.IsEmpty);
        RecordingHandler ok = all.Single(h => !h.Trades.IsEmpty);
        Assert.Equal(WsErrorKind.Transport, Assert.Single(vanished.Errors).Kind);
        Assert.Equal(1006, (await vanished.Disconnected).Code);
        Assert.Equal(1000, (await ok.Disconnected).Code);
        Assert.Empty(ok.Errors);
        Assert.All(all, h => Assert.Equal(1, h.Disconnects));
    }

    [Fact]
    public async Task Shutdown_while_traffic_flows_closes_with_1001_and_loses_nothing_accepted()
    {
        const int Connections = 10;
        var received = new ConcurrentDictionary<long, List<ulong>>();
        var closes = new ConcurrentBag<WebSocketCloseInfo>();
        var done = new CountdownEvent(Connections);
        var server = new WebSocketServer("127.0.0.1:0", c => new SequenceHandler(received, done, closes)).Start();
        var sent = new long[Connections];
        using var stop = new CancellationTokenSource();

        Task[] clients = Enumerable.Range(0, Connections).Select(n => Task.Run(async () =>
        {
            using ClientWebSocket client = await SocketTestClient.ConnectAsync(server.Url);
            Task<(WebSocketMessageType, byte[])> closeFrame = client.ReceiveMessageAsync();
            try
            {
                for (uint i = 0; !closeFrame.IsCompleted; i++)
                {
                    await client.SendBinaryAsync(ClientFrames.Trade(((ulong)n << 32) | i));
                    sent[n] = i + 1;
                    if ((i & 63) == 63)
                    {
                        // Against a server that reads as fast as this sends, every send completes synchronously:
                        // without a yield ten of these loops hold the thread pool and starve the other tests.
                        await Task.Yield();
                    }
                }

                await closeFrame;
                await client.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, null, CancellationToken.None);
            }
            catch (WebSocketException)
            {
                // The server may finish the close before the client's last send.
            }
        })).ToArray();

        while (received.Count < Connections || received.Values.Any(l => l.Count < 100))
        {
            await Task.Delay(10);
        }

        await server.StopAsync().WaitAsync(TimeSpan.FromSeconds(20));
        await Task.WhenAll(clients).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.True(done.Wait(0), "OnDisconnect for every connection");
        Assert.Equal(Connections, closes.Count);
        Assert.All(closes, c => Assert.Equal(1001, c.Code));
        foreach (List<ulong> ids in received.Values)
        {
            // Exactly once, in order, no gaps: the ids received are 0..count-1 of that client.
            ulong client = ids[0] >> 32;
            Assert.Equal(Enumerable.Range(0, ids.Count).Select(i => (client << 32) | (uint)i), ids);
            Assert.InRange(ids.Count, 100, sent[client]);
        }
    }

    [Fact]
    public void A_bad_listen_address_is_refused_with_the_expected_forms()
    {
        var ex = Assert.Throws<ArgumentException>(() => new WebSocketServer("nonsense", new RecordingHandler()));
        Assert.Contains("expected host:port such as 127.0.0.1:9001", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>Keeps each connection's trade ids, and counts disconnects.</summary>
    private sealed class SequenceHandler(ConcurrentDictionary<long, List<ulong>> received, CountdownEvent done, ConcurrentBag<WebSocketCloseInfo>? closes = null) : ITradeMessageHandler
    {
        private readonly List<ulong> _ids = [];

        public void OnConnect(IGatewayConnection connection) => received[connection.Id] = _ids;

        public void OnTrade(ReadOnlySpan<byte> data)
        {
            lock (_ids)
            {
                _ids.Add(BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(8)));
            }
        }

        public void OnDisconnect(WebSocketCloseInfo close)
        {
            closes?.Add(close);
            done.Signal();
        }
    }
}
