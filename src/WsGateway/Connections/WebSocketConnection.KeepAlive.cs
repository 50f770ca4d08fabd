using WsGateway.Framing;

namespace WsGateway.Connections;

internal sealed partial class WebSocketConnection
{
    /// <summary>The connection's state machine: handshake → open → closing (our close frame sent) → finishing (the
    /// transport is being closed) → closed (slot given back).</summary>
    private enum Phase
    {
        Handshake,
        Open,
        CloseSent,
        Finishing,
        Closed,
    }

    private volatile Phase _phase;
    private volatile bool _deliverWhileClosing;
    private long _handshakeDeadline;
    private long _closeDeadline;
    private long _finishDeadline;
    private int _transportAborted;
    private string? _slowConsumer;
    private long _lastReceive;
    private long _lastMessage;
    private long _pingSentAt;
    private volatile bool _pingOutstanding;
    private volatile AbortReason _abortReason;

    /// <summary>Called by the shared heartbeat (about once a second, on a timer thread): enforces the handshake,
    /// keep-alive, idle and close timeouts. Never blocks.</summary>
    /// <param name="now">The heartbeat's timestamp, in <see cref="TimeProvider.GetTimestamp"/> ticks.</param>
    public void OnHeartbeat(long now)
    {
        if (CheckWriteTimeout(now))
        {
            return;
        }

        switch (_phase)
        {
            case Phase.Handshake:
                if (now >= _handshakeDeadline)
                {
                    if (_handshakeParsed)
                    {
                        CancelValidation();
                    }
                    else
                    {
                        Abort(AbortReason.HandshakeTimeout);
                    }
                }

                break;
            case Phase.Open:
                if (!CheckReceiveRate(now))
                {
                    CheckOpen(now);
                }

                break;
            case Phase.CloseSent:
                if (CheckReceiveRate(now))
                {
                    break;
                }

                if (now >= Volatile.Read(ref _closeDeadline))
                {
                    Abort(AbortReason.CloseTimeout);
                }

                break;
            case Phase.Finishing:
                if (now >= Volatile.Read(ref _finishDeadline))
                {
                    Abort(AbortReason.FinishTimeout);
                }

                break;
        }
    }

    /// <summary>The write deadline: a flush that has waited on the client for <see cref="TradeGatewayOptions.WriteTimeout"/>
    /// means a client that does not read; the transport is closed (counted as a slow consumer).</summary>
    private bool CheckWriteTimeout(long now)
    {
        long since = _sender.PendingFlushSince;
        if (since == 0 || now - since < ToTimestampTicks(_options.WriteTimeout) || _abortReason != AbortReason.None)
        {
            return false;
        }

        _metrics.LimitExceeded(LimitNames.WriteTimeout, Diagnostics.GatewayMetrics.ActionClosed);
        Abort(AbortReason.WriteTimeout);
        return true;
    }

    /// <summary>The minimum receive rate: an incomplete frame or message that arrives too slowly closes the
    /// connection with 1008 (the stream stops mid-frame, so the connection is failed: close frame, then TCP closed).</summary>
    private bool CheckReceiveRate(long now)
    {
        if (_abortReason != AbortReason.None || !IsReceivingTooSlowly(now))
        {
            return false;
        }

        _metrics.LimitExceeded(LimitNames.ReceiveRate, Diagnostics.GatewayMetrics.ActionClosed);
        _metrics.ProtocolError(CloseStatus.PolicyViolation);
        if (SendClose(CloseStatus.PolicyViolation, "Receive rate too low"))
        {
            _ = _sender.FlushAsync();
        }

        Abort(AbortReason.ReceiveTooSlow);
        return true;
    }

    private void CheckOpen(long now)
    {
        if (_options.IdleTimeout is { } idle && now - Volatile.Read(ref _lastMessage) >= ToTimestampTicks(idle))
        {
            CloseFromTimer(CloseStatus.Normal, "Idle timeout");
            return;
        }

        if (_options.KeepAliveInterval <= TimeSpan.Zero)
        {
            return;
        }

        if (_pingOutstanding)
        {
            if (now - Volatile.Read(ref _pingSentAt) >= ToTimestampTicks(_options.KeepAliveTimeout))
            {
                Abort(AbortReason.KeepAliveTimeout);
            }
        }
        else if (now - Volatile.Read(ref _lastReceive) >= ToTimestampTicks(_options.KeepAliveInterval))
        {
            Volatile.Write(ref _pingSentAt, now);
            _pingOutstanding = true;
            Ping();
        }
    }

