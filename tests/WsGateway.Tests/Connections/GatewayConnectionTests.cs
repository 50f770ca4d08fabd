using System.Buffers.Binary;
using WsGateway.Tests.Infrastructure;
using static WsGateway.Tests.Infrastructure.ClientFrames;

namespace WsGateway.Tests.Connections;

/// <summary>The gateway's own behaviour on top of RFC 6455: SBE trades in, text refused, bad trades reported,
/// limits, handler failures, lifecycle callbacks.</summary>
public sealed class GatewayConnectionTests
{
    [Fact]
    public async Task Binary_trades_reach_the_handler_in_order_and_the_close_is_clean()
    {
        var handler = new RecordingHandler();
        await using var connection = InMemoryConnection.Open(handler);

        await connection.SendAsync(Concat(BinaryFrame(Trade(1)), BinaryFrame(Trade(2)), BinaryFrame(Trades(3, 5)), CloseFrame(1000, "bye")));
        List<ServerFrame> frames = await connection.ReadAllFramesAsync();

        Assert.Equal((ushort)1000, Assert.Single(frames).CloseCode);
        Assert.Equal([1UL, 2, 3, 4, 5, 6, 7], handler.Trades.Select(t => BinaryPrimitives.ReadUInt64LittleEndian(t.AsSpan(8))));
        Assert.Single(handler.Batches);
        WebSocketCloseInfo close = await handler.Disconnected;
        Assert.Equal(new WebSocketCloseInfo(1000, "bye", InitiatedByClient: true, Clean: true), close);
        Assert.Equal(1, handler.Connects);
        Assert.Equal(1, handler.Disconnects);
        Assert.Empty(handler.Errors);
    }

    [Fact]
    public async Task A_trade_split_across_many_writes_is_reassembled()
    {
        var handler = new RecordingHandler();
        await using var connection = InMemoryConnection.Open(handler);
        byte[] bytes = Concat(BinaryFrame(Trade(77)), BinaryFrame(Trade(78)), CloseFrame(1000));

        await connection.SendAsync(bytes, chunk: 1);
        await connection.ReadAllFramesAsync();

        Assert.Equal([Trade(77), Trade(78)], handler.Trades);
    }

    [Fact]
    public async Task A_text_message_is_refused_with_1003_and_reported()
    {
        var handler = new RecordingHandler();
        await using var connection = InMemoryConnection.Open(handler);

        await connection.SendAsync(Concat(BinaryFrame(Trade(1)), TextFrame("{\"trade\":1}"), BinaryFrame(Trade(2))));
        ServerFrame? close = await connection.ReadFrameAsync();
        Assert.Equal((ushort)1003, close?.CloseCode);

        // The client answers the close; the server then ends the connection.
        await connection.SendAsync(CloseFrame(1003));
        Assert.Empty(await connection.ReadAllFramesAsync());

        Assert.Equal(Trade(1), Assert.Single(handler.Trades)); // nothing after the refused text is delivered
        WsError error = Assert.Single(handler.Errors);
        Assert.Equal(WsErrorKind.UnsupportedData, error.Kind);
        Assert.Equal((ushort)1003, error.CloseCode);
        WebSocketCloseInfo info = await handler.Disconnected;
        Assert.Equal(1003, info.Code);
        Assert.False(info.InitiatedByClient);
        Assert.True(info.Clean);
    }

    [Fact]
    public async Task A_bad_trade_is_an_OnError_and_the_connection_goes_on()
    {
        var handler = new RecordingHandler();
        await using var connection = InMemoryConnection.Open(handler);

        await connection.SendAsync(Concat(BinaryFrame(Trade(1)[..20]), BinaryFrame(Trade(2)), CloseFrame(1000)));
        List<ServerFrame> frames = await connection.ReadAllFramesAsync();

        Assert.Equal((ushort)1000, Assert.Single(frames).CloseCode);
        Assert.Equal(Trade(2), Assert.Single(handler.Trades));
        WsError error = Assert.Single(handler.Errors);
        Assert.Equal("Insufficient data: expected 29 bytes, got 20", error.Message);
        Assert.Equal(1, error.MessageNumber);
    }

    [Fact]
    public async Task An_oversized_message_is_refused_with_1009_before_its_payload_arrives()
    {
        var handler = new RecordingHandler();
        await using var connection = InMemoryConnection.Open(handler, new TradeGatewayOptions { MaxMessageSize = 4096 });

        // Only the header of a 2 MiB frame: the server must not wait for the payload.
        await connection.SendAsync(Header(Binary, 2 * 1024 * 1024));
        ServerFrame? close = await connection.ReadFrameAsync();

        Assert.Equal((ushort)1009, close?.CloseCode);
        Assert.Equal(WsErrorKind.MessageTooBig, Assert.Single(handler.Errors).Kind);

        // Lingering close: what the client still sends is read and discarded (no TCP reset that could destroy the
        // close frame) until the client closes its side; then the server closes.
        await connection.SendAsync(new byte[64 * 1024]);
        Assert.False(connection.Running.IsCompleted);
        await connection.CompleteClientAsync();
        Assert.Null(await connection.ReadFrameAsync());
        await connection.WaitClosedAsync();
    }

