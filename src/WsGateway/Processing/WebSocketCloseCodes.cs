namespace WsGateway;

/// <summary>
/// The WebSocket close codes the gateway sends or a handler may pass to <see cref="IGatewayConnection.Close"/>
/// (RFC 6455 §7.4.1 and the IANA registry). 1005, 1006 and 1015 are never sent on the wire; 1006 is what
/// <see cref="WebSocketCloseInfo.Code"/> says when a connection ended without a closing handshake.
/// </summary>
public static class WebSocketCloseCodes
{
    /// <summary>1000: normal closure.</summary>
    public const ushort Normal = 1000;

    /// <summary>1001: going away (the gateway is shutting down).</summary>
    public const ushort GoingAway = 1001;

    /// <summary>1002: protocol error.</summary>
    public const ushort ProtocolError = 1002;

    /// <summary>1003: unsupported data (a text message to the trade gateway).</summary>
    public const ushort UnsupportedData = 1003;

    /// <summary>1006: abnormal closure, reported only: the connection ended without a close frame.</summary>
    public const ushort Abnormal = 1006;

    /// <summary>1007: invalid payload data (invalid UTF-8).</summary>
    public const ushort InvalidPayload = 1007;

    /// <summary>1008: policy violation.</summary>
    public const ushort PolicyViolation = 1008;

    /// <summary>1009: message too big.</summary>
    public const ushort MessageTooBig = 1009;

    /// <summary>1011: internal error (a handler failed under <see cref="HandlerErrorPolicy.Close"/>).</summary>
    public const ushort InternalError = 1011;

    /// <summary>1013: try again later (for example a full queue behind the handler).</summary>
    public const ushort TryAgainLater = 1013;
}