    /// <summary>Queues a keep-alive ping (not bounded by the send queue) and starts a flush; never waits. Behind a
    /// flush stuck on the client the ping waits in the queue, and the keep-alive or write timeout ends the connection.</summary>
    private void Ping()
    {
        if (_sender.TryWrite(WebSocketOpcode.Ping, ReadOnlySpan<byte>.Empty, bounded: false) == SendOutcome.Queued)
        {
            _ = _sender.FlushAsync();
        }
    }

    /// <summary>Queues a close frame from outside the receive loop (heartbeat, shutdown) and starts a flush; never
    /// waits on the client.</summary>
    private void CloseFromTimer(ushort code, string reason)
    {
        if (BeginClose(code, reason, deliverWhileClosing: true))
        {
            _ = _sender.FlushAsync();
        }
    }

    /// <summary>Graceful shutdown of this connection: close 1001, and keep delivering what arrives until the
    /// client answers. A connection still in its handshake is dropped.</summary>
    public void CloseForShutdown()
    {
        if (_phase == Phase.Handshake)
        {
            if (_handshakeParsed)
            {
                // Past the request: a running validator is cancelled; a connection that still opens sees the
                // shutdown in RunWebSocketAsync and is closed with 1001 there.
                CancelValidation();
            }
            else
            {
                Abort(AbortReason.ShutdownTimeout);
            }

            return;
        }

        if (_phase != Phase.Open)
        {
            return;
        }

        CloseFromTimer(CloseStatus.GoingAway, "Server shutting down");
    }

    /// <summary>Cancels the handshake validator, if one is running; callbacks run on the thread pool, not on the
    /// heartbeat's thread.</summary>
    private void CancelValidation()
    {
        if (_validation is { } validation)
        {
            try
            {
                _ = validation.CancelAsync();
            }
            catch (ObjectDisposedException)
            {
                // The validator finished in the meantime.
            }
        }
    }

    /// <summary>Stops the connection from outside. A handshake that timed out, or a frame that arrives too slowly,
    /// only has its pending read cancelled (the loop answers 408, or has queued its 1008, and closes TCP after it);
    /// every other reason gives up on the client: the transport is closed now, so
    /// pending and later reads and flushes end, and the loop ends without a closing handshake. Never waits.</summary>
    public void Abort(AbortReason reason)
    {
        if (_abortReason == AbortReason.None)
        {
            _abortReason = reason;
        }

        _input.CancelPendingRead();
        if (reason is not (AbortReason.HandshakeTimeout or AbortReason.ReceiveTooSlow))
        {
            AbortTransport();
        }
    }

    private void AbortTransport()
    {
        if (Interlocked.Exchange(ref _transportAborted, 1) != 0)
        {
            return;
        }

        _sender.Abort();
        _transport.Abort(_abortReason == AbortReason.None ? "Connection given up" : _abortReason.ToString());
    }

    /// <summary>The receive loop saw its read cancelled by <see cref="Abort"/>.</summary>
    private void OnAborted()
    {
        AbortReason reason = _abortReason;
        string message = reason switch
        {
            AbortReason.KeepAliveTimeout => $"Keep-alive timeout: no answer to a ping within {_options.KeepAliveTimeout.TotalSeconds:0.###} s",
            AbortReason.CloseTimeout => $"Close timeout: no close frame from the client within {_options.CloseTimeout.TotalSeconds:0.###} s",
            AbortReason.ShutdownTimeout => "Shutdown timeout: the connection was dropped",
            AbortReason.ReceiveTooSlow => $"Receive rate too low: an incomplete frame or message received {Volatile.Read(ref _partialBytes)} bytes in {Volatile.Read(ref _partialWaited) / (double)_manager.TimeProvider.TimestampFrequency:0.#} s, expected at least {_options.MinReceiveRate}",
            AbortReason.WriteTimeout => $"Write timeout: the client read nothing for {_options.WriteTimeout.TotalSeconds:0.###} s; the connection was dropped",
            _ => "Connection aborted",
        };
        Log.ConnectionAborted(_logger, Id, message);
        _processor.ReportError(new WsError(WsErrorKind.Timeout, message, Id));
        if (_phase == Phase.CloseSent && reason is AbortReason.CloseTimeout or AbortReason.WriteTimeout)
        {
            _closeInfo ??= new WebSocketCloseInfo(_sentCloseCode, _sentCloseReason, InitiatedByClient: false, Clean: false);
        }

        if (reason == AbortReason.ReceiveTooSlow)
        {
            _closeInfo ??= new WebSocketCloseInfo(CloseStatus.PolicyViolation, message, InitiatedByClient: false, Clean: false);
        }

        _closeInfo ??= new WebSocketCloseInfo(CloseStatus.Abnormal, message, InitiatedByClient: false, Clean: false);
    }
}
