using System.Buffers;
using System.IO.Pipelines;
using WsGateway.Framing;

namespace WsGateway.Connections;

/// <summary>What <see cref="ConnectionSender.TryWrite"/> did with a frame.</summary>
internal enum SendOutcome
{
    /// <summary>Queued; it goes out with the next flush.</summary>
    Queued,

    /// <summary>Dropped: a close frame was already queued, or the connection is finishing.</summary>
    Closed,

    /// <summary>Dropped: the outbound queue is full, the client does not read (the slow-consumer policy applies).</summary>
    QueueFull,
}

/// <summary>
/// The send side of one connection, in the manner of Kestrel's frame writers: every frame (replies, pongs, pings,
/// the close, the handshake's response) is copied into a bounded outbound queue under a short lock that is never
/// held across an await; one flusher at a time moves the queue into the transport and awaits the transport's
/// flush. Nobody ever waits synchronously: a thread that finds a flush in flight leaves its frames for it. The queue
/// is one array rented from the shared pool while it holds bytes and returned when it is drained, so an idle
/// connection holds none.
/// </summary>
/// <remarks>
/// The queue is bounded by <see cref="TradeGatewayOptions.MaxSendQueueSize"/> (a single frame larger than the bound
/// is taken when the queue is empty). A flush that does not complete is visible through
/// <see cref="PendingFlushSince"/>, which the heartbeat compares with <see cref="TradeGatewayOptions.WriteTimeout"/>.
/// After <see cref="Abort"/> no flush starts any more and what is queued is dropped.
/// </remarks>
internal sealed class ConnectionSender : IBufferWriter<byte>
{
    private const int MinimumQueueSize = 512;

    private readonly PipeWriter _output;
    private readonly TimeProvider _time;
    private readonly long _limit;

    // The queue, appended to under the lock.
    private RentedQueue _queue;

    // Bytes accepted and not yet handed over by a completed transport flush.
    private long _queued;

    // 1 while one caller owns the flush; _flushDone exists only while that flush waits on the transport.
    private int _flushing;
    private TaskCompletionSource? _flushDone;
    private long _flushStartedAt;

    private bool _closeQueued;
    private bool _completed;
    private volatile bool _aborted;
    private volatile bool _broken;

    // The queue's lock is the sender itself (a monitor in its header, never seen outside): one object less per
    // connection than a separate Lock.
    private object Gate => this;

    public ConnectionSender(PipeWriter output, TimeProvider time, long limit)
    {
        _output = output;
        _time = time;
        _limit = limit;
    }

    /// <summary>Bytes waiting to go out (queued, or in a transport flush that has not completed).</summary>
    public long QueuedBytes => Volatile.Read(ref _queued);

    /// <summary>Whether a flush has work to do.</summary>
    public bool HasQueued => Volatile.Read(ref _queued) > 0 && !_aborted && !_broken;

    /// <summary>The <see cref="TimeProvider.GetTimestamp"/> at which the transport flush in flight started waiting
    /// for the client, or 0 when none waits.</summary>
    public long PendingFlushSince => Volatile.Read(ref _flushStartedAt);

    /// <summary>Whether the transport refused a flush (the client is gone) or the sender was aborted.</summary>
    public bool IsBroken => _broken || _aborted;

    /// <summary>The capacity of the array the queue holds (tests: 0 when drained).</summary>
    internal int QueueCapacity
    {
        get
        {
            lock (Gate)
            {
                return _queue.Capacity;
            }
        }
    }


    /// <summary>Queues one frame. <paramref name="bounded"/> frames (data, pongs) are refused with
    /// <see cref="SendOutcome.QueueFull"/> when the queue would pass its bound; keep-alive pings are not.</summary>
    public SendOutcome TryWrite(WebSocketOpcode opcode, ReadOnlySpan<byte> payload, bool bounded)
    {
        int headerLength = FrameWriter.GetHeaderLength(payload.Length, masked: false);
        int size = headerLength + payload.Length;
        lock (Gate)
        {
            if (_completed || _closeQueued || _aborted || _broken)
            {
                return SendOutcome.Closed;
            }

            long queued = Volatile.Read(ref _queued);
            if (bounded && queued > 0 && queued + size > _limit)
            {
                return SendOutcome.QueueFull;
            }

            Span<byte> destination = _queue.GetSpan(size, MinimumQueueSize);
            FrameWriter.WriteHeader(destination, opcode, fin: true, payload.Length);
            payload.CopyTo(destination.Slice(headerLength));
            _queue.Advance(size);
            Commit(size);
            return SendOutcome.Queued;
        }
    }

    /// <summary>Queues the close frame; false when one was already queued (RFC 6455 §5.5.1: one close, then
    /// nothing) or the connection is finishing.</summary>
    public bool TryWriteClose(ushort code, string? reason)
    {
        lock (Gate)
        {
            if (_completed || _closeQueued || _aborted || _broken)
            {
                return false;
            }

            _closeQueued = true;
            int before = _queue.Count;
            FrameWriter.WriteClose(this, code, reason);
            Commit(_queue.Count - before);
            return true;
        }
    }

