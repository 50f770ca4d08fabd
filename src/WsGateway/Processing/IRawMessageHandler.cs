namespace WsGateway;

/// <summary>
/// A handler that takes whole WebSocket messages as they arrive, without SBE decoding: binary and text.
/// </summary>
/// <remarks>
/// When the handler given to the gateway implements this interface, every complete data message goes to
/// <see cref="OnMessage"/> instead of the SBE processor, and text messages are accepted (after UTF-8 validation,
/// close 1007 otherwise) instead of being refused with close 1003. <see cref="Handlers.EchoHandler"/> uses it for
/// protocol conformance runs. The span lifetime and threading contract are those of
/// <see cref="ITradeMessageHandler"/>.
/// </remarks>
public interface IRawMessageHandler : ITradeMessageHandler
{
    /// <summary>Called for each complete data message.</summary>
    /// <param name="payload">The unmasked message payload, valid only during the call.</param>
    /// <param name="isText"><see langword="true"/> for a text message (valid UTF-8), <see langword="false"/> for binary.</param>
    void OnMessage(ReadOnlySpan<byte> payload, bool isText);
}
