using System.IO.Pipelines;
using System.Net;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using WsGateway.Diagnostics;
using WsGateway.Tests.Infrastructure;
using static WsGateway.Tests.Infrastructure.ClientFrames;

namespace WsGateway.Tests.Security;

/// <summary>The per-connection message rate limit on a fake clock over in-memory pipes: a token bucket taken per
/// message, refilled from the clock; <see cref="RateLimitPolicy.Throttle"/> stops reading and loses nothing,
/// <see cref="RateLimitPolicy.Close"/> refuses the message and closes with 1008.</summary>
public sealed class RateLimitTests
{
    private static byte[] Frames(int first, int count)
        => Concat(Enumerable.Range(first, count).Select(i => BinaryFrame(Trade((ulong)i))).ToArray());

    private static ulong[] Ids(RecordingHandler handler) => handler.Trades.Select(t => BitConverter.ToUInt64(t, 8)).ToArray();

    [Fact]
    public async Task Throttle_delivers_the_burst_then_one_message_per_refill_in_order_and_drops_nothing()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        using var metrics = new GatewayMetrics();
        using var limits = new MetricCollector<long>(metrics.Meter, "wsgateway.limits.exceeded");
        var handler = new RecordingHandler();
        var options = new TradeGatewayOptions { KeepAliveInterval = TimeSpan.Zero, MessageRateLimit = new MessageRateLimit(10, burst: 5) };
        using var manager = InMemoryConnection.CreateManager(_ => handler, options, time, metrics);
        await using var connection = InMemoryConnection.Open(manager, handler, handshake: false, new IPEndPoint(IPAddress.Loopback, 1));

        await connection.SendAsync(Frames(0, 20));
        await SecurityTestKit.WaitUntil(() => handler.Trades.Count == 5);
        await Task.Delay(50);
        Assert.Equal(5, handler.Trades.Count);

        time.Advance(TimeSpan.FromMilliseconds(100)); // one token
        await SecurityTestKit.WaitUntil(() => handler.Trades.Count == 6);
        await Task.Delay(30);
        Assert.Equal(6, handler.Trades.Count);

