namespace WsGateway;

/// <summary>
/// Receives the SBE <c>Trade</c> messages of one WebSocket connection, and the connection's lifecycle events.
/// </summary>
/// <remarks>
/// <para><b>Span lifetime.</b> The <see cref="ReadOnlySpan{T}"/> passed to <see cref="OnTrade"/> and
/// <see cref="OnTrades"/> points into the receive buffer: on the native transport the event loop's buffer, which the
/// loop's other connections read into next; on Kestrel the connection's pipe. It is valid only until the callback
/// returns: the gateway reuses that memory for the next bytes read. A handler that keeps data copies it, for example
/// by decoding it into the 29-byte <c>WsGateway.Sbe.Trade</c> value.</para>
/// <para><b>Threading.</b> One handler instance serves one connection when the gateway is given a handler
/// factory: its callbacks are then called one at a time, in arrival order, never concurrently, so the instance
/// needs no locking. A single instance passed for every connection is called concurrently from many connections
/// and must be thread-safe itself. Which thread calls depends on the transport
/// (<see cref="TradeGatewayOptions.Transport"/>):</para>
/// <list type="bullet">
/// <item><description><b>Native</b> (the standalone server's <c>ws://</c> on Linux, the default there): the message
/// callbacks (<see cref="OnTrade"/>, <see cref="OnTrades"/>, <see cref="OnError"/> for a message,
/// <see cref="IReadCompletionHandler.OnReadComplete"/>) run on the event loop thread (<c>wsgw-loop-N</c>) that read
/// the bytes, which serves many connections. While a callback runs, no other connection of that loop is read,
/// nor are its timeouts checked: a slow handler delays every connection of its loop. <see cref="OnConnect"/> and
/// <see cref="OnDisconnect"/> usually run there too, but may run on a thread-pool thread (after a handshake validator
/// that completed asynchronously, at shutdown).</description></item>
/// <item><description><b>Kestrel</b> (<c>wss://</c>, ASP.NET Core hosting, other systems): every callback runs on a
/// thread-pool thread, one at a time per connection. A slow handler delays its own connection and holds a pool
/// thread.</description></item>
/// </list>
/// <para>On both, the connection reads nothing more from its socket while its callback runs, so a slow handler
/// slows its own client (TCP flow control). Keep callbacks short and never block in one (no <c>.Wait()</c>,
/// <c>.Result</c>, <c>Thread.Sleep</c>, or a lock a slow thread holds): decode, hand slow work to another thread
/// through a bounded queue (the queue example in <c>docs/examples.md</c>), and use
/// <see cref="IGatewayConnection.PauseReceiving"/> for backpressure from behind the handler. The
/// <c>wsgateway.dispatch.duration</c> histogram measures how long callbacks take per read. Replies sent with
/// <see cref="IGatewayConnection.Send"/> from a callback go out together after the read's messages.</para>
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
