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
/// <see cref="TimeProvider.GetTimestamp"/> ticks; fields the heartbeat reads from its own thread are volatile. A mutable
/// struct held in a field of its session (never copied: used through the field or a <c>ref</c>), so that it costs
/// the connection no object of its own.
/// </summary>
internal struct ConnectionTimeouts
{
    private readonly TimeoutSettings _settings;

    // The deadline of the phase: the handshake's, the close's (our close frame awaits its answer), or the finish's
    // (the transport must close). The phases follow one another, so one word holds whichever is running.
    private long _phaseDeadline;
    private long _lastReceive;
    private long _lastMessage;
    private long _pingSentAt;
    private volatile bool _pingOutstanding;

    // The minimum receive rate, as a deadline counted in time spent waiting for the client (a read in progress; not
    // the handler, nor a pause or a throttle, when the server is not reading): an incomplete frame or message begins
    // with the grace period in hand, each byte that arrives adds 1/BytesPerSecond s, and never more than the window is
    // in hand, so whatever was sent early buys at most the window. Kestrel extends its write deadline
    // (MinResponseDataRate) by size over rate the same way, without a cap; a lifetime average (Kestrel's
    // MinRequestBodyDataRate) lets a fast start pay for an hour of trickle; nginx's client_body_timeout bounds the time
    // between reads but lets one byte a minute through. The receive loop keeps the account; the heartbeat reads only
    // _readDeadline, one word, so it never sees half an update.
    private long _unconsumed;
    private bool _partialActive;
    private bool _reading;
    private long _inHand;
    private long _readStartedAt;
    private long _readDeadline = NoDeadline;

    // What the 1008 reports: the bytes and the waiting since the partial began or last had the whole window in hand
    // (so its rate is below the minimum whenever the deadline passes), fixed when the heartbeat gives up.
    private long _measuredBytes;
    private long _measuredWaited;
    private long _shortfallBytes;
    private long _shortfallWaited = -1;

    private const long NoDeadline = long.MaxValue;
    private const long Overdue = long.MinValue;

    public ConnectionTimeouts(TimeoutSettings settings, TimeProvider time)
    {
        _settings = settings;
        _lastReceive = _lastMessage = time.GetTimestamp();
    }

    /// <summary>Whether the handshake deadline has passed.</summary>
    public bool HandshakeExpired(long now) => now >= Volatile.Read(ref _phaseDeadline);

    /// <summary>For the 1008's reason, when the heartbeat gives up on a slow client: the bytes of the incomplete frame or
    /// message that arrived in the last <c>Seconds</c> of waiting (since it began, or since it last had the whole window
    /// in hand: a rate below the minimum whenever its deadline has passed). The first call fixes the answer, so that
    /// the close frame and the error report say the same.</summary>
    public (long Bytes, double Seconds) ReceiveShortfall(long now)
    {
        if (Volatile.Read(ref _shortfallWaited) < 0)
        {
            // A read still waiting counts up to now. Should it end meanwhile, the numbers may mix two reads: they
            // only describe what the deadline decided.
            long reading = Volatile.Read(ref _readDeadline) is NoDeadline or Overdue ? 0 : now - Volatile.Read(ref _readStartedAt);
            Volatile.Write(ref _shortfallBytes, Volatile.Read(ref _measuredBytes));
            Volatile.Write(ref _shortfallWaited, Volatile.Read(ref _measuredWaited) + Math.Max(reading, 0));
        }

        return (Volatile.Read(ref _shortfallBytes), Volatile.Read(ref _shortfallWaited) / _settings.Frequency);
    }

    /// <summary>The handshake timeout starts at the TCP accept.</summary>
    public void StartHandshake(long acceptedAt) => Volatile.Write(ref _phaseDeadline, acceptedAt + _settings.HandshakeTimeout);

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
    public void CloseSent(long now) => Volatile.Write(ref _phaseDeadline, now + _settings.CloseTimeout);

    /// <summary>The connection ended: its transport has <see cref="TradeGatewayOptions.CloseTimeout"/> to close.</summary>
    public void Finishing(long now) => Volatile.Write(ref _phaseDeadline, now + _settings.CloseTimeout);

    /// <summary>Whether the receive loop must timestamp its next read (only while a frame or message is incomplete and
    /// a minimum receive rate is set).</summary>
    public bool TimingReads => _partialActive && _settings.TicksPerByte > 0;

    /// <summary>The receive loop is about to wait for the client: from now the time counts against its deadline.</summary>
    public void ReadStarting(long now)
    {
        if (_settings.TicksPerByte == 0)
        {
            return;
        }

        _readStartedAt = now;
        _reading = true;
        Volatile.Write(ref _readDeadline, _inHand < 0 ? Overdue : now + _inHand);
    }

