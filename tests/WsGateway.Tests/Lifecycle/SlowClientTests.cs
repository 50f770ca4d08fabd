using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using WsGateway.Diagnostics;
using WsGateway.Handlers;
using WsGateway.Tests.Infrastructure;
using WsGateway.Tests.Security;
using static WsGateway.Tests.Infrastructure.ClientFrames;

namespace WsGateway.Tests.Lifecycle;

/// <summary>Issue 11, findings 6 and 7, and issue 17, finding 5, over real loopback sockets: unfinished handshakes are
/// bounded, and a frame that drips in a byte at a time does not keep its connection alive, whatever came before.</summary>
public sealed class SlowClientTests
{
    [Fact]
    public async Task Unfinished_handshakes_from_one_address_are_bounded_and_the_next_is_answered_503()
    {
        var options = new TradeGatewayOptions { MaxConnections = 10, MaxConnectionsPerAddress = 5, MaxPendingHandshakesPerAddress = 8 };
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new EchoHandler(), options).Start();
        int port = server.LocalEndPoint!.Port;
        var idle = new List<Socket>();
        try
        {
            for (int i = 0; i < 30; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(server.LocalEndPoint!);
                idle.Add(socket); // connected, sends nothing
            }

            using var late = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await late.ConnectAsync(server.LocalEndPoint!);
            await late.SendAsync(Encoding.ASCII.GetBytes($"GET /trades HTTP/1.1\r\nHost: {server.LocalEndPoint}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"), SocketFlags.None);
            byte[] buffer = new byte[1024];
            int n = await late.ReceiveAsync(buffer, SocketFlags.None).WaitAsync(TimeSpan.FromSeconds(5));
            Assert.StartsWith("HTTP/1.1 503 ", Encoding.ASCII.GetString(buffer, 0, n), StringComparison.Ordinal);

            // The refused ones were closed by the server: at most the 8 allowed remain.
            var clock = Stopwatch.StartNew();
            while (TcpTable.EstablishedOnLocalPort(port) > 8 && clock.Elapsed < TimeSpan.FromSeconds(5))
            {
                await Task.Delay(20);
            }

            Assert.InRange(TcpTable.EstablishedOnLocalPort(port), 0, 8);
        }
        finally
        {
            idle.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task A_frame_dripping_in_a_byte_at_a_time_is_closed_with_1008_at_the_default_minimum_rate()
    {
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new EchoHandler()).Start();
        using RawWebSocketClient client = await RawWebSocketClient.ConnectAsync(server.LocalEndPoint!);
        byte[] frame = BinaryFrame(new byte[1000]);
        using var stop = new CancellationTokenSource();
        Task drip = Task.Run(async () =>
        {
            for (int i = 0; i < frame.Length - 1 && !stop.IsCancellationRequested; i++)
            {
                await client.SendAsync(frame.AsMemory(i, 1));
                await Task.Delay(500, stop.Token);
            }
        });

        try
        {
            ServerFrame? close = await client.ReadFrameAsync().WaitAsync(TimeSpan.FromSeconds(12));
            Assert.NotNull(close);
            Assert.Equal((ushort)1008, close.CloseCode);
            Assert.Null(await client.ReadFrameAsync().WaitAsync(TimeSpan.FromSeconds(3))); // and TCP closed
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAny(drip);
        }
    }

    [Fact]
    public async Task A_byte_every_20_s_after_a_fast_first_megabyte_is_closed_with_1008_within_a_minute()
    {
        // The default MinReceiveRate on the server's fake clock: the 20 s between bytes pass in milliseconds.
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        using var metrics = new GatewayMetrics();
        using var bytes = new MetricCollector<long>(metrics.Meter, "wsgateway.bytes.received");
        var handler = new RecordingHandler();
        var options = new TradeGatewayOptions { KeepAliveInterval = TimeSpan.Zero };
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => handler, options, timeProvider: time, metrics: metrics).Start();
        using RawWebSocketClient client = await RawWebSocketClient.ConnectAsync(server.LocalEndPoint!);

        byte[] frame = BinaryFrame(new byte[1024 * 1024]); // 14 header bytes, then 1 MiB of payload
        int fast = frame.Length - 10;
        await client.SendAsync(frame.AsMemory(0, fast));
        await SecurityTestKit.WaitUntil(() => bytes.GetMeasurementSnapshot().Sum(m => m.Value) >= fast);

        Task<ServerFrame?> closed = client.ReadFrameAsync();
        TimeSpan trickled = TimeSpan.Zero;
        for (int i = fast; i < frame.Length - 1 && !closed.IsCompleted; i++)
        {
            time.Advance(TimeSpan.FromSeconds(20));
            trickled += TimeSpan.FromSeconds(20);
            if (await Task.WhenAny(closed, Task.Delay(1500)) == closed)
            {
                break; // the event loops check their connections once a second of real time
            }

            await client.SendAsync(frame.AsMemory(i, 1));
            await Task.Delay(100); // read before the clock moves on
        }

        Assert.True(closed.IsCompleted, "still open after 1 MiB - 10 bytes, then a byte every 20 s for " + trickled);
        ServerFrame? close = await closed;
        Assert.Equal((ushort)1008, close?.CloseCode);
        Assert.Matches(@"^Receive rate too low: \d+ bytes in the last [\d.]+ s of waiting, expected at least 240 bytes/s after 5 s, window 30 s$", close?.CloseReason);
        Assert.InRange(trickled, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(60));
        Assert.Null(await client.ReadFrameAsync().WaitAsync(TimeSpan.FromSeconds(5))); // and TCP closed
        WebSocketCloseInfo info = await handler.Disconnected.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1008, info.Code);
        Assert.Equal(close?.CloseReason, Assert.Single(handler.Errors).Message); // the client and OnError read the same
    }
}
