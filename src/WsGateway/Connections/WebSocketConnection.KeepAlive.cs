using WsGateway.Framing;

namespace WsGateway.Connections;

internal sealed partial class WebSocketConnection
{
    private enum Phase
    {
        Handshake,
        Open,
        CloseSent,
        Closed,
    }

    private volatile Phase _phase;
    private volatile bool _deliverWhileClosing;
    private long _handshakeDeadline;
    private long _closeDeadline;
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
                CheckOpen(now);
                break;
            case Phase.CloseSent:
                if (now >= Volatile.Read(ref _closeDeadline))
                {
                    Abort(AbortReason.CloseTimeout);
                }

                break;
        }
    }

    private void CheckOpen(long now)
    {
        if (_options.IdleTimeout is { } idle && now - Volatile.Read(ref _lastMessage) >= ToTimestampTicks(idle))
        {
            _ = CloseFromTimerAsync(CloseStatus.Normal, "Idle timeout");
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
            _ = PingAsync();
        }
    }

    private async Task PingAsync()
    {
        if (_sendGate.CurrentCount == 0)
        {
            // Something is being sent right now (possibly stuck on a client that does not read): the keep-alive
            // timeout will catch a dead peer without a ping of ours queued behind it.
            return;
        }

        SendControl(WebSocketOpcode.Ping, ReadOnlySpan<byte>.Empty);
        await FlushAsync().ConfigureAwait(false);
    }

    private async Task CloseFromTimerAsync(ushort code, string reason)
    {
        if (BeginClose(code, reason, deliverWhileClosing: true))
        {
            await FlushAsync().ConfigureAwait(false);
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

        _ = CloseFromTimerAsync(CloseStatus.GoingAway, "Server shutting down");
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

    /// <summary>Stops the connection's loop from outside: a pending read (or flush) returns at once and the loop
    /// ends without a closing handshake.</summary>
    public void Abort(AbortReason reason)
    {
        _abortReason = reason;
        _input.CancelPendingRead();
        _output.CancelPendingFlush();
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
            _ => "Connection aborted",
        };
        Log.ConnectionAborted(_logger, Id, message);
        _processor.ReportError(new WsError(WsErrorKind.Timeout, message, Id));
        if (_phase == Phase.CloseSent && reason == AbortReason.CloseTimeout)
        {
            _closeInfo ??= new WebSocketCloseInfo(_sentCloseCode, _sentCloseReason, InitiatedByClient: false, Clean: false);
        }

        _closeInfo ??= new WebSocketCloseInfo(CloseStatus.Abnormal, message, InitiatedByClient: false, Clean: false);
    }
}
