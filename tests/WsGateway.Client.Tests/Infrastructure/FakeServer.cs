using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace WsGateway.Client.Tests.Infrastructure;

/// <summary>
/// A scripted WebSocket "server" on a loopback <see cref="TcpListener"/>: it reads the client's raw request, answers
/// whatever the test says (a good 101, a wrong accept, a 503), and sees the client's frames as raw bytes. It is
/// written independently of the client's code, so its checks are not the client checking itself.
/// </summary>
public sealed class FakeServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);

    public FakeServer() => _listener.Start();

    public Uri Url => new($"ws://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/feed?x=1");

    public async Task<FakeConnection> AcceptAsync()
    {
        Socket socket = await _listener.AcceptSocketAsync().WaitAsync(TimeSpan.FromSeconds(10));
        var connection = new FakeConnection(socket);
        await connection.ReadRequestAsync();
        return connection;
    }

    public void Dispose() => _listener.Stop();
}

public sealed class FakeConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly List<byte> _pending = [];

    internal FakeConnection(Socket socket) => _socket = socket;

    public string Request { get; private set; } = "";

    public string Key { get; private set; } = "";

    /// <summary>The accept value per RFC 6455 §4.2.2, computed here independently of the client.</summary>
    public static string Accept(string key)
    {
#pragma warning disable CA5350 // SHA-1 is what the RFC prescribes.
        return Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
#pragma warning restore CA5350
    }

    public Task SendAsync(string ascii) => SendAsync(Encoding.UTF8.GetBytes(ascii));

    public async Task SendAsync(byte[] bytes) => await _socket.SendAsync(bytes);

    public Task Send101Async(string? accept = null, string extraHeaders = "")
        => SendAsync($"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept ?? Accept(Key)}\r\n{extraHeaders}\r\n");

    /// <summary>Reads exactly <paramref name="count"/> bytes the client sent.</summary>
    public async Task<byte[]> ReadAsync(int count)
    {
        byte[] buffer = new byte[4096];
        while (_pending.Count < count)
        {
            int n = await _socket.ReceiveAsync(buffer.AsMemory()).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            if (n == 0)
            {
                throw new EndOfStreamException($"client closed after {_pending.Count} of {count} bytes");
            }

            _pending.AddRange(buffer.AsSpan(0, n));
        }

        byte[] result = [.. _pending.GetRange(0, count)];
        _pending.RemoveRange(0, count);
        return result;
    }

    /// <summary>Reads one client frame: checks the MASK bit, returns opcode, key bytes and unmasked payload.</summary>
    public async Task<(byte First, byte[] Key, byte[] Payload)> ReadFrameAsync()
    {
        byte[] head = await ReadAsync(2);
        Assert.True((head[1] & 0x80) != 0, "client frames must be masked");
        long length = head[1] & 0x7F;
        if (length == 126)
        {
            length = BinaryPrimitives.ReadUInt16BigEndian(await ReadAsync(2));
        }
        else if (length == 127)
        {
            length = (long)BinaryPrimitives.ReadUInt64BigEndian(await ReadAsync(8));
        }

        byte[] key = await ReadAsync(4);
        byte[] payload = await ReadAsync((int)length);
        for (int i = 0; i < payload.Length; i++)
        {
            payload[i] ^= key[i & 3];
        }

        return (head[0], key, payload);
    }

    /// <summary>Whether the client closed its side (reads 0 bytes) within the timeout.</summary>
    public async Task<bool> ClientClosedAsync()
    {
        byte[] buffer = new byte[256];
        try
        {
            while (true)
            {
                int n = await _socket.ReceiveAsync(buffer.AsMemory()).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
                if (n == 0)
                {
                    return true;
                }
            }
        }
        catch (SocketException)
        {
            return true;
        }
    }

    public void Dispose() => _socket.Dispose();

    internal async Task ReadRequestAsync()
    {
        while (true)
        {
            byte[] one = await ReadAsync(1);
            Request += (char)one[0];
            if (Request.EndsWith("\r\n\r\n", StringComparison.Ordinal))
            {
                break;
            }
        }

        foreach (string line in Request.Split("\r\n"))
        {
            if (line.StartsWith("Sec-WebSocket-Key:", StringComparison.OrdinalIgnoreCase))
            {
                Key = line["Sec-WebSocket-Key:".Length..].Trim();
            }
        }
    }
}
