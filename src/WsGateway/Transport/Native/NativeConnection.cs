using System.IO.Pipelines;
using System.Net;
using WsGateway.Connections;

namespace WsGateway.Transport.Native;

/// <summary>What a thread other than the loop's asks the loop to do for a connection.</summary>
internal enum LoopOp : byte
{
    /// <summary>A read is pending: complete it if data is buffered or the socket has some.</summary>
    Read,

    /// <summary>End the pending read as cancelled.</summary>
    CancelRead,

    /// <summary>The core is done reading: release the reader's tail.</summary>
    CompleteRead,

    /// <summary>A flush is pending: try to send what is left.</summary>
    Write,

    /// <summary>End the pending flush as cancelled.</summary>
    CancelFlush,

    /// <summary>Shut the socket down now: pending and later reads see the end, flushes fail.</summary>
    Abort,

    /// <summary>The output was completed: close the socket.</summary>
    Close,

    /// <summary>The handshake is over: the session takes the reads (push mode).</summary>
    StartSession,

    /// <summary>What the session waited for (a resume, a flush, the rate limit's token) is over: read again.</summary>
    Resume,
}

/// <summary>
/// One accepted socket of an <see cref="EventLoop"/>, as the connection core's transport: a reader that hands out
/// the loop's receive buffer and keeps only an incomplete tail, a writer that sends straight to the socket and waits
/// for writability only when the kernel's send buffer is full. The socket is touched by the loop's thread, except
/// for the sends of a flush that another thread owns (the core has one flusher at a time).
/// </summary>
internal sealed class NativeConnection : IConnectionTransport
{
    private readonly EventLoop _loop;
    private readonly NativeReader _reader;
    private readonly NativeWriter _writer;
    private TaskCompletionSource? _closed;
    private int _abortRequested;
    private bool _socketClosed;
    private long _lingerUntil;

    public NativeConnection(EventLoop loop, int fd, int slot, ulong tag)
    {
        _loop = loop;
        Fd = fd;
        Slot = slot;
        Tag = tag;
        _reader = new NativeReader(this);
        _writer = new NativeWriter(this);
    }

    public EventLoop Loop => _loop;

    public int Fd { get; }

    /// <summary>The connection's index in its loop's table.</summary>
    public int Slot { get; }

    /// <summary>The epoll tag: slot and generation, so a late event of a closed socket never reaches a new one.</summary>
    public ulong Tag { get; }

    /// <summary>Whether the connection waits in its loop's list for another turn.</summary>
    public bool ReadyQueued { get; set; }

    /// <summary>The session running on this socket (its timers are the loop's).</summary>
    public ITransportSession? Core { get; set; }

    /// <summary>The loop's tick checks this connection's timeouts, on the loop's thread.</summary>
    public bool HasOwnTimer => true;

    /// <summary>The handshake waits for the first news of the socket (bytes, the client's end, a cancellation).</summary>
    public void AwaitHandshake() => _reader.AwaitHandshake();

    /// <summary>The session takes over the reads: from now the loop calls it when bytes arrive, inline on its thread,
    /// and no task waits for the client meanwhile.</summary>
    public bool StartReceiving(ITransportSession session)
    {
        Core = session;
        RunOnLoop(LoopOp.StartSession);
        return true;
    }

    public PipeReader Input => _reader;

    public PipeWriter Output => _writer;

    public Task Closed
    {
        get
        {
            if (_closed is { } closed)
            {
                return closed.Task;
            }

            var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            TaskCompletionSource winner = Interlocked.CompareExchange(ref _closed, created, null) ?? created;
            if (Volatile.Read(ref _socketClosed))
            {
                winner.TrySetResult();
            }

            return winner.Task;
        }
    }

    /// <summary>epoll reported the client's FIN, a reset or an error (or the socket is closed).</summary>
    public bool PeerClosed => _reader.PeerClosed || Volatile.Read(ref _socketClosed);

    /// <summary>Whether the socket was shut down or closed: nothing more is sent.</summary>
    public bool IsAborted => Volatile.Read(ref _abortRequested) != 0 || Volatile.Read(ref _socketClosed);

    public void Abort(string reason)
    {
        if (Interlocked.Exchange(ref _abortRequested, 1) == 0)
        {
            RunOnLoop(LoopOp.Abort);
        }
    }

    /// <summary>Runs <paramref name="op"/> now when on the loop's thread, or has the loop run it.</summary>
    public void RunOnLoop(LoopOp op)
    {
        if (_loop.IsLoopThread)
        {
            Run(op);
        }
        else
        {
            _loop.Post(this, op);
        }
    }

    /// <summary>Carries out an operation on the loop's thread.</summary>
    public void Run(LoopOp op)
    {
        switch (op)
        {
            case LoopOp.Read:
                _reader.OnReadPosted();
                break;
            case LoopOp.CancelRead:
                _reader.OnCancelRequested();
                break;
            case LoopOp.CompleteRead:
                _reader.OnCompletedByCore();
                break;
            case LoopOp.Write:
                _writer.OnWritable();
                break;
            case LoopOp.CancelFlush:
                _writer.OnCancelRequested();
                break;
            case LoopOp.Abort:
                AbortOnLoop();
                break;
            case LoopOp.Close:
                CloseGracefully();
                break;
            case LoopOp.StartSession:
                _reader.OnSessionStarted(Core!);
                break;
            case LoopOp.Resume:
                _reader.OnWaitOver();
                break;
        }
    }

