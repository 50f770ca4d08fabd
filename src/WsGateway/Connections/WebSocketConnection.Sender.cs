using WsGateway.Framing;

namespace WsGateway.Connections;

internal sealed partial class WebSocketConnection
{
    // The close handshake: the close frame we sent (its answer completes it), and how the connection ended.
    private ushort _sentCloseCode;
    private volatile bool _deliverWhileClosing;
    private string? _sentCloseReason;
    private WebSocketCloseInfo? _closeInfo;

    // The thread inside a read's callbacks (0 outside): a send from there is flushed when the read's callbacks return.
    private int _dispatchThreadId;

    /// <summary>The capacity of the outbound queue's array (tests: 0 once drained).</summary>
    internal int SendQueueCapacity => _sender.QueueCapacity;

    public bool Send(ReadOnlySpan<byte> message) => Send(message, isText: false);

    public bool Send(ReadOnlySpan<byte> message, bool isText)
    {
        if (_state != ConnectionState.Open || !Queue(isText ? WebSocketOpcode.Text : WebSocketOpcode.Binary, message))
        {
            return false;
        }

        if (_dispatchThreadId != Environment.CurrentManagedThreadId)
        {
            // Not inside a callback of the receive loop, which flushes when the callback returns.
            _ = _sender.FlushAsync();
        }

        return true;
    }

    public async ValueTask<bool> SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (_state != ConnectionState.Open || !Queue(WebSocketOpcode.Binary, message.Span))
        {
            return false;
        }

        Task flush = _sender.FlushAsync();
        if (!flush.IsCompleted)
        {
            await flush.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        return !_sender.IsBroken;
    }

    public void Close(ushort code = CloseStatus.Normal, string? reason = null)
    {
        if (!CloseStatus.IsValidReceivedCode(code))
        {
            throw new ArgumentOutOfRangeException(nameof(code), code, "Expected a close code valid on the wire: 1000-1003, 1007-1014 or 3000-4999");
        }

        if (BeginClose(code, reason, deliverWhileClosing: true) && _dispatchThreadId != Environment.CurrentManagedThreadId)
        {
            _ = _sender.FlushAsync();
        }
    }

    /// <summary>Queues a data frame or pong; a full queue applies the slow-consumer policy.</summary>
    private bool Queue(WebSocketOpcode opcode, ReadOnlySpan<byte> payload)
    {
        SendOutcome outcome = _sender.TryWrite(opcode, payload, bounded: true);
        if (outcome == SendOutcome.QueueFull)
        {
            OnSendQueueFull(payload.Length);
        }

        return outcome == SendOutcome.Queued;
    }

    /// <summary>The slow-consumer policy: the client does not read what it is sent, and the outbound queue reached
    /// <see cref="TradeGatewayOptions.MaxSendQueueSize"/>. The frame is dropped, the connection is closed with 1008
    /// (counted); if even the close cannot reach the client, the close timeout or the write timeout closes TCP.</summary>
    private void OnSendQueueFull(int size)
    {
        if (!BeginClose(CloseStatus.PolicyViolation, "Send queue full: the client does not read", deliverWhileClosing: false))
        {
            return;
        }

        string message = $"Send queue full: {_sender.QueuedBytes} bytes wait for the client and a {size}-byte frame would pass the {Options.MaxSendQueueSize}-byte limit (MaxSendQueueSize); closing with 1008";
        Log.SlowConsumer(Logger, Id, message);
        Metrics.LimitExceeded(LimitNames.SendQueue, Diagnostics.GatewayMetrics.ActionClosed);
        Metrics.ProtocolError(CloseStatus.PolicyViolation);
        if (_dispatchThreadId != Environment.CurrentManagedThreadId)
        {
            _ = _sender.FlushAsync();
        }
    }

    /// <summary>Sends a close frame and moves to the closing state, where the loop waits for the client's answer
    /// within <see cref="TradeGatewayOptions.CloseTimeout"/>. False when a close frame was already sent.</summary>
    private bool BeginClose(ushort code, string? reason, bool deliverWhileClosing)
    {
        if (_state != ConnectionState.Open)
        {
            return false;
        }

        return SendClose(code, reason, deliverWhileClosing);
    }

    private bool SendClose(ushort code, string? reason, bool deliverWhileClosing = false)
    {
        if (_state is ConnectionState.Closing or ConnectionState.Finishing or ConnectionState.Closed)
        {
            return false;
        }

        // The deadline is set before the frame can reach the client, whose answer ends the loop.
        _timeouts.CloseSent(_manager.TimeProvider.GetTimestamp());
        if (!_sender.TryWriteClose(code, reason))
        {
            return false;
        }

        _deliverWhileClosing = deliverWhileClosing;
        _sentCloseCode = code;
        _sentCloseReason = reason;
        if (_state == ConnectionState.Open)
        {
            _state = ConnectionState.Closing;
        }

        return true;
    }

    private void SendControl(WebSocketOpcode opcode, ReadOnlySpan<byte> payload) => Queue(opcode, payload);

    /// <summary>The receive driver's flush after a read: hands the replies of that read to the transport; the driver
    /// reads again only once it completes (backpressure: a client that does not read its replies stalls its own
    /// connection, and the write timeout or the queue bound ends it).</summary>
    public Task FlushAsync() => _sender.HasQueued ? _sender.FlushAsync() : Task.CompletedTask;
}
