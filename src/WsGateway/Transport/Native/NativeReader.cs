using System.Buffers;
using WsGateway.Connections;
using System.IO.Pipelines;
using System.Threading.Tasks.Sources;

namespace WsGateway.Transport.Native;

/// <summary>
/// The read side of a <see cref="NativeConnection"/>: a <see cref="PipeReader"/> whose buffer is the event loop's
/// receive buffer, valid until <see cref="AdvanceTo(SequencePosition, SequencePosition)"/>. What the core did not
/// consume (the incomplete tail of a frame) is copied into a per-connection array, rented while it holds bytes and
/// returned when it is empty, so an idle connection holds no buffer at all.
/// </summary>
/// <remarks>
/// <para><b>One owner.</b> Everything here but <see cref="_cancelRequested"/> and the off-loop request flag belongs to
/// the loop's thread, and so does the code that reads a <see cref="ReadResult"/>: a read completes only on the loop,
/// with its continuation (the core's receive loop, and the handler) run inline there. The receive buffer is shared by
/// every connection of the loop, so a result parsed on any other thread would be overwritten under it by the next
/// socket's read.</para>
/// <para><b>Reads.</b> A read on the loop's thread with data waiting completes synchronously; otherwise it is pending,
/// and the loop completes it when epoll reports data. A read started on another thread (after an asynchronous
/// handshake validator, a resume, a throttle, a flush completed elsewhere) touches nothing: it returns a pending
/// result, and only once its continuation is registered (<see cref="OnCompleted"/>) is the loop asked to carry it
/// out. The loop can then never complete it before the awaiter is attached, which would run the continuation on the
/// requesting thread. <see cref="AdvanceTo(SequencePosition, SequencePosition)"/> and <see cref="TryRead"/> off the
/// loop throw: the rule is checked, not assumed.</para>
/// <para><b>Push mode.</b> The pipe reader serves the handshake only. Once the session is open
/// (<see cref="OnSessionStarted"/>) the loop itself calls <see cref="ITransportSession.OnRead"/> with each read, then
/// advances and flushes for it: an idle connection is then only this state, no pending read and no task. Only a
/// session that waits (paused, its flush blocked on the client, throttled) holds a continuation, which posts
/// <see cref="LoopOp.Resume"/> back to the loop.</para>
/// </remarks>
internal sealed class NativeReader(NativeConnection connection) : PipeReader, IValueTaskSource<ReadResult>
{
    /// <summary>Reads in a row one connection may do before the loop turns to the others.</summary>
    internal const int ReadBudget = 16;

    // The pipe reader's pending read (the handshake's, when its request has not fully arrived): made the first time a
    // read must wait, so that a connection whose handshake completed at once never holds one.
    private ReadSource? _read;
    private byte[]? _tail;
    private int _tailLength;
    private int _handedOutLength;
    private byte[]? _handedOutArray;
    private bool _examinedAll = true;
    private bool _eof;
    private bool _completed;
    private IOException? _error;
    private int _budget = ReadBudget;
    private volatile bool _pending;
    private volatile int _cancelRequested;

    // A read started off the loop, not yet posted: OnCompleted posts it once the continuation is registered.
    private volatile bool _requestedOffLoop;

    // Push mode (loop thread only): the session that takes the reads; whether it waits for something (and for what);
    // whether the wait for the client was reported; whether it has stopped reading.
    private ITransportSession? _session;
    private Action? _waitOver;
    private bool _waiting;
    private bool _waitingForResume;
    private bool _awaitingData;
    private bool _ended;
    private bool _pumping;

    // The handshake waits for the socket's first news before it runs (loop thread only).
    private bool _handshakeAwaited;

    /// <summary>Whether the socket may hold unread data (edge-triggered epoll: set by an event, cleared by a short
    /// or refused <c>recv</c>). A new socket may already hold its handshake.</summary>
    private bool _readable = true;

    // The peer's FIN (or an error) arrived: it may sit behind the data of the same event, where a short read does not
    // mean the socket is drained.
    private bool _hangup;

    /// <summary>Whether epoll reported the client's FIN, a reset or an error, or a read saw the end.</summary>
    internal bool PeerClosed => Volatile.Read(ref _hangup) || Volatile.Read(ref _eof);

    /// <summary>Bytes held between reads (tests).</summary>
    internal int TailCapacity => _tail?.Length ?? 0;

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        _read?.Core.Reset();
        if (!connection.Loop.IsLoopThread)
        {
            _requestedOffLoop = true;
            return new ValueTask<ReadResult>(this, Source.Version);
        }

        if (Interlocked.Exchange(ref _cancelRequested, 0) != 0)
        {
            return new ValueTask<ReadResult>(HandOutTail(isCanceled: true));
        }

        if (TryReadNow(out ReadResult result))
        {
            return new ValueTask<ReadResult>(result);
        }

