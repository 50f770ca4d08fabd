namespace WsGateway.Sbe.Generator.Tests.Infrastructure;

/// <summary>
/// The part of the WsGateway API the generated gateway adapter uses, with the gateway's signatures, as source: a
/// compilation that contains it "references the gateway" for the generator, without referencing WsGateway.dll
/// (the real thing is compiled against in tests/WsGateway.Dispatch.Tests).
/// </summary>
internal static class GatewayStub
{
    public const string Source = """
        #pragma warning disable CS1591
        namespace WsGateway
        {
            public interface IGatewayConnection
            {
                long Id { get; }
                void Close(ushort code = 1000, string? reason = null);
            }

            public sealed record WebSocketCloseInfo(ushort Code, string? Reason, bool InitiatedByClient, bool Clean);

            public enum WsErrorKind { Decode, Protocol, UnsupportedData }

            public sealed record WsError(WsErrorKind Kind, string Message, long ConnectionId, long MessageNumber = 0, ushort? CloseCode = null, System.Exception? Exception = null);

            public static class WebSocketCloseCodes
            {
                public const ushort UnsupportedData = 1003;
            }

            public interface ITradeMessageHandler
            {
                void OnConnect(IGatewayConnection connection) { }
                void OnTrade(System.ReadOnlySpan<byte> data);
                void OnTrades(System.ReadOnlySpan<byte> data, int messageSize) { }
                void OnDisconnect(WebSocketCloseInfo close) { }
                void OnError(WsError error) { }
            }

            public interface IRawMessageHandler : ITradeMessageHandler
            {
                void OnMessage(System.ReadOnlySpan<byte> payload, bool isText);
            }
        }
        """;
}