    /// <summary>After a read's frames were handled: <paramref name="buffered"/> bytes of it are left unconsumed, and
    /// <paramref name="incomplete"/> says whether a frame or fragmented message is waiting for more. Until the next
    /// <see cref="ReadStarting"/> the server is not reading, and no time counts.</summary>
    public void ReadHandled(long now, long readLength, long buffered, bool incomplete)
    {
        long arrived = readLength - _unconsumed;
        _unconsumed = buffered;
        bool timed = _reading;
        _reading = false;
        if (!incomplete || _settings.TicksPerByte == 0)
        {
            _partialActive = incomplete;
            Volatile.Write(ref _readDeadline, NoDeadline);
            return;
        }

        long waited = 0;
        if (!_partialActive)
        {
            _partialActive = true;
            _inHand = _settings.Grace;
            _measuredBytes = _measuredWaited = 0;
        }
        else if (timed)
        {
            waited = now - _readStartedAt;
        }

        // Bytes arrive at the end of the wait: the wait is paid from what was in hand, then the bytes add theirs.
        double inHand = (double)(_inHand - waited) + (arrived * _settings.TicksPerByte);
        if (inHand >= _settings.Window)
        {
            _inHand = _settings.Window;
            Volatile.Write(ref _measuredBytes, 0);
            Volatile.Write(ref _measuredWaited, 0);
        }
        else
        {
            _inHand = (long)inHand;
            Volatile.Write(ref _measuredBytes, _measuredBytes + arrived);
            Volatile.Write(ref _measuredWaited, _measuredWaited + waited);
        }

        // Already behind (the bytes came after the deadline, too few to catch up): due at the next heartbeat.
        Volatile.Write(ref _readDeadline, _inHand < 0 ? Overdue : NoDeadline);
    }

    /// <summary>The server stops waiting for the client without a read (a pause for backpressure began while it
    /// waited): the wait so far counts, and nothing counts from now until the next <see cref="ReadStarting"/>.</summary>
    public void ReadInterrupted(long now)
    {
        if (_reading)
        {
            ReadHandled(now, _unconsumed, _unconsumed, incomplete: _partialActive);
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
        if (pendingFlushSince != 0 && now - pendingFlushSince >= _settings.WriteTimeout && state != ConnectionState.Closed)
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

                if (_settings.IdleTimeout != 0 && now - Volatile.Read(ref _lastMessage) >= _settings.IdleTimeout)
                {
                    return TimeoutAction.Idle;
                }

                if (_settings.KeepAliveInterval == 0)
                {
                    return TimeoutAction.None;
                }

                if (_pingOutstanding)
                {
                    return now - Volatile.Read(ref _pingSentAt) >= _settings.KeepAliveTimeout ? TimeoutAction.KeepAliveTimeout : TimeoutAction.None;
                }

                return now - Volatile.Read(ref _lastReceive) >= _settings.KeepAliveInterval ? TimeoutAction.Ping : TimeoutAction.None;
            case ConnectionState.Closing:
                if (IsReceivingTooSlowly(now))
                {
                    return TimeoutAction.ReceiveTooSlow;
                }

                return now >= Volatile.Read(ref _phaseDeadline) ? TimeoutAction.CloseTimeout : TimeoutAction.None;
            case ConnectionState.Finishing:
                return now >= Volatile.Read(ref _phaseDeadline) ? TimeoutAction.FinishTimeout : TimeoutAction.None;
            default:
                return TimeoutAction.None;
        }
    }

    /// <summary>Whether a read of an incomplete frame or message has waited past its deadline (or the last one
    /// ended behind it).</summary>
    private bool IsReceivingTooSlowly(long now) => now >= Volatile.Read(ref _readDeadline);

}

/// <summary>The deadlines of <see cref="TradeGatewayOptions"/> in <see cref="TimeProvider.GetTimestamp"/> ticks,
/// computed once per gateway and shared by every connection's <see cref="ConnectionTimeouts"/>.</summary>
internal sealed class TimeoutSettings
{
    public TimeoutSettings(TradeGatewayOptions options, TimeProvider time)
    {
        Frequency = time.TimestampFrequency;
        HandshakeTimeout = Ticks(options.HandshakeTimeout);
        CloseTimeout = Ticks(options.CloseTimeout);
        KeepAliveInterval = options.KeepAliveInterval > TimeSpan.Zero ? Ticks(options.KeepAliveInterval) : 0;
        KeepAliveTimeout = Ticks(options.KeepAliveTimeout);
        IdleTimeout = options.IdleTimeout is { } idle ? Ticks(idle) : 0;
        WriteTimeout = Ticks(options.WriteTimeout);
        if (options.MinReceiveRate is { } rate)
        {
            TicksPerByte = Frequency / rate.BytesPerSecond;
            Grace = Ticks(rate.GracePeriod);
            Window = Math.Max(Ticks(rate.Window), Grace);
        }
    }

    public double Frequency { get; }

    public long HandshakeTimeout { get; }

    public long CloseTimeout { get; }

    /// <summary>0 when keep-alive pings are off.</summary>
    public long KeepAliveInterval { get; }

    public long KeepAliveTimeout { get; }

    /// <summary>0 when there is no idle timeout.</summary>
    public long IdleTimeout { get; }

    public long WriteTimeout { get; }

    /// <summary>The minimum receive rate as ticks allowed per byte; 0 when there is none.</summary>
    public double TicksPerByte { get; }

    public long Grace { get; }

    public long Window { get; }

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Frequency);
}
