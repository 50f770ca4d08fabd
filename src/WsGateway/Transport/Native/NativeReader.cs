using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;

namespace WsGateway.Transport.Native;

/// <summary>
/// The read side of a <see cref="NativeConnection"/>: a <see cref="PipeReader"/> whose buffer is the event loop's
/// receive buffer, valid until <see cref="AdvanceTo(SequencePosition, SequencePosition)"/>. What the core did not
/// consume (the incomplete tail of a frame) is copied into a per-connection array, rented while it holds bytes and
/// returned when it is empty, so an idle connection holds no buffer at all.
/// </summary>
/// <remarks>
/// A read on the loop's thread with data waiting in the socket receives at once and completes synchronously; otherwise
/// it is pending, and the loop completes it when epoll reports data, with continuations run inline: the core's receive
/// loop, and the handler, run on the loop's thread with no hand-off. A read from another thread (after an
/// asynchronous handshake validator, a resume, a throttle) is handed to the loop. Every field but
/// <see cref="_cancelRequested"/> is the loop's, or belongs to the thread the loop handed a completed read to.
/// </remarks>
internal sealed unsafe class NativeReader(NativeConnection connection) : PipeReader, IValueTaskSource<ReadResult>
{
    /// <summary>Reads in a row one connection may do before the loop turns to the others.</summary>
    internal const int ReadBudget = 16;

    private ManualResetValueTaskSourceCore<ReadResult> _source; // RunContinuationsAsynchronously = false: inline
    private byte[]? _tail;
    private int _tailLength;
    private ReadOnlySequence<byte> _handedOut;
    private byte[]? _handedOutArray;
    private bool _examinedAll = true;
    private bool _eof;
    private bool _completed;
    private IOException? _error;
    private int _budget = ReadBudget;
    private volatile bool _pending;
    private volatile int _cancelRequested;

    /// <summary>Whether the socket may hold unread data (edge-triggered epoll: set by an event, cleared by a short
    /// or refused <c>recv</c>). A new socket may already hold its handshake.</summary>
    private bool _readable = true;

    // The peer's FIN (or an error) arrived: it may sit behind the data of the same event, where a short read does not
    // mean the socket is drained.
    private bool _hangup;