    /// <summary>epoll reported the socket readable, closed by the peer, or in error.</summary>
    /// <param name="hangup">Whether the event reported the peer's close or an error.</param>
    public void OnReadable(bool hangup)
    {
        if (_lingerUntil != 0)
        {
            if (DrainUntilEnd())
            {
                CloseSocket();
            }

            return;
        }

        _reader.OnReadable(hangup);
        if (hangup)
        {
            Core?.OnPeerClosed(); // gives up a connection not being read (paused), whose client has gone
        }
    }

    /// <summary>Whether the socket waits, half-closed, for the client's end (lingering close); closed by the loop's
    /// tick at <paramref name="now"/> once the linger time has passed.</summary>
    public void CloseIfLingeredOut(long now)
    {
        if (_lingerUntil != 0 && now >= _lingerUntil)
        {
            CloseSocket();
        }
    }

    /// <summary>epoll reported room in the socket's send buffer.</summary>
    public void OnWritable() => _writer.OnWritable();

    /// <summary>The loop's turn for a connection that stopped reading to let the others have theirs.</summary>
    public void OnReady() => _reader.TryCompletePending(fresh: true);

    private void AbortOnLoop()
    {
        if (_socketClosed)
        {
            return;
        }

        if (_lingerUntil != 0)
        {
            CloseSocket(); // given up while lingering: nothing more to wait for
            return;
        }

        // Shut down, not closed: the descriptor stays ours until the output completes, so a flush on another
        // thread never sends on a number the kernel gave to a new socket. Reads now see the end, sends fail.
        _ = Libc.shutdown(Fd, Libc.SHUT_RDWR);
        _reader.OnReadable(hangup: true);
        _writer.OnWritable();
    }

    /// <summary>
    /// The output was completed: the last frames are in the kernel. A socket closed with unread bytes in its receive
    /// queue makes the kernel send a reset, which can destroy at the client the close frame it has not read yet (a
    /// client still sending when the server fails or times it out). So, as a lingering close: what is queued is read
    /// and discarded, the sending side is shut (FIN after our frames), and the socket is closed when the client's end
    /// arrives or after <see cref="LingerTime"/>. A client that has already closed, or one given up on, is closed now.
    /// </summary>
    private void CloseGracefully()
    {
        if (_socketClosed || _lingerUntil != 0)
        {
            return;
        }

        if (IsAborted || DrainUntilEnd())
        {
            CloseSocket();
            return;
        }

        _ = Libc.shutdown(Fd, Libc.SHUT_WR);
        _lingerUntil = Math.Max(1, System.Diagnostics.Stopwatch.GetTimestamp() + (long)(LingerTime.TotalSeconds * System.Diagnostics.Stopwatch.Frequency));
    }

    /// <summary>How long a half-closed socket waits for the client's end before it is closed anyway.</summary>
    internal static readonly TimeSpan LingerTime = TimeSpan.FromSeconds(2);

    /// <summary>Reads and discards what the socket holds: true at its end (or an error), false when it is drained.</summary>
    private bool DrainUntilEnd()
    {
        byte[] sink = _loop.ReceiveBuffer;
            for (int i = 0; i < 64; i++)
            {
            nint n = Libc.Recv(Fd, sink);
                if (n > 0)
                {
                    continue;
                }

            return n != Libc.WouldBlock; // 0: the end; an error: the end too
        }

        return false; // a client still sending fast: the linger time bounds it
    }

    /// <summary>Closes the socket now (the linger ended, the connection was given up, or the loop is stopping) and
    /// frees its slot.</summary>
    public void CloseSocket()
    {
        if (_socketClosed)
        {
            return;
        }

        Volatile.Write(ref _socketClosed, true);
        _loop.Remove(this);
        _ = Libc.close(Fd);
        _reader.OnSocketClosed();
        _writer.OnSocketClosed();
        Volatile.Read(ref _closed)?.TrySetResult();
    }

    /// <summary>The writer's output was completed by the core: the last frames are out, the socket can close.</summary>
    internal void OnOutputCompleted() => RunOnLoop(LoopOp.Close);

    /// <summary>The client's address, read from the <c>sockaddr</c> that <c>accept4</c> filled.</summary>
    public static IPEndPoint? ParseAddress(ReadOnlySpan<byte> sockaddr)
    {
        if (sockaddr.Length < 2)
        {
            return null;
        }

        int family = System.Runtime.InteropServices.MemoryMarshal.Read<ushort>(sockaddr); // sa_family_t: host order
        int port = sockaddr.Length >= 4 ? System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(sockaddr[2..]) : 0;
        if (family == Libc.AF_INET && sockaddr.Length >= 8)
        {
            return new IPEndPoint(new IPAddress(sockaddr.Slice(4, 4)), port);
        }

        if (family == Libc.AF_INET6 && sockaddr.Length >= 28)
        {
            uint scope = System.Runtime.InteropServices.MemoryMarshal.Read<uint>(sockaddr[24..]);
            return new IPEndPoint(new IPAddress(sockaddr.Slice(8, 16), scope), port);
        }

        return null;
    }
}
