namespace WsGateway.Connections;

/// <summary>A connection's place in its lifetime: handshake → open → closing (our close frame sent) → finishing
/// (the last frames go out and the transport closes) → closed (slot given back).</summary>
internal enum ConnectionState
{
    Handshake,
    Open,
    Closing,
    Finishing,
    Closed,
}

/// <summary>What the heartbeat decided for one connection (<see cref="ConnectionTimeouts.Check"/>).</summary>
internal enum TimeoutAction
{
    None,

    /// <summary>The handshake request did not arrive in time: answer 408.</summary>
    HandshakeTimeout,

    /// <summary>The request arrived but the validator is still running at the deadline: cancel it (503).</summary>
    CancelValidation,

    /// <summary>A flush has waited on the client for longer than the write timeout: drop the connection.</summary>
    WriteTimeout,

    /// <summary>An incomplete frame or message arrives slower than the minimum receive rate: close with 1008.</summary>
    ReceiveTooSlow,

    /// <summary>No data message for the idle timeout: close with 1000.</summary>
    Idle,

    /// <summary>Quiet for the keep-alive interval: send a ping.</summary>
    Ping,

    /// <summary>The ping was not answered in time: drop the connection.</summary>
    KeepAliveTimeout,

    /// <summary>Our close frame was not answered in time: drop the connection.</summary>
    CloseTimeout,

    /// <summary>The finished connection's transport did not close in time: abort it.</summary>
    FinishTimeout,
}

/// <summary>
/// Every deadline of one connection, with its own state, in the manner of Kestrel's <c>TimeoutControl</c>: the
/// receive loop and the send side report what happened (a read, a message, a close sent); the shared heartbeat asks
/// <see cref="Check"/> once a second what is due, and the connection carries it out. Timestamps are
/// <see cref="TimeProvider.GetTimestamp"/> ticks; fields the heartbeat reads from its own thread are volatile.
/// </summary>
internal sealed class ConnectionTimeouts
{
    private readonly TradeGatewayOptions _options;
    private readonly double _frequency;
    private readonly long _handshakeTimeout;
    private readonly long _closeTimeout;
    private readonly long _keepAliveInterval;
    private readonly long _keepAliveTimeout;
    private readonly long _idleTimeout;
    private readonly long _writeTimeout;

    private long _handshakeDeadline;
    private long _closeDeadline;
    private long _finishDeadline;
    private long _lastReceive;
    private long _lastMessage;
    private long _pingSentAt;
    private volatile bool _pingOutstanding;

    // The minimum receive rate's clock: while a frame or fragmented message is incomplete, the bytes that arrive and
    // the time spent waiting for them (not the time spent in the handler) add up.
    private long _unconsumed;
    private volatile bool _partialActive;
    private long _partialBytes;
    private long _partialWaited;
    private long _readStartedAt;

    public ConnectionTimeouts(TradeGatewayOptions options, TimeProvider time)
    {
        _options = options;
        _frequency = time.TimestampFrequency;
        _handshakeTimeout = Ticks(options.HandshakeTimeout);
        _closeTimeout = Ticks(options.CloseTimeout);
        _keepAliveInterval = options.KeepAliveInterval > TimeSpan.Zero ? Ticks(options.KeepAliveInterval) : 0;
        _keepAliveTimeout = Ticks(options.KeepAliveTimeout);
        _idleTimeout = options.IdleTimeout is { } idle ? Ticks(idle) : 0;
        _writeTimeout = Ticks(options.WriteTimeout);
        _lastReceive = _lastMessage = time.GetTimestamp();
    }

    /// <summary>Whether the handshake deadline has passed.</summary>
    public bool HandshakeExpired(long now) => now >= Volatile.Read(ref _handshakeDeadline);

    /// <summary>Bytes and seconds the current incomplete frame or message has taken (for the 1008's reason).</summary>
    public (long Bytes, double Seconds) Partial => (Volatile.Read(ref _partialBytes), Volatile.Read(ref _partialWaited) / _frequency);

    /// <summary>The handshake timeout starts at the TCP accept.</summary>
    public void StartHandshake(long acceptedAt) => Volatile.Write(ref _handshakeDeadline, acceptedAt + _handshakeTimeout);

    /// <summary>The WebSocket is open: keep-alive and idle count from now.</summary>
    public void Opened(long now)
    {
        Volatile.Write(ref _lastReceive, now);
        Volatile.Write(ref _lastMessage, now);
    }

    /// <summary>A read brought bytes: any received frame is an answer to the keep-alive.</summary>
    public void Received(long now)
    {
        Volatile.Write(ref _lastReceive, now);
        _pingOutstanding = false;
    }

