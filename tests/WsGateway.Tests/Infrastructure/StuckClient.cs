using System.Net;
using System.Net.Sockets;
using System.Text;

namespace WsGateway.Tests.Infrastructure;

/// <summary>A faulty client on a real socket with a tiny receive buffer: completes the handshake, then sends what it
/// is told and never reads again (the server's writes to it stall on TCP flow control).</summary>
public sealed class StuckClient : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = 4096 };

    public Socket Socket => _socket;

    public static async Task<StuckClient> ConnectAsync(IPEndPoint server, bool handshake = true)
    {
        var client = new StuckClient();
        await client._socket.ConnectAsync(server);
        if (!handshake)
        {
            return client;
        }

        await client.SendAsync(Encoding.ASCII.GetBytes($"GET /trades HTTP/1.1\r\nHost: {server}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));

        // Read the 101 byte by byte, so that nothing after it is taken from the socket.
        var head = new StringBuilder();
        byte[] one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await client._socket.ReceiveAsync(one, SocketFlags.None).WaitAsync(TimeSpan.FromSeconds(10)) == 0)
            {
                throw new IOException("Closed during the handshake: " + head);
            }

            head.Append((char)one[0]);
        }

        if (!head.ToString().StartsWith("HTTP/1.1 101 ", StringComparison.Ordinal))
        {
            throw new IOException("Handshake refused: " + head);
        }

        return client;
    }

    public async Task SendAsync(ReadOnlyMemory<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            int n = await _socket.SendAsync(bytes, SocketFlags.None);
            bytes = bytes[n..];
        }
    }

    public void Dispose() => _socket.Dispose();
}
