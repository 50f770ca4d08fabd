using System.Net;
using System.Net.Sockets;
using System.Text;

namespace WsGateway.LoadBench;

/// <summary>
/// One load-generator WebSocket connection over a raw <see cref="Socket"/>: the handshake written by hand, then
/// pre-built frames sent many per socket write, and server frames read with <see cref="FrameScanner"/>.
/// </summary>
internal sealed class LoadConnection : IDisposable
{
    private static readonly byte[] s_headerEnd = "\r\n\r\n"u8.ToArray();

    private readonly Socket _socket;
    private readonly byte[] _receive = new byte[4096];
    private int _start;
    private int _end;

    private LoadConnection(Socket socket) => _socket = socket;

    public Socket Socket => _socket;

    public static async Task<LoadConnection> ConnectAsync(IPEndPoint endPoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var connection = new LoadConnection(socket);
        try
        {
            await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
            byte[] request = Encoding.ASCII.GetBytes(
                $"GET / HTTP/1.1\r\nHost: {endPoint}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
            await socket.SendAsync(request, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            while (true)
            {
                int read = await socket.ReceiveAsync(connection._receive.AsMemory(connection._end), SocketFlags.None, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new IOException("The server closed the connection during the handshake");
                }

                connection._end += read;
                int headerEnd = connection._receive.AsSpan(0, connection._end).IndexOf(s_headerEnd);
                if (headerEnd >= 0)
                {
                    if (!connection._receive.AsSpan().StartsWith("HTTP/1.1 101"u8))
                    {
                        throw new IOException($"Handshake refused: {Encoding.ASCII.GetString(connection._receive, 0, headerEnd)}");
                    }

                    connection._start = headerEnd + s_headerEnd.Length;
                    return connection;
                }
            }
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Sends <paramref name="frameCount"/> frames of <paramref name="frameSize"/> bytes, taken from
    /// <paramref name="chunk"/> (a whole number of frames) as many per write as it holds.</summary>
    public async Task SendFramesAsync(byte[] chunk, int frameSize, long frameCount, CancellationToken cancellationToken)
    {
        int framesPerChunk = chunk.Length / frameSize;
        long remaining = frameCount;
        while (remaining > 0)
        {
            int frames = (int)Math.Min(remaining, framesPerChunk);
            await _socket.SendAsync(chunk.AsMemory(0, frames * frameSize), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            remaining -= frames;
        }
    }

    public ValueTask<int> SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
        => _socket.SendAsync(bytes, SocketFlags.None, cancellationToken);

    /// <summary>Reads server frames until the close frame; returns the number of data frames seen before it.</summary>
    public async Task<long> ReceiveUntilCloseAsync(CancellationToken cancellationToken)
    {
        long dataFrames = 0;
        while (true)
        {
            while (FrameScanner.TryRead(_receive.AsSpan(_start, _end - _start), out int opcode, out int length))
            {
                _start += length;
                if (opcode == 0x8)
                {
                    return dataFrames;
                }

                if (opcode is 0x1 or 0x2 or 0x0)
                {
                    dataFrames++;
                }
            }

            Compact();
            int read = await _socket.ReceiveAsync(_receive.AsMemory(_end), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new IOException("The server closed the connection without a close frame");
            }

            _end += read;
        }
    }

    /// <summary>Blocking read of the next data frame (latency runs, on a dedicated thread).</summary>
    public void ReceiveDataFrame()
    {
        while (true)
        {
            while (FrameScanner.TryRead(_receive.AsSpan(_start, _end - _start), out int opcode, out int length))
            {
                _start += length;
                if (opcode is 0x1 or 0x2)
                {
                    return;
                }

                if (opcode == 0x8)
                {
                    throw new IOException("The server closed the connection");
                }
            }

            Compact();
            int read = _socket.Receive(_receive.AsSpan(_end));
            if (read == 0)
            {
                throw new IOException("The server closed the connection");
            }

            _end += read;
        }
    }

    /// <summary>Sends the close frame and waits for the server's answer.</summary>
    public async Task CloseAsync(CancellationToken cancellationToken)
    {
        await _socket.SendAsync(Frames.Close, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        await ReceiveUntilCloseAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Drops the TCP connection with a reset (no TIME_WAIT left on the load side).</summary>
    public void Abort()
    {
        try
        {
            _socket.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
        }

        _socket.Dispose();
    }

    public void Dispose() => _socket.Dispose();

    private void Compact()
    {
        if (_start == _end)
        {
            _start = _end = 0;
        }
        else if (_end == _receive.Length)
        {
            Buffer.BlockCopy(_receive, _start, _receive, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
    }
}
