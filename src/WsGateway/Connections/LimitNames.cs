namespace WsGateway.Connections;

/// <summary>Values of the <c>wsgateway.limit</c> tag of <c>wsgateway.limits.exceeded</c> for the connection
/// lifecycle's limits (the others are in <see cref="Diagnostics.GatewayMetrics"/>).</summary>
internal static class LimitNames
{
    /// <summary><see cref="TradeGatewayOptions.MaxSendQueueSize"/>: the client does not read what it is sent.</summary>
    public const string SendQueue = "send_queue";

    /// <summary><see cref="TradeGatewayOptions.WriteTimeout"/>: a flush waited on the client too long.</summary>
    public const string WriteTimeout = "write_timeout";

    /// <summary><see cref="TradeGatewayOptions.MinReceiveRate"/>: a frame or message arrives too slowly.</summary>
    public const string ReceiveRate = "receive_rate";

    /// <summary><see cref="TradeGatewayOptions.MaxPendingHandshakes"/> or its per-address limit.</summary>
    public const string PendingHandshakes = "pending_handshakes";
}
