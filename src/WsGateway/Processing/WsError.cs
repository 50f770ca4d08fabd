namespace WsGateway;

/// <summary>What kind of thing went wrong on a connection.</summary>
public enum WsErrorKind
{
    /// <summary>A binary message that is not a valid SBE trade message (or batch of them). The connection goes on.</summary>
    Decode,

    /// <summary>The client broke RFC 6455 (bad frame, bad close code, ...). The connection was closed with 1002.</summary>
    Protocol,

    /// <summary>A text message (or other data the gateway does not accept). The connection was closed with 1003.</summary>
    UnsupportedData,

    /// <summary>Invalid UTF-8 in a text message or a close reason. The connection was closed with 1007.</summary>
    InvalidPayload,

    /// <summary>The client broke a policy of the gateway's, such as <see cref="TradeGatewayOptions.MessageRateLimit"/>
    /// under <see cref="RateLimitPolicy.Close"/>. The connection was closed with 1008.</summary>
    PolicyViolation,

    /// <summary>A message above <see cref="TradeGatewayOptions.MaxMessageSize"/>. The connection was closed with 1009.</summary>
    MessageTooBig,

    /// <summary>The handler threw. See <see cref="WsError.Exception"/>.</summary>
    Handler,

    /// <summary>A keep-alive, close handshake or idle timeout expired.</summary>
    Timeout,

    /// <summary>The transport failed or the client vanished (for example in the middle of a frame).</summary>
    Transport,
}

/// <summary>
/// Something that went wrong on one connection: what, where, and what the gateway did about it.
/// </summary>
/// <param name="Kind">The class of problem.</param>
/// <param name="Message">A sentence naming what was wrong and what was expected.</param>
/// <param name="ConnectionId">The connection it happened on.</param>
/// <param name="MessageNumber">The 1-based number of the data message on this connection the error is about, or 0
/// when it is not about a message.</param>
/// <param name="CloseCode">The close code the gateway sent because of it, or <see langword="null"/> when the
/// connection goes on.</param>
/// <param name="Exception">The exception, for <see cref="WsErrorKind.Handler"/> and <see cref="WsErrorKind.Transport"/>.</param>
public sealed record WsError(
    WsErrorKind Kind,
    string Message,
    long ConnectionId,
    long MessageNumber = 0,
    ushort? CloseCode = null,
    Exception? Exception = null)
{
    /// <inheritdoc />
    public override string ToString()
    {
        string where = MessageNumber > 0 ? $" (connection {ConnectionId}, message {MessageNumber})" : $" (connection {ConnectionId})";
        string closed = CloseCode is { } code ? $"; closed with {code}" : string.Empty;
        return $"{Kind}: {Message}{where}{closed}";
    }
}
