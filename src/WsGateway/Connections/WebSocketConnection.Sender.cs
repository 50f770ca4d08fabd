using WsGateway.Framing;

namespace WsGateway.Connections;

internal sealed partial class WebSocketConnection
{
    // Every write to the output pipe, and every flush, happens under this gate: replies written by the handler on
    // the receive loop, pongs and closes, keep-alive pings from the heartbeat, SendAsync from other threads.
    // Uncontended, WaitAsync completes synchronously without allocating.
    private readonly SemaphoreSlim _sendGate = new(1, 1);
    private volatile bool _needsFlush;
    private bool _outputCompleted;
    private int _dispatchThreadId;
    private ushort _sentCloseCode;
    private string? _sentCloseReason;

    public bool Send(ReadOnlySpan<byte> message) => Send(message, isText: false);

    public bool Send(ReadOnlySpan<byte> message, bool isText)
    {
        if (_phase != Phase.Open)
        {
            return false;
        }

        bool written = Write(isText ? WebSocketOpcode.Text : WebSocketOpcode.Binary, message, dataFrame: true);
        if (written && _dispatchThreadId != Environment.CurrentManagedThreadId)
        {
            // Not inside a callback of the receive loop, which would flush when the callback returns.
            _ = FlushAsync();
        }

        return written;
    }

    public async ValueTask<bool> SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default)
    {
        if (_phase != Phase.Open)
        {
            return false;
        }

        await _sendGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_outputCompleted || _phase != Phase.Open)
            {
                return false;
            }

            FrameWriter.WriteFrame(_output, WebSocketOpcode.Binary, message.Span);
            _needsFlush = false;
            await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        finally
        {
            _sendGate.Release();
        }
    }

    public void Close(ushort code = CloseStatus.Normal, string? reason = null)
    {
        if (!CloseStatus.IsValidReceivedCode(code))
        {
            throw new ArgumentOutOfRangeException(nameof(code), code, "Expected a close code valid on the wire: 1000-1003, 1007-1014 or 3000-4999");
        }

        if (BeginClose(code, reason, deliverWhileClosing: true) && _dispatchThreadId != Environment.CurrentManagedThreadId)
        {
            _ = FlushAsync();
        }
    }

    /// <summary>Sends a close frame and moves to the closing state, where the loop waits for the client's answer
    /// within <see cref="TradeGatewayOptions.CloseTimeout"/>. False when a close frame was already sent.</summary>
    private bool BeginClose(ushort code, string? reason, bool deliverWhileClosing)
    {
        if (_phase != Phase.Open)
        {
            return false;
        }

        return SendClose(code, reason, deliverWhileClosing);
    }

    private bool SendClose(ushort code, string? reason, bool deliverWhileClosing = false)
    {
        _sendGate.Wait();
        try
        {
            if (_outputCompleted || _phase is Phase.CloseSent or Phase.Closed)
            {
                return false;
            }

            _deliverWhileClosing = deliverWhileClosing;
            Volatile.Write(ref _closeDeadline, _manager.TimeProvider.GetTimestamp() + ToTimestampTicks(_options.CloseTimeout));
            _phase = Phase.CloseSent;
            _sentCloseCode = code;
            _sentCloseReason = reason;
            FrameWriter.WriteClose(_output, code, reason);
            _needsFlush = true;
            return true;
        }
        finally
        {
            _sendGate.Release();
        }
    }

    private void SendControl(WebSocketOpcode opcode, ReadOnlySpan<byte> payload) => Write(opcode, payload, dataFrame: false);

    private bool Write(WebSocketOpcode opcode, ReadOnlySpan<byte> payload, bool dataFrame)
    {
        _sendGate.Wait();
        try
        {
            // After our close frame, nothing but... nothing: RFC 6455 §5.5.1.
            if (_outputCompleted || _phase is Phase.CloseSent or Phase.Closed || (dataFrame && _phase != Phase.Open))
            {
                return false;
            }

            FrameWriter.WriteFrame(_output, opcode, payload);
            _needsFlush = true;
            return true;
        }
        finally
        {
            _sendGate.Release();
        }
    }

    private async ValueTask FlushAsync()
    {
        if (!_needsFlush)
        {
            return;
        }

        await _sendGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_needsFlush && !_outputCompleted)
            {
                _needsFlush = false;
                await _output.FlushAsync().ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (IsTransportException(ex))
        {
            // The read side notices the dead transport too; nothing more to do here.
        }
        finally
        {
            _sendGate.Release();
        }
    }
}