    /// <summary>Bytes held between reads (tests).</summary>
    internal int TailCapacity => _tail?.Length ?? 0;

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _cancelRequested, 0) != 0)
        {
            return new ValueTask<ReadResult>(HandOutTail(isCanceled: true));
        }

        bool onLoop = connection.Loop.IsLoopThread;
        if (onLoop && TryReadNow(out ReadResult result))
        {
            return new ValueTask<ReadResult>(result);
        }

        _source.Reset();
        _pending = true;
        if (!onLoop)
        {
            connection.Loop.Post(connection, LoopOp.Read);
        }
        else if (_readable && !_eof)
        {
            connection.Loop.MarkReady(connection); // out of budget: the next turn continues
        }

        return new ValueTask<ReadResult>(this, _source.Version);
    }

    public override bool TryRead(out ReadResult result)
    {
        if (!_examinedAll && _tailLength > 0)
        {
            result = HandOutTail(isCanceled: false);
            return true;
        }

        result = default;
        return false;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        byte[]? array = _handedOutArray;
        if (array is null)
        {
            return;
        }

        int length = (int)_handedOut.Length;
        int consumedBytes = (int)_handedOut.Slice(0, consumed).Length;
        int examinedBytes = (int)_handedOut.Slice(0, examined).Length;
        int remaining = length - consumedBytes;
        _examinedAll = examinedBytes >= length;
        _handedOut = default;
        _handedOutArray = null;

        if (remaining == 0)
        {
            _tailLength = 0;
            ReturnTail();
        }
        else if (array == _tail)
        {
            Buffer.BlockCopy(array, consumedBytes, array, 0, remaining);
            _tailLength = remaining;
        }
        else
        {
            // The rest is in the loop's shared buffer, which the next read of any connection overwrites.
            EnsureTail(remaining);
            Buffer.BlockCopy(array, consumedBytes, _tail!, 0, remaining);
            _tailLength = remaining;
        }
    }

    public override void CancelPendingRead()
    {
        Interlocked.Exchange(ref _cancelRequested, 1);
        connection.RunOnLoop(LoopOp.CancelRead);
    }

    public override void Complete(Exception? exception = null)
    {
        if (_completed)
        {
            return;
        }

        _completed = true;
        _tailLength = 0;
        ReturnTail();
    }

    public ReadResult GetResult(short token) => _source.GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => _source.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _source.OnCompleted(continuation, state, token, flags);

    /// <summary>epoll reported data (or the peer's close, or an error): a pending read gets it.</summary>
    /// <param name="hangup">The event says the peer closed its side or the socket failed: reads go on until
    /// <c>recv</c> says so, since no later event will.</param>
    internal void OnReadable(bool hangup = false)
    {
        _readable = true;
        _hangup |= hangup;
        if (_pending)
        {
            TryCompletePending(fresh: true);
        }
    }

    /// <summary>On the loop's thread: completes the pending read if there is something to give it. The continuation
    /// (the core's receive loop and the handler) runs here, inline.</summary>
    internal void TryCompletePending(bool fresh)
    {
        if (!_pending)
        {
            return;
        }

        if (fresh)
        {
            _budget = ReadBudget;
        }

        ReadResult result;
        if (Interlocked.Exchange(ref _cancelRequested, 0) != 0)
        {
            result = HandOutTail(isCanceled: true);
        }
        else
        {
            try
            {
                if (!TryReadNow(out result))
                {
                    if (_readable && !_eof && _budget <= 0)
                    {
                        connection.Loop.MarkReady(connection);
                    }

                    return;
                }
            }
            catch (IOException ex)
            {
                _pending = false;
                _source.SetException(ex);
                return;
            }
        }

        _pending = false;
        _source.SetResult(result);
    }

    internal void OnCancelRequested()
    {
        if (_pending && Interlocked.Exchange(ref _cancelRequested, 0) != 0)
        {
            _pending = false;
            _source.SetResult(HandOutTail(isCanceled: true));
        }
    }

    /// <summary>The socket was closed: a read still pending sees the end.</summary>
    internal void OnSocketClosed()
    {
        _eof = true;
        _readable = false;
        if (_pending)
        {
            _pending = false;
            _source.SetResult(HandOutTail(isCanceled: false));
        }
    }

    private bool TryReadNow(out ReadResult result)
    {
        if (_error is not null)
        {
            throw _error;
        }

        if ((!_examinedAll && _tailLength > 0) || _eof)
        {
            result = HandOutTail(isCanceled: false);
            return true;
        }

        if (!_readable || _budget <= 0)
        {
            result = default;
            return false;
        }

        _budget--;
        return Receive(out result);
    }

    private bool Receive(out ReadResult result)
    {
        byte[] shared = connection.Loop.ReceiveBuffer;
        byte[] target = shared;
        int start = 0;
        if (_tailLength > 0)
        {
            if (_tailLength <= shared.Length / 2)
            {
                Buffer.BlockCopy(_tail!, 0, shared, 0, _tailLength);
            }
            else
            {
                // A tail too long to share the buffer with new bytes (a large handshake): receive after it.
                EnsureTail(_tailLength * 2);
                target = _tail!;
            }

            start = _tailLength;
        }

        while (true)
        {
            int room = target.Length - start;
            nint n;
            fixed (byte* p = &MemoryMarshal.GetArrayDataReference(target))
            {
                n = Libc.recv(connection.Fd, p + start, room, 0);
            }

            if (n > 0)
            {
                if (n < room && !_hangup)
                {
                    _readable = false; // edge-triggered: a new arrival raises a new event
                }

                if (target == shared)
                {
                    _tailLength = 0;
                    ReturnTail();
                }

                result = HandOut(target, start + (int)n, isCompleted: false, isCanceled: false);
                return true;
            }

            if (n == 0)
            {
                _eof = true;
                _readable = false;
                result = HandOutTail(isCanceled: false);
                return true;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno == Libc.EINTR)
            {
                continue;
            }

            _readable = false;
            if (errno == Libc.EAGAIN)
            {
                result = default;
                return false;
            }

            _error = Libc.Error("recv", errno);
            throw _error;
        }
    }

    private ReadResult HandOutTail(bool isCanceled) => HandOut(_tail ?? [], _tailLength, isCompleted: _eof, isCanceled);

    private ReadResult HandOut(byte[] array, int length, bool isCompleted, bool isCanceled)
    {
        _handedOutArray = array;
        _handedOut = new ReadOnlySequence<byte>(array, 0, length);
        return new ReadResult(_handedOut, isCanceled, isCompleted);
    }

    private void EnsureTail(int size)
    {
        if (_tail is { } tail && tail.Length >= size)
        {
            return;
        }

        byte[] bigger = ArrayPool<byte>.Shared.Rent(Math.Max(size, 256));
        if (_tail is { Length: > 0 } old)
        {
            Buffer.BlockCopy(old, 0, bigger, 0, _tailLength);
            ArrayPool<byte>.Shared.Return(old);
        }

        _tail = bigger;
    }

    private void ReturnTail()
    {
        if (_tail is { Length: > 0 } tail)
        {
            ArrayPool<byte>.Shared.Return(tail);
        }

        _tail = null;
    }
}
