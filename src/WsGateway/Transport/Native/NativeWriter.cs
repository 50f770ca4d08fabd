using System.IO.Pipelines;
using WsGateway.Connections;
using System.Threading.Tasks.Sources;

namespace WsGateway.Transport.Native;

/// <summary>
/// The write side of a <see cref="NativeConnection"/>: frames are written into a per-connection array (rented while
/// it holds unsent bytes, returned when they are all sent) and <see cref="FlushAsync"/> sends them straight to the
/// socket. Only when the kernel's send buffer is full does a flush wait, for epoll to report room; the loop then
/// sends the rest and completes it. The core has one flusher at a time (its <c>ConnectionSender</c>), which may be
/// another thread than the loop's: a send from it is safe, and the loop touches the buffer only while that flusher
/// waits.
/// </summary>
internal sealed class NativeWriter(NativeConnection connection) : PipeWriter, IValueTaskSource<FlushResult>
{
    private const int MinimumSize = 4096;

    // A flush that waits for epoll (the kernel's send buffer was full): made the first time one must, so that a
    // connection whose flushes always went straight out never holds it.
    private FlushSource? _flush;
    private RentedQueue _unsent;
    private bool _broken;
    private volatile bool _waiting;
    private volatile int _cancelRequested;
    private int _completed;

    /// <summary>Bytes held unsent (tests).</summary>
    internal int BufferCapacity => _unsent.Capacity;

    public override bool CanGetUnflushedBytes => true;

    public override long UnflushedBytes => _unsent.Count;

    public override Memory<byte> GetMemory(int sizeHint = 0) => _unsent.GetMemory(sizeHint, MinimumSize);

    public override Span<byte> GetSpan(int sizeHint = 0) => _unsent.GetSpan(sizeHint, MinimumSize);

    public override void Advance(int bytes) => _unsent.Advance(bytes);

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _cancelRequested, 0) != 0)
        {
            return new ValueTask<FlushResult>(new FlushResult(isCanceled: true, isCompleted: false));
        }

        int sent = TrySend();
        if (sent != 0)
        {
            return new ValueTask<FlushResult>(new FlushResult(isCanceled: false, isCompleted: sent < 0));
        }

        Source.Reset();
        _waiting = true;
        if (!connection.Loop.IsLoopThread)
        {
            // epoll may have reported room between our refused send and now: the loop tries again.
            connection.Loop.Post(connection, LoopOp.Write);
        }

        return new ValueTask<FlushResult>(this, Source.Version);
    }

    public override void CancelPendingFlush()
    {
        Interlocked.Exchange(ref _cancelRequested, 1);
        connection.RunOnLoop(LoopOp.CancelFlush);
    }

    public override void Complete(Exception? exception = null)
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
        {
            return;
        }

        connection.OnOutputCompleted();
    }

    public FlushResult GetResult(short token) => Source.GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => Source.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => Source.OnCompleted(continuation, state, token, flags);

    /// <summary>On the loop's thread: room in the send buffer (or the socket shut down); a waiting flush goes on.</summary>
    internal void OnWritable()
    {
        if (!_waiting)
        {
            return;
        }

        int sent = TrySend();
        if (sent == 0)
        {
            return;
        }

        _waiting = false;
        Source.SetResult(new FlushResult(isCanceled: false, isCompleted: sent < 0));
    }

    internal void OnCancelRequested()
    {
        if (_waiting && Interlocked.Exchange(ref _cancelRequested, 0) != 0)
        {
            _waiting = false;
            Source.SetResult(new FlushResult(isCanceled: true, isCompleted: false));
        }
    }

    /// <summary>The socket was closed: a waiting flush ends, what was unsent is dropped.</summary>
    internal void OnSocketClosed()
    {
        _broken = true;
        if (_waiting)
        {
            _waiting = false;
            Source.SetResult(new FlushResult(isCanceled: false, isCompleted: true));
        }

        Release();
    }

    /// <summary>Sends what is buffered: 1 when all of it went, 0 when the kernel's buffer is full, -1 when the
    /// connection is broken (what was unsent is dropped).</summary>
    private int TrySend()
    {
        if (_broken || connection.IsAborted)
        {
            _broken = true;
            Release();
            return -1;
        }

        while (_unsent.Count > 0)
        {
            nint n = Libc.Send(connection.Fd, _unsent.Pending);
            if (n > 0)
            {
                _unsent.Consume((int)n);
                continue;
            }

            if (n == Libc.WouldBlock)
            {
                return 0;
            }

            _broken = true; // EPIPE, ECONNRESET: the client is gone
            Release();
            return -1;
        }

        Release();
        return 1;
    }

    private void Release() => _unsent.Release();

    private ref ManualResetValueTaskSourceCore<FlushResult> Source => ref (_flush ??= new FlushSource()).Core;

    /// <summary>The state of a flush that waits (its continuation runs where the loop completes it).</summary>
    private sealed class FlushSource
    {
        public ManualResetValueTaskSourceCore<FlushResult> Core;
    }
}