    [Fact]
    public async Task A_handler_exception_is_reported_and_later_messages_still_arrive()
    {
        var handler = new RecordingHandler { ThrowOnTrade = t => t[8] == 2 ? new InvalidOperationException("handler bug") : null };
        await using var connection = InMemoryConnection.Open(handler);

        await connection.SendAsync(Concat(BinaryFrame(Trade(1)), BinaryFrame(Trade(2)), BinaryFrame(Trade(3)), CloseFrame(1000)));
        List<ServerFrame> frames = await connection.ReadAllFramesAsync();

        Assert.Equal((ushort)1000, Assert.Single(frames).CloseCode);
        Assert.Equal([Trade(1), Trade(3)], handler.Trades);
        Assert.Equal(WsErrorKind.Handler, Assert.Single(handler.Errors).Kind);
    }

    [Fact]
    public async Task Under_the_close_policy_a_handler_exception_closes_with_1011()
    {
        var handler = new RecordingHandler { ThrowOnTrade = t => t[8] == 2 ? new InvalidOperationException("handler bug") : null };
        await using var connection = InMemoryConnection.Open(handler, new TradeGatewayOptions { HandlerErrorPolicy = HandlerErrorPolicy.Close });

        await connection.SendAsync(Concat(BinaryFrame(Trade(1)), BinaryFrame(Trade(2)), BinaryFrame(Trade(3))));
        ServerFrame? close = await connection.ReadFrameAsync();
        Assert.Equal((ushort)1011, close?.CloseCode);
        await connection.SendAsync(CloseFrame(1011));
        await connection.WaitClosedAsync();

        Assert.Equal([Trade(1)], handler.Trades);
        Assert.Equal(1011, (await handler.Disconnected).Code);
    }

    [Fact]
    public async Task Replies_sent_from_a_callback_reach_the_client()
    {
        var handler = new AckHandler();
        await using var connection = InMemoryConnection.Open(handler);

        await connection.SendAsync(Concat(BinaryFrame(Trade(5)), BinaryFrame(Trade(6)), CloseFrame(1000)));
        List<ServerFrame> frames = await connection.ReadAllFramesAsync();

        Assert.Equal(3, frames.Count);
        Assert.Equal([5, 0, 0, 0, 0, 0, 0, 0], frames[0].Payload);
        Assert.Equal(ClientFrames.Binary, frames[0].Opcode);
        Assert.Equal([6, 0, 0, 0, 0, 0, 0, 0], frames[1].Payload);
        Assert.Equal((ushort)1000, frames[2].CloseCode);
    }

    [Fact]
    public async Task A_client_vanishing_mid_frame_is_reported_once_as_abnormal()
    {
        var handler = new RecordingHandler();
        await using var connection = InMemoryConnection.Open(handler);

        byte[] frame = BinaryFrame(Trade(9));
        await connection.SendAsync(Concat(BinaryFrame(Trade(8)), frame[..10]));
        await connection.CompleteClientAsync();
        await connection.WaitClosedAsync();

        Assert.Equal(Trade(8), Assert.Single(handler.Trades));
        WsError error = Assert.Single(handler.Errors);
        Assert.Equal(WsErrorKind.Transport, error.Kind);
        Assert.StartsWith("Client disconnected in the middle of a frame", error.Message, StringComparison.Ordinal);
        WebSocketCloseInfo info = await handler.Disconnected;
        Assert.Equal(1006, info.Code);
        Assert.False(info.Clean);
        Assert.Equal(1, handler.Disconnects);
    }

    [Fact]
    public async Task The_server_initiated_close_waits_for_the_client_and_still_delivers()
    {
        var handler = new RecordingHandler();
        await using var connection = InMemoryConnection.Open(handler);
        await connection.SendAsync(BinaryFrame(Trade(1)));
        while (handler.Connection is null || handler.Trades.IsEmpty)
        {
            await Task.Delay(5);
        }

        handler.Connection.Close(1001, "maintenance");
        ServerFrame? close = await connection.ReadFrameAsync();
        Assert.Equal((ushort)1001, close?.CloseCode);
        Assert.Equal("maintenance", close?.CloseReason);

        // Messages sent before the client saw the close are still accepted and delivered.
        await connection.SendAsync(Concat(BinaryFrame(Trade(2)), CloseFrame(1001)));
        await connection.WaitClosedAsync();

        Assert.Equal([Trade(1), Trade(2)], handler.Trades);
        Assert.Equal(new WebSocketCloseInfo(1001, "maintenance", InitiatedByClient: false, Clean: true), await handler.Disconnected);
    }

    private sealed class AckHandler : ITradeMessageHandler
    {
        private IGatewayConnection? _connection;

        public void OnConnect(IGatewayConnection connection) => _connection = connection;

        public void OnTrade(ReadOnlySpan<byte> data) => _connection!.Send(data.Slice(8, 8));
    }
}
