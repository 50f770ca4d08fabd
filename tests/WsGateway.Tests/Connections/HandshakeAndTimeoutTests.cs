using Microsoft.Extensions.Time.Testing;
using WsGateway.Tests.Infrastructure;
using static WsGateway.Tests.Infrastructure.ClientFrames;

namespace WsGateway.Tests.Connections;

/// <summary>The standalone server's handshake over a raw connection, the connection limit, and every timeout
/// driven by the shared heartbeat on a fake clock.</summary>
public sealed class HandshakeAndTimeoutTests
{
    private const string Request =
        "GET /trades HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

    [Fact]
    public async Task A_valid_handshake_is_answered_101_and_frames_in_the_same_write_are_kept()
    {
        var handler = new RecordingHandler();
        await using var connection = InMemoryConnection.Raw(handler);

        await connection.SendAsync(Concat(System.Text.Encoding.ASCII.GetBytes(Request), BinaryFrame(Trade(3))));
        string response = await connection.ReadHttpResponseAsync();

        Assert.StartsWith("HTTP/1.1 101 Switching Protocols\r\n", response, StringComparison.Ordinal);
        Assert.True(response.Contains("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n", StringComparison.Ordinal), response);
        await connection.SendAsync(CloseFrame(1000));
        Assert.Equal((ushort)1000, Assert.Single(await connection.ReadAllFramesAsync()).CloseCode);
        Assert.Equal(Trade(3), Assert.Single(handler.Trades));
        Assert.Equal("/trades", handler.Connection?.Path);
    }

    [Theory]
    [InlineData("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "", "HTTP/1.1 400 ")]
    [InlineData("Sec-WebSocket-Version: 13\r\n", "Sec-WebSocket-Version: 8\r\n", "HTTP/1.1 426 ")]
    public async Task A_bad_handshake_is_refused_with_the_right_status_and_no_handler(string replace, string with, string status)
    {
        var handler = new RecordingHandler();
        await using var connection = InMemoryConnection.Raw(handler);

        await connection.SendAsync(Request.Replace(replace, with, StringComparison.Ordinal));
        string response = await connection.ReadHttpResponseAsync();

        Assert.StartsWith(status, response, StringComparison.Ordinal);
        if (status.Contains("426", StringComparison.Ordinal))
        {
            Assert.Contains("\r\nSec-WebSocket-Version: 13\r\n", response, StringComparison.Ordinal);
        }

        await connection.WaitClosedAsync();
        Assert.Equal(0, handler.Connects);
        Assert.Equal(0, handler.Disconnects);
    }

    [Fact]
    public async Task A_handshake_beyond_the_connection_limit_is_answered_503()
    {
        var first = new RecordingHandler();
        var second = new RecordingHandler();
        var handlers = new Queue<RecordingHandler>([first, second]);
        using var manager = InMemoryConnection.CreateManager(_ => handlers.Dequeue(), new TradeGatewayOptions { MaxConnections = 1 });
        await using var a = InMemoryConnection.Open(manager, first, handshake: true);
        await using var b = InMemoryConnection.Open(manager, second, handshake: true);

        await a.SendAsync(Request);
        Assert.StartsWith("HTTP/1.1 101 ", await a.ReadHttpResponseAsync(), StringComparison.Ordinal);
        await b.SendAsync(Request);
        string refused = await b.ReadHttpResponseAsync();

        Assert.StartsWith("HTTP/1.1 503 ", refused, StringComparison.Ordinal);
        Assert.Contains("Connection limit reached: 1 connections are open", refused, StringComparison.Ordinal);
        Assert.Equal(1, manager.OpenWebSockets);

        // The slot is given back when the first connection ends.
        await a.SendAsync(CloseFrame(1000));
        await a.WaitClosedAsync();
        Assert.Equal(0, manager.OpenWebSockets);
    }

    [Fact]
    public async Task A_slow_handshake_is_answered_408_after_the_handshake_timeout()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var handler = new RecordingHandler();
        await using var connection = InMemoryConnection.Raw(handler, new TradeGatewayOptions { HandshakeTimeout = TimeSpan.FromSeconds(5) }, time);

        await connection.SendAsync("GET /trades HTTP/1.1\r\nHost: x\r\n");
        time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(connection.Running.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(2));

        string response = await connection.ReadHttpResponseAsync();
        Assert.StartsWith("HTTP/1.1 408 ", response, StringComparison.Ordinal);
        await connection.WaitClosedAsync();
    }

    [Fact]
    public async Task A_quiet_client_is_pinged_and_dropped_when_it_does_not_answer()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var handler = new RecordingHandler();
        var options = new TradeGatewayOptions { KeepAliveInterval = TimeSpan.FromSeconds(30), KeepAliveTimeout = TimeSpan.FromSeconds(10) };
        await using var connection = InMemoryConnection.Open(handler, options, time);
        await connection.SendAsync(BinaryFrame(Trade(1)));
        await WaitUntil(() => handler.Trades.Count == 1);

        time.Advance(TimeSpan.FromSeconds(31));
        ServerFrame? ping = await connection.ReadFrameAsync();
        Assert.Equal(ClientFrames.Ping, ping?.Opcode);

        time.Advance(TimeSpan.FromSeconds(11));
        await connection.WaitClosedAsync();

        WsError error = Assert.Single(handler.Errors);
        Assert.Equal(WsErrorKind.Timeout, error.Kind);
        Assert.StartsWith("Keep-alive timeout", error.Message, StringComparison.Ordinal);
        Assert.Equal(1006, (await handler.Disconnected).Code);
    }

