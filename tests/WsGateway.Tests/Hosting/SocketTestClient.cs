using System.Net.WebSockets;

namespace WsGateway.Tests.Hosting;

/// <summary>Helpers around <see cref="ClientWebSocket"/>, the framework's own client, as an independent peer.</summary>
internal static class SocketTestClient
{
    public static async Task<ClientWebSocket> ConnectAsync(Uri url, CancellationToken cancellationToken = default)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        await socket.ConnectAsync(url, cancellationToken);
        return socket;
    }

    public static Task SendBinaryAsync(this ClientWebSocket socket, byte[] payload)
        => socket.SendAsync(payload, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);

    /// <summary>Receives one whole message, or the close.</summary>
    public static async Task<(WebSocketMessageType Type, byte[] Payload)> ReceiveMessageAsync(this ClientWebSocket socket)
    {
        byte[] buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            WebSocketReceiveResult result = await socket.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage || result.MessageType == WebSocketMessageType.Close)
            {
                return (result.MessageType, message.ToArray());
            }
        }
    }
}
