using WsGateway.Framing;

namespace WsGateway.Connections;

internal sealed partial class WebSocketConnection
{
    private volatile ConnectionState _state;
    private int _transportAborted;
    private volatile AbortReason _abortReason;

    /// <summary>Called by the shared heartbeat (about once a second, on a timer thread): asks the connection's
    /// <see cref="ConnectionTimeouts"/> what is due and carries it out. Never blocks: it only queues a frame, starts a
    /// flush, cancels a read or aborts the transport.</summary>
    /// <param name="now">The heartbeat's timestamp, in <see cref="TimeProvider.GetTimestamp"/> ticks.</param>
    public void OnHeartbeat(long now)
    {
        if (Volatile.Read(ref _transportAborted) != 0)
        {
            return; // given up already: nothing is left to time
        }

        bool stopping = _abortReason != AbortReason.None;
        if (!stopping && IsReceivingPaused && _transport.PeerClosed)
        {
            Abort(AbortReason.ClientLeft);
            return;
        }

        TimeoutAction action = _timeouts.Check(now, _state, _handshake?.IsParsed ?? false, _sender.PendingFlushSince);
        if (IsReceivingPaused && action is TimeoutAction.Ping or TimeoutAction.KeepAliveTimeout or TimeoutAction.Idle or TimeoutAction.ReceiveTooSlow)
        {
            // Paused by backpressure: the client's silence is ours, not its. The ping still goes, as a probe with no
            // answer expected: a client that closed its socket with bytes it could not send (the window is shut while
            // nothing is read) has its FIN queued behind them, and answers the ping with a reset, which the transport
            // sees (PeerClosed at the next heartbeat).
            if (action == TimeoutAction.Ping)
            {
                Ping();
            }

            _timeouts.Received(now);
            return;
        }

        switch (action)
        {
            case TimeoutAction.HandshakeTimeout when !stopping:
                Abort(AbortReason.HandshakeTimeout);
                break;
            case TimeoutAction.CancelValidation:
                _handshake?.CancelValidation();
                break;
            case TimeoutAction.WriteTimeout:
                Metrics.LimitExceeded(LimitNames.WriteTimeout, Diagnostics.GatewayMetrics.ActionClosed);
                Abort(AbortReason.WriteTimeout);
                break;
            case TimeoutAction.ReceiveTooSlow when !stopping:
                // The stream stops mid-frame: failed, so close frame, then TCP closed without waiting for an answer.
                Metrics.LimitExceeded(LimitNames.ReceiveRate, Diagnostics.GatewayMetrics.ActionClosed);
                Metrics.ProtocolError(CloseStatus.PolicyViolation);
                if (SendClose(CloseStatus.PolicyViolation, ReceiveTooSlowReason(now)))
                {
                    _ = _sender.FlushAsync();
                }

                Abort(AbortReason.ReceiveTooSlow);
                break;
            case TimeoutAction.Idle:
                CloseFromTimer(CloseStatus.Normal, "Idle timeout");
                break;
            case TimeoutAction.Ping:
                _timeouts.PingSent(now);
                Ping();
                break;
            case TimeoutAction.KeepAliveTimeout:
                Abort(AbortReason.KeepAliveTimeout);
                break;
            case TimeoutAction.CloseTimeout:
                Abort(AbortReason.CloseTimeout);
                break;
            case TimeoutAction.FinishTimeout:
                Abort(AbortReason.FinishTimeout);
                break;
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
        ResumeReceiving(); // the client's answering close must be read
        if (_state == ConnectionState.Handshake)
        {
            if (_handshake is { IsParsed: true } handshake)
            {
                // Past the request: a running validator is cancelled; a connection that still opens sees the
                // shutdown in Open and is closed with 1001 there.
                handshake.CancelValidation();
            }
            else
            {
                Abort(AbortReason.ShutdownTimeout);
            }

            return;
        }

        if (_state != ConnectionState.Open)
        {
            return;
        }

        CloseFromTimer(CloseStatus.GoingAway, "Server shutting down");
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

        _transport.Input.CancelPendingRead();
        ResumeReceiving(); // a paused loop must see the abort at its next read
        if (GivesUpTransport(reason))
        {
            AbortTransport();
        }
    }

    /// <summary>Whether an abort for <paramref name="reason"/> closes the transport now: every reason but none, a
    /// handshake timeout (answered 408) and a receive too slow (its 1008 queued), which only end the read and let the
    /// last frames go out.</summary>
    private static bool GivesUpTransport(AbortReason reason)
        => reason is not (AbortReason.None or AbortReason.HandshakeTimeout or AbortReason.ReceiveTooSlow);

    private void AbortTransport()
    {
        if (Interlocked.Exchange(ref _transportAborted, 1) != 0)
        {
            return;
        }

        _sender.Abort();
        _transport.Abort(_abortReason == AbortReason.None ? "Connection given up" : _abortReason.ToString());
    }

    /// <summary>The transport saw the client's FIN or reset (native transport: at once, from the event): a connection
    /// paused by backpressure is not read, so would not notice it before it is resumed; it is given up now, its slot
    /// and socket freed. What the client sent after the last read is discarded, never acknowledged. A connection that
    /// is reading sees the end itself. Any thread.</summary>
    public void OnPeerClosed()
    {
        if (_abortReason == AbortReason.None && IsReceivingPaused)
        {
            Abort(AbortReason.ClientLeft);
        }
    }

    /// <summary>The receive loop saw its read cancelled by <see cref="Abort"/>.</summary>
    private void OnAborted()
    {
        AbortReason reason = _abortReason;
        string message = reason switch
        {
            AbortReason.KeepAliveTimeout => $"Keep-alive timeout: no answer to a ping within {Options.KeepAliveTimeout.TotalSeconds:0.###} s",
            AbortReason.CloseTimeout => $"Close timeout: no close frame from the client within {Options.CloseTimeout.TotalSeconds:0.###} s",
            AbortReason.ShutdownTimeout => "Shutdown timeout: the connection was dropped",
            AbortReason.ReceiveTooSlow => ReceiveTooSlowReason(_manager.TimeProvider.GetTimestamp()),
            AbortReason.WriteTimeout => $"Write timeout: the client read nothing for {Options.WriteTimeout.TotalSeconds:0.###} s; the connection was dropped",
            AbortReason.ClientLeft => "Client left while receiving was paused (backpressure): the connection was closed; what it sent after the last read was discarded, unacknowledged",
            _ => "Connection aborted",
        };
        Log.ConnectionAborted(Logger, Id, message);
        _processor?.ReportError(new WsError(reason == AbortReason.ClientLeft ? WsErrorKind.Transport : WsErrorKind.Timeout, message, Id));
        if (reason == AbortReason.ClientLeft)
        {
            _closeInfo ??= new WebSocketCloseInfo(CloseStatus.Abnormal, message, InitiatedByClient: true, Clean: false);
        }

        if (_state == ConnectionState.Closing && reason is AbortReason.CloseTimeout or AbortReason.WriteTimeout)
        {
            _closeInfo ??= new WebSocketCloseInfo(_sentCloseCode, _sentCloseReason, InitiatedByClient: false, Clean: false);
        }

        if (reason == AbortReason.ReceiveTooSlow)
        {
            _closeInfo ??= new WebSocketCloseInfo(CloseStatus.PolicyViolation, message, InitiatedByClient: false, Clean: false);
        }

        _closeInfo ??= new WebSocketCloseInfo(CloseStatus.Abnormal, message, InitiatedByClient: false, Clean: false);
    }

    /// <summary>The 1008's reason: what the incomplete frame or message received in how much waiting, and what
    /// <see cref="TradeGatewayOptions.MinReceiveRate"/> expects. The same text goes in the close frame (its first 123
    /// bytes) and to <c>OnError</c>: the first call fixes the numbers.</summary>
    private string ReceiveTooSlowReason(long now)
    {
        (long bytes, double seconds) = _timeouts.ReceiveShortfall(now);
        return $"Receive rate too low: {bytes} bytes in the last {seconds:0.#} s of waiting, expected at least {Options.MinReceiveRate}";
    }
}
