using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using WsGateway.Connections;
using WsGateway.Handlers;
using WsGateway.Tests.Infrastructure;
using WsGateway.Tests.Security;
using WsGateway.Transport.Native;
using static WsGateway.Tests.Infrastructure.ClientFrames;

namespace WsGateway.Tests.Hosting;

/// <summary>
/// What the native transport promises beyond the protocol (which the whole suite checks on both transports): the
/// handler runs on the loop thread that read the bytes, an idle connection holds no buffer, connections spread over
/// the loops, and the choice of transport is explicit. These tests ask for the native transport whatever the run's
/// default is.
/// </summary>
public sealed class NativeTransportTests
{
    private static TradeGatewayOptions Native(int loops = 1) => new() { Transport = GatewayTransport.Native, EventLoops = loops };

    [Fact]
    public async Task The_standalone_server_runs_on_the_transport_this_run_asked_for()
    {
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new EchoHandler()).Start();
        Assert.Equal(TransportUnderTest.Expected, server.Transport);
        Assert.Equal(server.Transport == GatewayTransport.Native ? Environment.ProcessorCount : 0, server.EventLoopCount);
    }

    [Fact]
    public async Task The_handler_is_called_on_the_event_loop_thread_that_read_the_bytes()
    {
        var threads = new ConcurrentQueue<string?>();
        var handler = new ThreadRecorder(threads);
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", handler.Create, Native()).Start();
        using RawWebSocketClient client = await RawWebSocketClient.ConnectAsync(server.LocalEndPoint!);
        await client.SendAsync(Concat(BinaryFrame(Trade(1)), BinaryFrame(Trade(2))));
        await handler.WaitForTradesAsync(2);

        Assert.Equal(GatewayTransport.Native, server.Transport);
        Assert.Equal(3, threads.Count); // OnConnect and two trades
        Assert.All(threads, name => Assert.Equal("wsgw-loop-0", name));
    }

    [Fact]
    public async Task An_incomplete_frame_is_the_only_thing_kept_between_reads_and_an_idle_connection_holds_no_buffer()
    {
        var handler = new RecordingEcho();
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", handler.Create, Native()).Start();
        using RawWebSocketClient client = await RawWebSocketClient.ConnectAsync(server.LocalEndPoint!);
        await SecurityTestKit.WaitUntil(() => handler.Connection is not null);
        var transport = (NativeConnection)((WebSocketConnection)handler.Connection!).Transport;
        var reader = (NativeReader)transport.Input;
        var writer = (NativeWriter)transport.Output;

        byte[] frame = BinaryFrame(Trade(7));
        await client.SendAsync(frame.AsMemory(0, 20)); // header and part of the payload
        await SecurityTestKit.WaitUntil(() => reader.TailCapacity > 0);
        Assert.True(reader.TailCapacity > 0, "the incomplete frame is kept in a rented tail");
        Assert.Equal(0, handler.TradeCount);

        await client.SendAsync(frame.AsMemory(20));
        await handler.WaitForTradesAsync(1);
        ServerFrame? echo = await client.ReadFrameAsync().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(Trade(7), echo!.Payload);
        var core = (WebSocketConnection)handler.Connection!;
        await SecurityTestKit.WaitUntil(() => reader.TailCapacity == 0 && writer.BufferCapacity == 0 && core.SendQueueCapacity == 0);
        Assert.Equal(0, reader.TailCapacity);
        Assert.Equal(0, writer.BufferCapacity);
        Assert.Equal(0, core.SendQueueCapacity); // the outbound queue's array went back to the pool too
    }

    [Fact]
    public async Task Connections_are_spread_over_the_loops()
    {
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new EchoHandler(), Native(loops: 2)).Start();
        var clients = new List<RawWebSocketClient>();
        try
        {
            for (int i = 0; i < 10; i++)
            {
                clients.Add(await RawWebSocketClient.ConnectAsync(server.LocalEndPoint!));
            }

            Assert.Equal(2, server.EventLoopCount);
            Assert.Equal([5, 5], server.ConnectionsPerLoop());
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task A_slow_handler_delays_the_connections_of_its_own_loop_and_no_other()
    {
        // One loop: the second connection waits for the first one's slow callback (the documented contract).
        TimeSpan sameLoop = await EchoDelayBehindASlowHandler(loops: 1);

        // Two loops: the second connection is on the other loop and is answered at once.
        TimeSpan otherLoop = await EchoDelayBehindASlowHandler(loops: 2);

        Assert.True(sameLoop >= TimeSpan.FromMilliseconds(1200), $"same loop: echo after {sameLoop.TotalMilliseconds:0} ms");
        Assert.True(otherLoop < TimeSpan.FromMilliseconds(1000), $"other loop: echo after {otherLoop.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task A_handshake_larger_than_half_the_receive_buffer_and_frames_sent_with_it_are_taken()
    {
        var options = Native();
        options.MaxHandshakeSize = 1024 * 1024;
        var handler = new RecordingEcho();
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", handler.Create, options).Start();
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server.LocalEndPoint!);

        // 90 headers of 4.6 KB, over 400 KiB (the loop's buffer is 512 KiB) and, in the same write, two frames.
        string filler = new('x', 4600);
        var request = new StringBuilder($"GET /trades HTTP/1.1\r\nHost: {server.LocalEndPoint}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n");
        for (int i = 0; i < 90; i++)
        {
            request.Append("X-Filler-").Append(i).Append(": ").Append(filler).Append("\r\n");
        }

        request.Append("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        byte[] bytes = Concat(Encoding.ASCII.GetBytes(request.ToString()), BinaryFrame(Trade(1)), BinaryFrame(Trade(2)));
        Assert.True(bytes.Length > EventLoop.ReceiveBufferSize / 2);
        await socket.SendAsync(bytes, SocketFlags.None);
        byte[] answer = new byte[1024];
        int n = await socket.ReceiveAsync(answer, SocketFlags.None).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.StartsWith("HTTP/1.1 101 ", Encoding.ASCII.GetString(answer, 0, n), StringComparison.Ordinal);

        await handler.WaitForTradesAsync(2);
        Assert.Equal([1UL, 2UL], handler.DecodedTrades.Select(t => t.TradeId));
    }

    [Fact]
    public void Asking_for_the_native_transport_where_it_cannot_serve_is_refused_with_the_reason()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var options = new TradeGatewayOptions { Transport = GatewayTransport.Native, ServerCertificate = certificate };
        var refused = Assert.Throws<InvalidOperationException>(() => WebSocketServer.Resolve(options));
        Assert.Contains("wss://", refused.Message, StringComparison.Ordinal);

        options.Transport = GatewayTransport.Auto;
        Assert.Equal(GatewayTransport.Kestrel, WebSocketServer.Resolve(options));

        var invalid = Assert.Throws<ArgumentException>(() => new WebSocketServer("127.0.0.1:0", _ => new EchoHandler(), new TradeGatewayOptions { EventLoops = 0 }));
        Assert.Contains("EventLoops must be between 1 and 1024", invalid.Message, StringComparison.Ordinal);
    }

    private static async Task<TimeSpan> EchoDelayBehindASlowHandler(int loops)
    {
        var slowStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", c => c.Path == "/slow" ? new SlowHandler(slowStarted) : new EchoHandler(), Native(loops)).Start();
        using RawWebSocketClient slow = await RawWebSocketClient.ConnectAsync(server.LocalEndPoint!, "/slow");
        using RawWebSocketClient fast = await RawWebSocketClient.ConnectAsync(server.LocalEndPoint!);
        await slow.SendAsync(BinaryFrame(Trade(1)));
        await slowStarted.Task.WaitAsync(TimeSpan.FromSeconds(10)); // the slow callback has begun
        var clock = Stopwatch.StartNew();
        await fast.SendAsync(BinaryFrame(Trade(2)));
        Assert.NotNull(await fast.ReadFrameAsync().WaitAsync(TimeSpan.FromSeconds(10)));
        return clock.Elapsed;
    }


    private sealed class ThreadRecorder(ConcurrentQueue<string?> threads) : RecordingHandler
    {
        public override void OnConnect(IGatewayConnection connection)
        {
            threads.Enqueue(Thread.CurrentThread.Name);
            base.OnConnect(connection);
        }

        public override void OnTrade(ReadOnlySpan<byte> data)
        {
            threads.Enqueue(Thread.CurrentThread.Name);
            base.OnTrade(data);
        }
    }

    /// <summary>Records, and echoes every trade back.</summary>
    private sealed class RecordingEcho : RecordingHandler
    {
        public override void OnTrade(ReadOnlySpan<byte> data)
        {
            base.OnTrade(data);
            Connection!.Send(data);
        }
    }

    /// <summary>Takes 1.5 s over each trade, saying when it begins.</summary>
    private sealed class SlowHandler(TaskCompletionSource started) : ITradeMessageHandler
    {
        public void OnTrade(ReadOnlySpan<byte> data)
        {
            started.TrySetResult();
            Thread.Sleep(1500);
        }
    }
}