    /// <summary>Queues bytes that are not a WebSocket frame (the handshake's HTTP response).</summary>
    public bool TryWriteRaw<TState>(TState state, Action<IBufferWriter<byte>, TState> write)
    {
        lock (Gate)
        {
            if (_completed || _closeQueued || _aborted || _broken)
            {
                return false;
            }

            int before = _queue.Count;
            write(this, state);
            Commit(_queue.Count - before);
            return true;
        }
    }

    /// <summary>Moves what is queued into the transport and flushes it, or, when another caller's flush is in flight,
    /// leaves it to that one. Never blocks; the task completes when the flush (this one or the one in flight)
    /// has handed everything over, or at once when there is nothing to do.</summary>
    public Task FlushAsync()
    {
        if (Interlocked.CompareExchange(ref _flushing, 1, 0) != 0)
        {
            return Volatile.Read(ref _flushDone)?.Task ?? Task.CompletedTask;
        }

        return RunFlushAsync();
    }

    /// <summary>Stops sending for good: no flush starts after this, what is queued is dropped. The transport
    /// abort that goes with it ends a flush already waiting.</summary>
    public void Abort()
    {
        _aborted = true;
        try
        {
            _output.CancelPendingFlush();
        }
        catch (ObjectDisposedException)
        {
            // The transport's output has already ended (Kestrel's TLS stream pipe disposes its cancellation source when
            // it completes): no flush is pending, none can start.
        }
    }

    /// <summary>Refuses new frames, flushes what is queued (unless aborted), then completes the transport's output.
    /// The flush can wait on the client; the heartbeat bounds it by aborting the transport.</summary>
    public async Task CompleteAsync()
    {
        lock (Gate)
        {
            _completed = true;
        }

        // Take the flush for good: wait out a flush in flight (it ends on its own or at the abort).
        while (Interlocked.CompareExchange(ref _flushing, 1, 0) != 0)
        {
            if (Volatile.Read(ref _flushDone) is { } done)
            {
                await done.Task.ConfigureAwait(false);
            }
            else
            {
                await Task.Yield();
            }
        }

        try
        {
            await DrainQueueAsync().ConfigureAwait(false);
        }
        finally
        {
            try
            {
                await _output.CompleteAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (TransportErrors.IsSendEnded(ex))
            {
                // The transport is gone already.
            }

            Discard();
        }
    }

    // IBufferWriter<byte> over the queue, for the close frame and raw writes; called under the lock only.
    void IBufferWriter<byte>.Advance(int count) => _queue.Advance(count);

    Memory<byte> IBufferWriter<byte>.GetMemory(int sizeHint) => _queue.GetMemory(sizeHint, MinimumQueueSize);

    Span<byte> IBufferWriter<byte>.GetSpan(int sizeHint) => _queue.GetSpan(sizeHint, MinimumQueueSize);

    private void Commit(int size) => Interlocked.Add(ref _queued, size);

    private async Task RunFlushAsync()
    {
        while (true)
        {
            await DrainQueueAsync().ConfigureAwait(false);
            TaskCompletionSource? done = Interlocked.Exchange(ref _flushDone, null);
            Interlocked.Exchange(ref _flushing, 0);
            done?.TrySetResult();

            // A writer that queued after our last read saw the flush taken and left its frames to us.
            if (!HasQueued || Interlocked.CompareExchange(ref _flushing, 1, 0) != 0)
            {
                return;
            }
        }
    }

    /// <summary>Under the lock: moves what is queued into the transport's buffer and gives the queue's array back.
    /// Returns the number of bytes moved.</summary>
    private int TakeQueued()
    {
        lock (Gate)
        {
            int count = _queue.Count;
            if (count > 0)
            {
                _output.Write(_queue.Pending);
            }

            _queue.Release();
            return count;
        }
    }

    // Runs with the flush owned by the caller.
    private async ValueTask DrainQueueAsync()
    {
        try
        {
            while (!_aborted && !_broken)
            {
                int count = TakeQueued();
                if (count == 0)
                {
                    return;
                }

                if (_aborted)
                {
                    return;
                }

                ValueTask<FlushResult> pending = _output.FlushAsync();
                FlushResult result;
                if (pending.IsCompletedSuccessfully)
                {
                    result = pending.Result;
                }
                else
                {
                    if (Volatile.Read(ref _flushDone) is null)
                    {
                        Volatile.Write(ref _flushDone, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
                    }

                    Volatile.Write(ref _flushStartedAt, Math.Max(1, _time.GetTimestamp()));
                    try
                    {
                        result = await pending.ConfigureAwait(false);
                    }
                    finally
                    {
                        Volatile.Write(ref _flushStartedAt, 0);
                    }
                }

                Interlocked.Add(ref _queued, -count);
                if (result.IsCompleted || result.IsCanceled)
                {
                    _broken = true;
                }
            }
        }
        catch (Exception ex) when (TransportErrors.IsSendEnded(ex))
        {
            _broken = true;
        }
        finally
        {
            if (_aborted || _broken)
            {
                Discard();
            }
        }
    }

    private void Discard()
    {
        lock (Gate)
        {
            _queue.Release();
            Volatile.Write(ref _queued, 0);
        }
    }
}
