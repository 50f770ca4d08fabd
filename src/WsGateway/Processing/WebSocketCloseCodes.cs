using WsGateway.Framing;

namespace WsGateway;

/// <summary>
/// The WebSocket close codes the gateway sends or a handler may pass to <see cref="IGatewayConnection.Close"/>
/// (RFC 6455 §7.4.1 and the IANA registry). 1005, 1006 and 1015 are never sent on the wire; 1006 is what
/// <see cref="WebSocketCloseInfo.Code"/> says when a connection ended without a closing handshake.
/// </summary>
public static class WebSocketCloseCodes
{
    // The numbers are written once, in the internal CloseStatus (Framing): it is also compiled into WsGateway.Client,
    // which does not reference this assembly, so it is the source and this public list names a subset of it.

    /// <summary>1000: normal closure.</summary>
    public const ushort Normal = CloseStatus.Normal;

    /// <summary>1001: going away (the gateway is shutting down).</summary>
    public const ushort GoingAway = CloseStatus.GoingAway;

    /// <summary>1002: protocol error.</summary>
    public const ushort ProtocolError = CloseStatus.ProtocolError;

    /// <summary>1003: unsupported data (a text message to the trade gateway).</summary>
    public const ushort UnsupportedData = CloseStatus.UnsupportedData;

    /// <summary>1006: abnormal closure, reported only: the connection ended without a close frame.</summary>
    public const ushort Abnormal = CloseStatus.Abnormal;

    /// <summary>1007: invalid payload data (invalid UTF-8).</summary>
    public const ushort InvalidPayload = CloseStatus.InvalidPayload;

    /// <summary>1008: policy violation.</summary>
    public const ushort PolicyViolation = CloseStatus.PolicyViolation;

    /// <summary>1009: message too big.</summary>
    public const ushort MessageTooBig = CloseStatus.MessageTooBig;

    /// <summary>1011: internal error (a handler failed under <see cref="HandlerErrorPolicy.Close"/>).</summary>
    public const ushort InternalError = CloseStatus.InternalError;

    /// <summary>1013: try again later (for example a full queue behind the handler).</summary>
    public const ushort TryAgainLater = CloseStatus.TryAgainLater;
}
