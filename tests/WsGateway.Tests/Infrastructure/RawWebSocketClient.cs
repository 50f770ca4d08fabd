using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace WsGateway.Tests.Infrastructure;

/// <summary>A WebSocket client over a bare socket: handshake by hand, frames from <see cref="ClientFrames"/>, and the
/// freedom to stop in the middle of a frame or reset the connection (fuzz and soak tests).</summary>
public sealed class RawWebSocketClient : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
    private byte[] _pending = [];

    public Socket Socket => _socket;

    /// <summary>Connects and completes the handshake on <paramref name="path"/>; throws unless answered 101.</summary>
    public static async Task<RawWebSocketClient> ConnectAsync(IPEndPoint server, string path = "/trades", CancellationToken cancellationToken = default)
    {
        var client = new RawWebSocketClient();
        try
        {
            await client._socket.ConnectAsync(server, cancellationToken);
            string request = $"GET {path} HTTP/1.1\r\nHost: {server}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
            await client.SendAsync(Encoding.ASCII.GetBytes(request), cancellationToken);
            byte[] buffer = new byte[4096];
            var received = new List<byte>();
            while (true)
            {
                int n = await client._socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
                if (n == 0)
                {
                    throw new IOException("The server closed during the handshake: " + Encoding.ASCII.GetString(received.ToArray()));
                }

                received.AddRange(buffer.AsSpan(0, n));
                int end = IndexOf(received, "\r\n\r\n"u8.ToArray());
                if (end >= 0)
                {
                    string head = Encoding.ASCII.GetString(received.ToArray(), 0, end);
                    if (!head.StartsWith("HTTP/1.1 101 ", StringComparison.Ordinal))
                    {
                        throw new IOException("Handshake refused: " + head);
                    }

                    client._pending = received.Skip(end + 4).ToArray();
                    return client;
                }
            }
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    public async Task SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken = default)
    {
        while (!bytes.IsEmpty)
        {
            int n = await _socket.SendAsync(bytes, SocketFlags.None, cancellationToken);
            bytes = bytes[n..];
        }
    }

    /// <summary>Reads the next server frame; null when the server closed the connection.</summary>
    public async Task<ServerFrame?> ReadFrameAsync(CancellationToken cancellationToken = default)
    {
        byte[] buffer = new byte[16 * 1024];
        while (true)
        {
            var sequence = new ReadOnlySequence<byte>(_pending);
            if (ServerFrame.TryParse(ref sequence, out ServerFrame? frame))
            {
                _pending = sequence.ToArray();
                return frame;
            }

            int n = await _socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
            if (n == 0)
            {
                return null;
            }

            _pending = [.. _pending, .. buffer.AsSpan(0, n)];
        }
    }

    /// <summary>Vanishes: the connection is reset (RST), whatever was in flight.</summary>
    public void Abort()
    {
        try
        {
            _socket.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
        }

        _socket.Close(0);
    }

    public void Dispose() => _socket.Dispose();

    private static int IndexOf(List<byte> data, byte[] pattern)
    {
        for (int i = 0; i + pattern.Length <= data.Count; i++)
        {
            int j = 0;
            while (j < pattern.Length && data[i + j] == pattern[j])
            {
                j++;
            }

            if (j == pattern.Length)
            {
                return i;
            }
        }

        return -1;
    }
}
