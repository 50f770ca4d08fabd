namespace WsGateway;

/// <summary>
/// Receives the SBE <c>Trade</c> messages of one WebSocket connection, and the connection's lifecycle events.
/// </summary>
/// <remarks>
/// <para><b>Span lifetime.</b> The <see cref="ReadOnlySpan{T}"/> passed to <see cref="OnTrade"/> and
/// <see cref="OnTrades"/> points into the connection's receive buffer. It is valid only until the callback
/// returns: the gateway reuses that memory for the next bytes read from the socket. A handler that keeps data
/// copies it, for example by decoding it into the 29-byte <c>WsGateway.Sbe.Trade</c> value.</para>
/// <para><b>Threading.</b> One handler instance serves one connection when the gateway is given a handler
/// factory: its callbacks are then called one at a time, in arrival order, from that connection's receive loop,
/// never concurrently, so the instance needs no locking. A single instance passed for every connection is called
/// concurrently from many connections' loops and must be thread-safe itself. While a callback runs the
/// connection reads nothing more from its socket, so a slow handler slows its own client (TCP flow control) and
/// nobody else.</para>
/// <para><b>Order and delivery.</b> <see cref="OnConnect"/> comes first and <see cref="OnDisconnect"/> last,
/// exactly once each. Every message the gateway accepted reaches the handler exactly once, in the order the
/// client sent it.</para>
/// <para><b>Errors.</b> An exception thrown from a callback is caught, reported to <see cref="OnError"/> as
/// <see cref="WsErrorKind.Handler"/>, and affects only this connection (see
/// <see cref="TradeGatewayOptions.HandlerErrorPolicy"/>).</para>
/// </remarks>
public interface ITradeMessageHandler
{
    /// <summary>Called once after the WebSocket handshake completed, before any message.</summary>
    /// <param name="connection">The connection: its id, remote endpoint, and a way to send binary replies.</param>
    void OnConnect(IGatewayConnection connection)
    {
    }

    /// <summary>Called for a binary message holding exactly one SBE <c>Trade</c> (29 bytes, or more when a newer
    /// schema version appended fields: the header's block length tells).</summary>
    /// <param name="data">The whole SBE message, header included; valid only during the call.</param>
    void OnTrade(ReadOnlySpan<byte> data);

    /// <summary>Called for a binary message holding several SBE <c>Trade</c> messages back to back, each
    /// <paramref name="messageSize"/> bytes long. The default implementation calls <see cref="OnTrade"/> for each.</summary>
    /// <param name="data">All the messages, header included, valid only during the call.</param>
    /// <param name="messageSize">The size of one message (header plus block length).</param>
    void OnTrades(ReadOnlySpan<byte> data, int messageSize)
    {
        for (int offset = 0; offset + messageSize <= data.Length; offset += messageSize)
        {
            OnTrade(data.Slice(offset, messageSize));
        }
    }

    /// <summary>Called once when the connection has ended, however it ended.</summary>
    /// <param name="close">How it ended: the close code and reason, and who closed it.</param>
    void OnDisconnect(WebSocketCloseInfo close)
    {
    }

    /// <summary>Called when something went wrong on this connection: a message that is not a valid trade, a
    /// protocol violation, an exception thrown by this handler, a timeout.</summary>
    /// <param name="error">What went wrong and where.</param>
    void OnError(WsError error)
    {
    }
}
