using System.Net.WebSockets;

namespace WsGateway.Client;

/// <summary>
/// One message received from the server: a whole binary or text message, or the server's close.
/// </summary>
/// <remarks>
/// <see cref="Payload"/> points into the client's receive buffer and is valid only until the next call to
/// <see cref="TradeClient.ReceiveAsync"/>, <see cref="TradeClient.CloseAsync"/> or <see cref="TradeClient.DisposeAsync"/>;
/// copy what you keep (decoding it into a <c>WsGateway.Sbe.Trade</c> copies).
/// </remarks>
public readonly struct ClientMessage
{
    internal ClientMessage(WebSocketMessageType messageType, ReadOnlyMemory<byte> payload, ushort closeStatus = 0, string? closeReason = null)
    {
        MessageType = messageType;
        Payload = payload;
        CloseStatus = closeStatus;
        CloseReason = closeReason;
    }

    /// <summary><see cref="WebSocketMessageType.Binary"/>, <see cref="WebSocketMessageType.Text"/> (valid UTF-8),
    /// or <see cref="WebSocketMessageType.Close"/>.</summary>
    public WebSocketMessageType MessageType { get; }

    /// <summary>The whole message payload, reassembled when it came in fragments; empty for a close.</summary>
    public ReadOnlyMemory<byte> Payload { get; }

    /// <summary>For a close: the server's status code (1005 when its close frame carried none); otherwise 0.</summary>
    public ushort CloseStatus { get; }

    /// <summary>For a close: the server's reason, possibly empty; otherwise <see langword="null"/>.</summary>
    public string? CloseReason { get; }

    /// <summary>Whether this is the server's close.</summary>
    public bool IsClose => MessageType == WebSocketMessageType.Close;
}
