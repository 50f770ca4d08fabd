using System.Collections.Concurrent;
using WsGateway.Client;
using WsGateway.Trading;

namespace WsGateway.Dispatch.Tests;

/// <summary>
/// schemas/trading.xml through the generated <see cref="TradingGatewayHandler"/> on a real <see cref="WebSocketServer"/>:
/// typed callbacks in order with every value, several messages per WebSocket message, unknown templates and other
/// schemas reported to OnError as Decode while the connection goes on, text refused with 1003.
/// </summary>
public sealed class TradingDispatchEndToEndTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Order_position_and_trade_reach_the_typed_callbacks_in_order_with_every_value()
    {
        var handler = new RecordingHandler();
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new TradingGatewayHandler(handler)).Start();
        await using TradeClient client = await TradeClient.ConnectAsync(server.Url);

        await client.SendRawAsync(Messages.Order(7, 'A', Side.Buy, OrderType.Limit, 101.25, 300, 1_700_000_000_123_456_789));
        await client.SendRawAsync(Messages.Position(42, 'B', -150, 99.5, -12.75, [('X', -100, 99.0), ('Y', -50, 100.5)]));
        await client.SendRawAsync(Messages.Trade(9_000_000_001, 'C', 12.5, 17));
        await client.SendRawAsync(Messages.Order(8, 'D', Side.Sell, OrderType.Market, double.NaN, 5, 1));
        await client.SendRawAsync(Messages.Position(43, 'E', 0, 0, 0, []));
        await client.CloseAsync(1000, "done");

        WebSocketCloseInfo close = await handler.Disconnected.Task.WaitAsync(s_timeout);
        Assert.Equal((ushort)1000, close.Code);
        Assert.Equal(
            [
                "order 7 A Buy Limit 101.25 300 1700000000123456789 v0 bl31",
                "position 42 B -150 99.5 -12.75 fills[X:-100@99 Y:-50@100.5]",
                "trade 9000000001 C 12.5 17",
                "order 8 D Sell Market NaN 5 1 v0 bl31",
                "position 43 E 0 0 0 fills[]",
            ],
            handler.Events);
        Assert.Empty(handler.Errors);
        Assert.True(handler.Connected);
    }

    [Fact]
    public async Task One_WebSocket_message_with_several_SBE_messages_dispatches_each_in_order()
    {
        var handler = new RecordingHandler();
        TradingGatewayHandler? adapter = null;
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => adapter = new TradingGatewayHandler(handler)).Start();
        await using TradeClient client = await TradeClient.ConnectAsync(server.Url);

        byte[] frame =
        [
            .. Messages.Trade(1, 'A', 1.5, 10),
            .. Messages.Position(2, 'B', 20, 2.5, 0.25, [('V', 20, 2.5)]),
            .. Messages.Order(3, 'C', Side.Sell, OrderType.Limit, 3.5, 30, 33),
            .. Messages.Trade(4, 'D', 4.5, 40),
        ];
        await client.SendRawAsync(frame);
        await client.CloseAsync();

        await handler.Disconnected.Task.WaitAsync(s_timeout);
        Assert.Equal(
            [
                "trade 1 A 1.5 10",
                "position 2 B 20 2.5 0.25 fills[V:20@2.5]",
                "order 3 C Sell Limit 3.5 30 33 v0 bl31",
                "trade 4 D 4.5 40",
            ],
            handler.Events);
        Assert.Empty(handler.Errors);
        Assert.Equal(4, adapter!.MessagesDispatched);
    }

    [Fact]
    public async Task Unknown_template_and_other_schema_are_Decode_errors_naming_the_ids_and_the_connection_goes_on()
    {
        var handler = new RecordingHandler();
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new TradingGatewayHandler(handler)).Start();
        await using TradeClient client = await TradeClient.ConnectAsync(server.Url);

        byte[] unknown = Messages.Trade(1, 'A', 1, 1);
        unknown[2] = 99; // template id 99
        byte[] otherSchema = Messages.Trade(2, 'B', 2, 2);
        otherSchema[4] = 1; // schema id 1 (schemas/trade.xml), not 2
        byte[] truncated = Messages.Order(3, 'C', Side.Buy, OrderType.Limit, 3, 3, 3)[..20];

        await client.SendRawAsync(unknown);
        await client.SendRawAsync(Messages.Trade(10, 'X', 10, 10));
        await client.SendRawAsync(otherSchema);
        byte[] tradeThenTruncated = [.. Messages.Trade(11, 'Y', 11, 11), .. truncated];
        await client.SendRawAsync(tradeThenTruncated);
        await client.SendRawAsync(Messages.Trade(12, 'Z', 12, 12));
        await client.CloseAsync();

        await handler.Disconnected.Task.WaitAsync(s_timeout);
        Assert.Equal(["unknown 99 29", "trade 10 X 10 10", "trade 11 Y 11 11", "trade 12 Z 12 12"], handler.Events);
        Assert.Collection(
            handler.Errors,
            e =>
            {
                Assert.Equal(WsErrorKind.Decode, e.Kind);
                Assert.Contains("unknown template id 99 in schema 2 (known: 1, 2, 3)", e.Message, StringComparison.Ordinal);
                Assert.Equal(1, e.MessageNumber);
                Assert.Null(e.CloseCode);
            },
            e =>
            {
                Assert.Equal(WsErrorKind.Decode, e.Kind);
                Assert.Contains("schema id 1, expected 2 (template id 1)", e.Message, StringComparison.Ordinal);
                Assert.Equal(3, e.MessageNumber);
            },
            e =>
            {
                Assert.Equal(WsErrorKind.Decode, e.Kind);
                Assert.Contains("SBE message 2 at byte 29 of 49: message too short: 20 bytes, needs at least 39 (template id 2)", e.Message, StringComparison.Ordinal);
                Assert.Equal(4, e.MessageNumber);
            });
    }

    [Fact]
    public async Task A_text_message_closes_with_1003_and_is_reported()
    {
        var handler = new RecordingHandler();
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new TradingGatewayHandler(handler)).Start();
        await using TradeClient client = await TradeClient.ConnectAsync(server.Url);

        await client.SendTextAsync("hello");
        ClientMessage received = await client.ReceiveAsync().AsTask().WaitAsync(s_timeout); // answers the server's close
        WebSocketCloseInfo close = await handler.Disconnected.Task.WaitAsync(s_timeout);

        Assert.True(received.IsClose);
        Assert.Equal((ushort)1003, received.CloseStatus);
        Assert.Equal((ushort)1003, close.Code);
        WsError error = Assert.Single(handler.Errors);
        Assert.Equal(WsErrorKind.UnsupportedData, error.Kind);
        Assert.Equal((ushort)1003, error.CloseCode);
        Assert.Empty(handler.Events);
    }

    [Fact]
    public async Task The_docs_example_serves_and_dispatches()
    {
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new TradingGatewayHandler(new DeskHandler())).Start();
        await using TradeClient client = await TradeClient.ConnectAsync(server.Url);
        await client.SendRawAsync(Messages.Order(1, 'A', Side.Buy, OrderType.Market, double.NaN, 1, 1));
        await client.CloseAsync();

        byte[] frame = [.. Messages.Trade(1, 'A', 1, 1), .. Messages.Position(1, 'B', 1, 1, 1, [('V', 1, 1)])];
        Assert.Equal(2, DeskHandler.DispatchAll(frame, new DeskHandler()));
    }

    /// <summary>Copies every callback's values into a line; one instance per connection, so no locking.</summary>
    private sealed class RecordingHandler : ITradingMessageHandler, ITradingConnectionEvents
    {
        public ConcurrentQueue<string> EventQueue { get; } = new();

        public ConcurrentQueue<WsError> ErrorQueue { get; } = new();

        public string[] Events => [.. EventQueue];

        public WsError[] Errors => [.. ErrorQueue];

        public bool Connected { get; private set; }

        public TaskCompletionSource<WebSocketCloseInfo> Disconnected { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void OnTrade(TradeDecoder trade)
            => EventQueue.Enqueue(FormattableString.Invariant($"trade {trade.TradeId} {(char)trade.Symbol} {trade.Price} {trade.Quantity}"));

        public void OnOrder(OrderDecoder order)
            => EventQueue.Enqueue(FormattableString.Invariant(
                $"order {order.OrderId} {(char)order.Symbol} {order.Side} {order.OrderType} {order.Price} {order.Quantity} {order.Timestamp} v{order.ActingVersion} bl{order.ActingBlockLength}"));

        public void OnPosition(PositionDecoder position)
        {
            var fills = new List<string>();
            var group = position.Fills;
            while (group.HasNext)
            {
                group.Next();
                fills.Add(FormattableString.Invariant($"{(char)group.Venue}:{group.Quantity}@{group.Price}"));
            }

            EventQueue.Enqueue(FormattableString.Invariant(
                $"position {position.Account} {(char)position.Symbol} {position.NetQuantity} {position.AveragePrice} {position.RealizedPnl} fills[{string.Join(' ', fills)}]"));
        }

        public void OnUnknownMessage(int templateId, ReadOnlySpan<byte> message)
            => EventQueue.Enqueue(FormattableString.Invariant($"unknown {templateId} {message.Length}"));

        public void OnConnect(IGatewayConnection connection) => Connected = true;

        public void OnDisconnect(WebSocketCloseInfo close) => Disconnected.TrySetResult(close);

        public void OnError(WsError error) => ErrorQueue.Enqueue(error);
    }
}