    /// <summary>A data message was delivered (the idle timeout counts from the last one).</summary>
    public void MessageDelivered() => Volatile.Write(ref _lastMessage, Volatile.Read(ref _lastReceive));

    /// <summary>Our close frame is queued: the client has <see cref="TradeGatewayOptions.CloseTimeout"/> to answer.</summary>
    public void CloseSent(long now) => Volatile.Write(ref _closeDeadline, now + _closeTimeout);

    /// <summary>The connection ended: its transport has <see cref="TradeGatewayOptions.CloseTimeout"/> to close.</summary>
    public void Finishing(long now) => Volatile.Write(ref _finishDeadline, now + _closeTimeout);

    /// <summary>Whether the receive loop must timestamp its next read (only while a frame is incomplete).</summary>
    public bool TimingReads => _partialActive;

    public void ReadStarting(long now) => Volatile.Write(ref _readStartedAt, now);

    /// <summary>After a read's frames were handled: <paramref name="buffered"/> bytes of it are left unconsumed, and
    /// <paramref name="incomplete"/> says whether a frame or fragmented message is waiting for more.</summary>
    public void ReadHandled(long now, long readLength, long buffered, bool incomplete)
    {
        long arrived = readLength - _unconsumed;
        _unconsumed = buffered;
        long started = Volatile.Read(ref _readStartedAt);
        Volatile.Write(ref _readStartedAt, 0);
        if (!incomplete)
        {
            _partialActive = false;
            return;
        }

        if (!_partialActive)
        {
            Volatile.Write(ref _partialBytes, 0);
            Volatile.Write(ref _partialWaited, 0);
            _partialActive = true;
            return;
        }

        Volatile.Write(ref _partialBytes, _partialBytes + arrived);
        if (started != 0)
        {
            Volatile.Write(ref _partialWaited, _partialWaited + (now - started));
        }
    }

    /// <summary>A keep-alive ping was queued.</summary>
    public void PingSent(long now)
    {
        Volatile.Write(ref _pingSentAt, now);
        _pingOutstanding = true;
    }

    /// <summary>What is due now, given the connection's state and its sender's flush in flight (0 when none).</summary>
    public TimeoutAction Check(long now, ConnectionState state, bool handshakeParsed, long pendingFlushSince)
    {
        if (pendingFlushSince != 0 && now - pendingFlushSince >= _writeTimeout && state != ConnectionState.Closed)
        {
            return TimeoutAction.WriteTimeout;
        }

        switch (state)
        {
            case ConnectionState.Handshake:
                if (HandshakeExpired(now))
                {
                    return handshakeParsed ? TimeoutAction.CancelValidation : TimeoutAction.HandshakeTimeout;
                }

                return TimeoutAction.None;
            case ConnectionState.Open:
                if (IsReceivingTooSlowly(now))
                {
                    return TimeoutAction.ReceiveTooSlow;
                }

                if (_idleTimeout != 0 && now - Volatile.Read(ref _lastMessage) >= _idleTimeout)
                {
                    return TimeoutAction.Idle;
                }

                if (_keepAliveInterval == 0)
                {
                    return TimeoutAction.None;
                }

                if (_pingOutstanding)
                {
                    return now - Volatile.Read(ref _pingSentAt) >= _keepAliveTimeout ? TimeoutAction.KeepAliveTimeout : TimeoutAction.None;
                }

                return now - Volatile.Read(ref _lastReceive) >= _keepAliveInterval ? TimeoutAction.Ping : TimeoutAction.None;
            case ConnectionState.Closing:
                if (IsReceivingTooSlowly(now))
                {
                    return TimeoutAction.ReceiveTooSlow;
                }

                return now >= Volatile.Read(ref _closeDeadline) ? TimeoutAction.CloseTimeout : TimeoutAction.None;
            case ConnectionState.Finishing:
                return now >= Volatile.Read(ref _finishDeadline) ? TimeoutAction.FinishTimeout : TimeoutAction.None;
            default:
                return TimeoutAction.None;
        }
    }

    private bool IsReceivingTooSlowly(long now)
    {
        if (_options.MinReceiveRate is not { } rate || !_partialActive)
        {
            return false;
        }

        long started = Volatile.Read(ref _readStartedAt);
        double seconds = (Volatile.Read(ref _partialWaited) + (started != 0 ? now - started : 0)) / _frequency;
        return seconds > rate.GracePeriod.TotalSeconds && Volatile.Read(ref _partialBytes) < rate.BytesPerSecond * seconds;
    }

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * _frequency);
}