        for (int i = 0; i < 40 && handler.Trades.Count < 20; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(500));
            await Task.Delay(20);
        }

        Assert.Equal(Enumerable.Range(0, 20).Select(i => (ulong)i), Ids(handler));
        Assert.Empty(handler.Errors);
        Assert.Contains(limits.GetMeasurementSnapshot(), m => (string?)m.Tags["wsgateway.limit.action"] == "throttled" && (string?)m.Tags["wsgateway.limit"] == "message_rate");
        Assert.False(connection.Running.IsCompleted);
    }

    [Fact]
    public async Task Throttle_is_backpressure_the_client_cannot_write_past_the_pipe_while_throttled()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var handler = new RecordingHandler();
        var options = new TradeGatewayOptions { KeepAliveInterval = TimeSpan.Zero, MessageRateLimit = new MessageRateLimit(1, burst: 1) };
        using var manager = InMemoryConnection.CreateManager(_ => handler, options, time);
        var small = new PipeOptions(pauseWriterThreshold: 4096, resumeWriterThreshold: 2048, useSynchronizationContext: false);
        await using var connection = InMemoryConnection.Open(manager, handler, handshake: false, new IPEndPoint(IPAddress.Loopback, 2), small);

        Task writing = connection.SendAsync(Frames(0, 1000)); // 35 KB: far beyond the pipe's 4 KiB pause threshold
        await SecurityTestKit.WaitUntil(() => handler.Trades.Count == 1);
        await Task.Delay(100);

        Assert.False(writing.IsCompleted); // the "socket" is full: the client is slowed, nothing is buffered past it
        Assert.Single(handler.Trades);
        time.Advance(TimeSpan.FromSeconds(1));
        await SecurityTestKit.WaitUntil(() => handler.Trades.Count == 2);

        // Graceful shutdown lifts the limit for the drain: everything the client wrote is still delivered, in order.
        Task shutdown = manager.ShutdownAsync();
        time.Advance(TimeSpan.FromSeconds(1));
        await writing.WaitAsync(TimeSpan.FromSeconds(10));
        await SecurityTestKit.WaitUntil(() => handler.Trades.Count == 1000);
        await connection.SendAsync(CloseFrame(1001));
        List<ServerFrame> frames = await connection.ReadAllFramesAsync();
        await shutdown.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal((ushort)1001, frames.Single().CloseCode);
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => (ulong)i), Ids(handler));
        Assert.Empty(handler.Errors);
        Assert.Equal(1, handler.Disconnects);
    }

    [Fact]
    public async Task Close_refuses_the_message_over_the_limit_and_closes_with_1008()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        using var metrics = new GatewayMetrics();
        using var limits = new MetricCollector<long>(metrics.Meter, "wsgateway.limits.exceeded");
        var handler = new RecordingHandler();
        var options = new TradeGatewayOptions { KeepAliveInterval = TimeSpan.Zero, MessageRateLimit = new MessageRateLimit(10, burst: 3, RateLimitPolicy.Close) };
        using var manager = InMemoryConnection.CreateManager(_ => handler, options, time, metrics);
        await using var connection = InMemoryConnection.Open(manager, handler, handshake: false, new IPEndPoint(IPAddress.Loopback, 3));

        await connection.SendAsync(Frames(0, 5));
        ServerFrame? close = await connection.ReadFrameAsync();
        await connection.SendAsync(CloseFrame(1008));
        await connection.CompleteClientAsync();
        WebSocketCloseInfo info = await handler.Disconnected.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal((ushort)1008, close?.CloseCode);
        Assert.Equal("Message rate limit exceeded", close?.CloseReason);
        Assert.Equal(1008, info.Code);
        Assert.Equal([0UL, 1, 2], Ids(handler));
        WsError error = Assert.Single(handler.Errors);
        Assert.Equal(WsErrorKind.PolicyViolation, error.Kind);
        Assert.Equal((ushort)1008, error.CloseCode);
        Assert.StartsWith("Message rate limit exceeded: more than 10 messages per second (burst 3)", error.Message, StringComparison.Ordinal);
        CollectedMeasurement<long> m = Assert.Single(limits.GetMeasurementSnapshot());
        Assert.Equal("closed", m.Tags["wsgateway.limit.action"]);
    }

    [Fact]
    public async Task A_client_within_the_rate_is_never_refused()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var handler = new RecordingHandler();
        var options = new TradeGatewayOptions { KeepAliveInterval = TimeSpan.Zero, MessageRateLimit = new MessageRateLimit(10, burst: 3, RateLimitPolicy.Close) };
        await using var connection = InMemoryConnection.Open(handler, options, time);

        for (int round = 0; round < 5; round++)
        {
            await connection.SendAsync(Frames(round * 3, 3));
            await SecurityTestKit.WaitUntil(() => handler.Trades.Count == (round + 1) * 3);
            time.Advance(TimeSpan.FromMilliseconds(300)); // exactly three tokens back
        }

        await connection.SendAsync(CloseFrame(1000));
        Assert.Equal((ushort)1000, (await connection.ReadAllFramesAsync()).Single().CloseCode);
        Assert.Equal(Enumerable.Range(0, 15).Select(i => (ulong)i), Ids(handler));
        Assert.Empty(handler.Errors);
    }

    [Fact]
    public async Task A_batch_frame_takes_one_token_and_control_frames_take_none()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var handler = new RecordingHandler();
        var options = new TradeGatewayOptions { KeepAliveInterval = TimeSpan.Zero, MessageRateLimit = new MessageRateLimit(1, burst: 2, RateLimitPolicy.Close) };
        await using var connection = InMemoryConnection.Open(handler, options, time);

        await connection.SendAsync(Concat(Frame(Ping, [1]), BinaryFrame(Trades(0, 50)), Frame(Ping, [2]), Frame(Pong, []), BinaryFrame(Trade(50))));
        await SecurityTestKit.WaitUntil(() => handler.Trades.Count == 51);
        await connection.SendAsync(CloseFrame(1000));
        List<ServerFrame> frames = await connection.ReadAllFramesAsync();

        Assert.Equal([Pong, Pong, Close], frames.Select(f => f.Opcode));
        Assert.Equal((ushort)1000, frames[^1].CloseCode);
        Assert.Empty(handler.Errors);
    }

    [Theory]
    [InlineData(0.0, 1)]
    [InlineData(10.0, 0)]
    [InlineData(double.NaN, 1)]
    [InlineData(double.PositiveInfinity, 1)]
    public void An_invalid_rate_limit_is_refused_by_validation(double rate, int burst)
        => Assert.Contains("MessageRateLimit", new TradeGatewayOptions { MessageRateLimit = new MessageRateLimit(rate, burst) }.Validate(), StringComparison.Ordinal);
}