        _pending = true;
        if (_readable && !_eof)
        {
            connection.Loop.MarkReady(connection); // out of budget: the next turn continues
        }

        return new ValueTask<ReadResult>(this, Source.Version);
    }

    public override bool TryRead(out ReadResult result)
    {
        AssertLoopThread(nameof(TryRead));
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
        AssertLoopThread(nameof(AdvanceTo));
        byte[]? array = _handedOutArray;
        if (array is null)
        {
            return;
        }

        int length = _handedOutLength;
        var handedOut = new ReadOnlySequence<byte>(array, 0, length);
        int consumedBytes = (int)handedOut.Slice(0, consumed).Length;
        int examinedBytes = (int)handedOut.Slice(0, examined).Length;
        int remaining = length - consumedBytes;
        _examinedAll = examinedBytes >= length;
        _handedOutLength = 0;
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

    public override void Complete(Exception? exception = null) => connection.RunOnLoop(LoopOp.CompleteRead);

    /// <summary>On the loop's thread: the core is done reading; the tail goes back to the pool.</summary>
    internal void OnCompletedByCore()
    {
        if (_completed)
        {
            return;
        }

        _completed = true;
        _tailLength = 0;
        ReturnTail();
    }

    public ReadResult GetResult(short token) => Source.GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => Source.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        Source.OnCompleted(continuation, state, token, flags);
        if (_requestedOffLoop)
        {
            // The continuation is attached: whatever the loop does with the read now runs it on the loop.
            _requestedOffLoop = false;
            connection.Loop.Post(connection, LoopOp.Read);
        }
    }

    /// <summary>On the loop's thread: a read started on another thread, its continuation registered, is now the
    /// loop's to complete.</summary>
    internal void OnReadPosted()
    {
        _pending = true;
        TryCompletePending(fresh: true);
    }

    /// <summary>epoll reported data (or the peer's close, or an error): a pending read gets it.</summary>
    /// <param name="hangup">The event says the peer closed its side or the socket failed: reads go on until
    /// <c>recv</c> says so, since no later event will.</param>
    internal void OnReadable(bool hangup = false)
    {
        _readable = true;
        _hangup |= hangup;
        if (StartHandshake())
        {
            return;
        }

        if (_pending)
        {
            TryCompletePending(fresh: true);
        }
        else if (_session is not null)
        {
            Pump(fresh: true);
        }
    }

    /// <summary>On the loop's thread: completes the pending read if there is something to give it. The continuation
    /// (the core's receive loop and the handler) runs here, inline.</summary>
    internal void TryCompletePending(bool fresh)
    {
        if (_session is not null)
        {
            Pump(fresh);
            return;
        }

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
                Source.SetException(ex);
                return;
            }
        }

        _pending = false;
        Source.SetResult(result);
    }

    internal void OnCancelRequested()
    {
        if (StartHandshake())
        {
            return;
        }

        if (_session is not null)
        {
            Pump(fresh: false);
            return;
        }

        if (_pending && Interlocked.Exchange(ref _cancelRequested, 0) != 0)
        {
            _pending = false;
            Source.SetResult(HandOutTail(isCanceled: true));
        }
    }

    /// <summary>The socket was closed: a read still pending sees the end.</summary>
    internal void OnSocketClosed()
    {
        _eof = true;
        _readable = false;
        if (StartHandshake())
        {
            return;
        }

        if (_pending)
        {
            _pending = false;
            Source.SetResult(HandOutTail(isCanceled: false));
        }
        else if (_session is not null)
        {
            Pump(fresh: true);
        }
    }

    /// <summary>On the loop's thread: the connection's handshake runs at the socket's first news.</summary>
    internal void AwaitHandshake() => _handshakeAwaited = true;

    /// <summary>Runs the awaited handshake now (inline: its read completes at once with what arrived); false when
    /// none was awaited.</summary>
    private bool StartHandshake()
    {
        if (!_handshakeAwaited)
        {
            return false;
        }

        _handshakeAwaited = false;
        connection.Core!.OnHandshakeBytes();
        return true;
    }

    /// <summary>On the loop's thread: the handshake is over and <paramref name="session"/> takes the reads. The pipe
    /// reader's last continuation (the handshake's) is let go.</summary>
    internal void OnSessionStarted(ITransportSession session)
    {
        _read = null;
        _pending = false;
        _session = session;
        Pump(fresh: true);
    }

    /// <summary>On the loop's thread: what the session waited for is over.</summary>
    internal void OnWaitOver()
    {
        if (!_waiting)
        {
            return;
        }

        _waiting = false;
        if (_waitingForResume)
        {
            _waitingForResume = false;
            _session?.OnReadingResumed();
        }

        Pump(fresh: true);
    }

    /// <summary>
    /// Push mode, on the loop's thread: reads and hands the session every read until the socket is drained, the read
    /// budget is spent (the next turn goes on), or the session waits or ends. The loop's receive buffer is parsed
    /// here, inline, and nowhere else.
    /// </summary>
    private void Pump(bool fresh)
    {
        ITransportSession? session = _session;
        if (session is null || _waiting || _ended || _pumping)
        {
            return; // (called again from inside a read's callbacks: the loop below sees what changed)
        }

        AssertLoopThread(nameof(Pump)); // the loop's receive buffer is parsed here: its thread only

        if (fresh)
        {
            _budget = ReadBudget;
        }

        _pumping = true;
        try
        {
            PumpReads(session);
        }
        finally
        {
            _pumping = false;
        }
    }

    private void PumpReads(ITransportSession session)
    {
        while (true)
        {
            if (Interlocked.Exchange(ref _cancelRequested, 0) != 0)
            {
                session.OnReadCanceled();
                End(session);
                return;
            }

            if (session.PausedUntil is { } paused)
            {
                if (_awaitingData)
                {
                    // Paused while waiting for the client: the pause is not the client's slowness.
                    _awaitingData = false;
                    session.OnReadInterrupted();
                }

                Wait(paused, resume: true);
                return;
            }

            ReadResult result;
            try
            {
                if (!TryReadNow(out result))
                {
                    if (_readable && !_eof && _budget <= 0)
                    {
                        connection.Loop.MarkReady(connection); // out of budget: the next turn continues
                    }
                    else if (!_awaitingData)
                    {
                        _awaitingData = true;
                        session.OnReadStarting();
                    }

                    return;
                }
            }
            catch (IOException ex)
            {
                session.OnTransportFailed(ex);
                End(session);
                return;
            }

            _awaitingData = false;
            ReadOnlySequence<byte> buffer = result.Buffer;
            ReadStep step = session.OnRead(ref buffer, result.IsCompleted);
            if (step == ReadStep.Throttle)
            {
                // Whole frames are left unexamined: the read after the wait hands them out again.
                AdvanceTo(buffer.Start);
                _ = session.FlushAsync();
                Wait(session.WaitForTokenAsync(), resume: false);
                return;
            }

            AdvanceTo(buffer.Start, buffer.End);
            Task flush = session.FlushAsync();
            if (step == ReadStep.End)
            {
                End(session);
                return;
            }

            if (!flush.IsCompleted)
            {
                Wait(flush, resume: false);
                return;
            }
        }
    }

    /// <summary>The session waits for <paramref name="task"/>; its completion (any thread) posts the resume.</summary>
    private void Wait(Task task, bool resume)
    {
        _waiting = true;
        _waitingForResume = resume;
        _waitOver ??= () => connection.RunOnLoop(LoopOp.Resume);
        task.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_waitOver);
    }

    /// <summary>The session stops reading: <c>OnDisconnect</c>, then its finish (output, socket, slot).</summary>
    private void End(ITransportSession session)
    {
        _ended = true;
        session.EndReceiving();
        _ = session.FinishAsync();
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

            int room = target.Length - start;
        nint n = Libc.Recv(connection.Fd, target.AsSpan(start, room));
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

            _readable = false;
        if (n == Libc.WouldBlock)
            {
                result = default;
                return false;
            }

        _error = Libc.Error("recv", (int)-n);
            throw _error;
        }

    /// <summary>Throws when a thread other than the loop's reaches into the read state: its result would be read while
    /// the loop overwrites the receive buffer with another connection's bytes.</summary>
    private void AssertLoopThread(string operation)
    {
        if (!connection.Loop.IsLoopThread)
        {
            ThrowOffLoop(operation);
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowOffLoop(string operation)
        => throw new InvalidOperationException($"{operation} called off the event loop's thread: a native connection's reads belong to its loop");

    private ReadResult HandOutTail(bool isCanceled) => HandOut(_tail ?? [], _tailLength, isCompleted: _eof, isCanceled);

    private ReadResult HandOut(byte[] array, int length, bool isCompleted, bool isCanceled)
    {
        _handedOutArray = array;
        _handedOutLength = length;
        return new ReadResult(new ReadOnlySequence<byte>(array, 0, length), isCanceled, isCompleted);
    }

    private void EnsureTail(int size) => WsGateway.Framing.PooledArray.Grow(ref _tail, _tailLength, size, minimum: 256);

    private void ReturnTail() => WsGateway.Framing.PooledArray.Return(ref _tail);

    private ref ManualResetValueTaskSourceCore<ReadResult> Source => ref (_read ??= new ReadSource()).Core;

    /// <summary>The state of a read that waits (continuations run inline, on the loop).</summary>
    private sealed class ReadSource
    {
        public ManualResetValueTaskSourceCore<ReadResult> Core;
    }
}