    [Fact]
    public async Task A_client_that_answers_the_ping_stays_connected()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var handler = new RecordingHandler();
        var options = new TradeGatewayOptions { KeepAliveInterval = TimeSpan.FromSeconds(30), KeepAliveTimeout = TimeSpan.FromSeconds(10) };
        await using var connection = InMemoryConnection.Open(handler, options, time);
        await WaitUntil(() => handler.Connects == 1);

        time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(ClientFrames.Ping, (await connection.ReadFrameAsync())?.Opcode);
        await connection.SendAsync(Frame(Pong, []));
        await Task.Delay(50);
        time.Advance(TimeSpan.FromSeconds(11));
        await Task.Delay(50);

        Assert.False(connection.Running.IsCompleted);
        Assert.Empty(handler.Errors);
    }

    [Fact]
    public async Task A_client_that_never_answers_our_close_is_dropped_after_the_close_timeout()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var handler = new RecordingHandler();
        await using var connection = InMemoryConnection.Open(handler, new TradeGatewayOptions { CloseTimeout = TimeSpan.FromSeconds(5) }, time);
        await connection.SendAsync(TextFrame("not a trade"));
        Assert.Equal((ushort)1003, (await connection.ReadFrameAsync())?.CloseCode);

        time.Advance(TimeSpan.FromSeconds(6));
        await connection.WaitClosedAsync();

        WebSocketCloseInfo info = await handler.Disconnected;
        Assert.Equal(1003, info.Code);
        Assert.False(info.Clean);
    }

    [Fact]
    public async Task A_failed_connection_stops_draining_after_the_close_timeout()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var handler = new RecordingHandler();
        await using var connection = InMemoryConnection.Open(handler, new TradeGatewayOptions { CloseTimeout = TimeSpan.FromSeconds(5) }, time);
        await connection.SendAsync(Frame(Binary, Trade(1), rsv: 4));
        Assert.Equal((ushort)1002, (await connection.ReadFrameAsync())?.CloseCode);
        Assert.False(connection.Running.IsCompleted);

        time.Advance(TimeSpan.FromSeconds(6));
        await connection.WaitClosedAsync();

        Assert.Equal(new WebSocketCloseInfo(1002, "Reserved bits set: RSV1", InitiatedByClient: false, Clean: false), await handler.Disconnected);
    }

    [Fact]
    public async Task An_idle_connection_is_closed_with_1000_when_an_idle_timeout_is_set()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var handler = new RecordingHandler();
        await using var connection = InMemoryConnection.Open(handler, new TradeGatewayOptions { IdleTimeout = TimeSpan.FromSeconds(60), KeepAliveInterval = TimeSpan.Zero }, time);
        await WaitUntil(() => handler.Connects == 1);

        time.Advance(TimeSpan.FromSeconds(61));
        ServerFrame? close = await connection.ReadFrameAsync();

        Assert.Equal((ushort)1000, close?.CloseCode);
        Assert.Equal("Idle timeout", close?.CloseReason);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (int i = 0; i < 1000 && !condition(); i++)
        {
            await Task.Delay(5);
        }

        Assert.True(condition(), "condition not reached in 5 s");
    }
}
