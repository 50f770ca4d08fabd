using System.Buffers;
using System.Diagnostics;
using WsGateway.Framing;

namespace WsGateway.Connections;

/// <summary>What the receive driver does after a read (<see cref="WebSocketConnection.OnRead"/>).</summary>
internal enum ReadStep
{
    /// <summary>Advance past what was consumed (all examined), flush, read again.</summary>
    Continue,

    /// <summary>The rate limit's bucket is empty: advance only past what was consumed (the rest is not examined, so
    /// the next read returns at once), flush, wait for <see cref="ITransportSession.WaitForTokenAsync"/>, read again.
    /// Meanwhile nothing is read, the transport's buffer fills and TCP flow control slows the client.</summary>
    Throttle,

    /// <summary>Advance, flush, and stop reading: the session ends.</summary>
    End,
}

internal sealed partial class WebSocketConnection
{
    private FrameDecoder _decoder;
    private readonly MessageRateLimiter? _rateLimit; // null without a limit
    private long _rawMessages;
    private long _rawHandlerErrors;
    private bool _failed;
    private bool _closeReceived;
    private bool _deliveredInRead;
    private bool _draining;

    // Set while PauseReceiving is in effect: the receive driver waits on it before its next read.
    private TaskCompletionSource? _resumeSignal;

    /// <summary>Size of the array the reassembly buffer holds between messages (tests).</summary>
    internal int MessageBufferCapacity => _decoder.MessageBufferCapacity;

    public bool IsReceivingPaused => Volatile.Read(ref _resumeSignal) is not null;

    /// <summary>The pause in effect, if any: the driver reads again once its task completes.</summary>
    public Task? PausedUntil => Volatile.Read(ref _resumeSignal)?.Task;

    public void PauseReceiving()
    {
        if (Volatile.Read(ref _resumeSignal) is null && _state is ConnectionState.Handshake or ConnectionState.Open)
        {
            Interlocked.CompareExchange(ref _resumeSignal, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), null);
        }
    }

    public void ResumeReceiving() => Interlocked.Exchange(ref _resumeSignal, null)?.TrySetResult();

    /// <summary>The driver resumes after a pause or a throttle: the keep-alive and the receive rate count again from
    /// now, and the bucket is refilled.</summary>
    public void OnReadingResumed()
    {
        long now = _manager.TimeProvider.GetTimestamp();
        _timeouts.Received(now);
        _rateLimit?.Refill(now);
    }

    /// <summary>The driver is about to wait for the client: the minimum receive rate counts the wait.</summary>
    public void OnReadStarting()
    {
        if (_timeouts.TimingReads)
        {
            _timeouts.ReadStarting(_manager.TimeProvider.GetTimestamp());
        }
    }

    /// <summary>The driver stops waiting for the client without reading (a pause began meanwhile): the wait counts up
    /// to now, the pause does not.</summary>
    public void OnReadInterrupted() => _timeouts.ReadInterrupted(_manager.TimeProvider.GetTimestamp());

    /// <summary>A throttled read: counted once per pause, not per message; completes when the bucket holds a token
    /// again. An abort during the wait is seen by the next read, which returns cancelled.</summary>
    public Task WaitForTokenAsync()
    {
        Metrics.LimitExceeded(Diagnostics.GatewayMetrics.LimitMessageRate, Diagnostics.GatewayMetrics.ActionThrottled);
        return Task.Delay(_rateLimit!.TimeToNextToken, _manager.TimeProvider);
    }

    /// <summary>The read was cancelled by <see cref="Abort"/>.</summary>
    public void OnReadCanceled()
    {
        if (!_draining)
        {
            OnAborted();
        }
    }

    /// <summary>
    /// One read's bytes, on the reading thread (the native loop's, inline): every complete frame is parsed in place
    /// and handled, and <paramref name="buffer"/> is left as what was not consumed (the start of an incomplete
    /// frame). Says what the driver does next. Never waits.
    /// </summary>
    /// <param name="buffer">The bytes received and not consumed yet.</param>
    /// <param name="completed">Whether the client's side has ended (nothing follows these bytes).</param>
    public ReadStep OnRead(ref ReadOnlySequence<byte> buffer, bool completed)
    {
        if (_draining)
        {
            // Failed earlier: only the client's answering close (or its end) is looked for.
            return _decoder.Drain(ref buffer) || completed ? ReadStep.End : ReadStep.Continue;
        }

        long now = _manager.TimeProvider.GetTimestamp();
        long readLength = buffer.Length;
        _timeouts.Received(now);
        _rateLimit?.Refill(now);

        TradeMessageProcessor<ITradeMessageHandler> processor = _processor!;
        long messages = processor.MessagesProcessed + _rawMessages;
        long trades = processor.TradesDelivered;
        long decodeErrors = processor.DecodeErrors;
        long handlerErrors = processor.HandlerErrors + _rawHandlerErrors;
        long started = Metrics.DispatchTimingEnabled ? Stopwatch.GetTimestamp() : 0;
        DecodeStep step;
        _dispatchThreadId = Environment.CurrentManagedThreadId;
        try
        {
            var frames = new SessionFrames(this);
            step = _decoder.Decode(ref buffer, ref frames);
        }
        finally
        {
            _dispatchThreadId = 0;
        }

        if (started != 0)
        {
            Metrics.DispatchTook(started, Stopwatch.GetTimestamp());
        }

        if (_deliveredInRead)
        {
            // Once per read, not per message: the idle timeout counts from the read that brought the last message.
            _deliveredInRead = false;
            _timeouts.MessageDelivered();
            if (_readCompletion is not null)
            {
                NotifyReadComplete();
            }
        }

        // What one read brought, added to the gateway's counters: one call per read, not per message.
        Metrics.Received(
            processor.MessagesProcessed + _rawMessages - messages,
            processor.TradesDelivered - trades,
            readLength - buffer.Length,
            processor.DecodeErrors - decodeErrors,
            processor.HandlerErrors + _rawHandlerErrors - handlerErrors);

        _timeouts.ReadHandled(now, readLength, buffer.Length, incomplete: buffer.Length > 0 || _decoder.IsIncomplete);
        if (step == DecodeStep.Throttle)
        {
            return ReadStep.Throttle;
        }

        if (step == DecodeStep.Stop)
        {
            if (!_failed || _closeReceived)
            {
                return ReadStep.End;
            }

            // Failed: skip what is left of the bad frame and look for the client's answering close in what already
            // arrived, then in what follows; TCP is closed right after it (RFC 6455 §7.1.1).
            _decoder.StartDraining();
            if (_decoder.Drain(ref buffer) || completed)
            {
                return ReadStep.End;
            }

            _draining = true;
            return ReadStep.Continue;
        }

        if (completed)
        {
            OnClientVanished(buffer.Length);
            return ReadStep.End;
        }

        return ReadStep.Continue;
    }

    /// <summary>Takes a token for one message; always succeeds without a rate limit or once the connection is
    /// closing (what arrives then is drained as fast as it comes).</summary>
    private bool TryTakeToken() => _state != ConnectionState.Open || _rateLimit is null || _rateLimit.TryTake();

    /// <summary>A data frame starts a message: the rate limit, then whether text is accepted.</summary>
    private FrameStart OnMessageStart(WebSocketOpcode opcode)
    {
        if (!TryTakeToken())
        {
            if (_rateLimit!.Limit.Policy == RateLimitPolicy.Throttle)
            {
                return FrameStart.Throttle;
            }

            RefuseOverRate();
            return FrameStart.Discard;
        }

        if (opcode == WebSocketOpcode.Text && _raw is null)
        {
            ReportAndClose(
                CloseStatus.UnsupportedData,
                WsErrorKind.UnsupportedData,
                "Text message refused: expected binary frames holding SBE messages",
                "Text messages are not accepted");
            return FrameStart.Discard;
        }

        return FrameStart.Deliver;
    }

    /// <summary><see cref="RateLimitPolicy.Close"/>: the message that found the bucket empty is not delivered; the
    /// connection is closed with 1008 and what follows is discarded until the client answers.</summary>
    private void RefuseOverRate()
    {
        MessageRateLimit rate = _rateLimit!.Limit;
        string limit = rate.ToString();
        Log.RateLimitExceeded(Logger, Id, limit);
        Metrics.LimitExceeded(Diagnostics.GatewayMetrics.LimitMessageRate, Diagnostics.GatewayMetrics.ActionClosed);
        long number = _processor!.MessagesProcessed + _rawMessages + 1;
        _processor!.ReportError(new WsError(
            WsErrorKind.PolicyViolation,
            $"Message rate limit exceeded: more than {rate.MessagesPerSecond:0.###} messages per second (burst {rate.Burst}); the message was not delivered",
            Id,
            number,
            CloseCode: CloseStatus.PolicyViolation));
        BeginClose(CloseStatus.PolicyViolation, "Message rate limit exceeded", deliverWhileClosing: false);
    }

    /// <summary>Tells an <see cref="IReadCompletionHandler"/> that the read's messages were delivered.</summary>
    private void NotifyReadComplete()
    {
        try
        {
            _readCompletion!.OnReadComplete();
        }
        catch (Exception ex)
        {
            OnHandlerException(ex, _processor!.MessagesProcessed + _rawMessages);
        }
    }

    /// <summary>Hands one complete message to the raw handler or the SBE processor.</summary>
    private bool Deliver(ReadOnlySpan<byte> payload, bool isText)
    {
        _deliveredInRead = true;
        if (_raw is not null)
        {
            long number = ++_rawMessages;
            try
            {
                _raw.OnMessage(payload, isText);
            }
            catch (Exception ex)
            {
                return OnHandlerException(ex, number);
            }

            return true;
        }

        if (_processor!.Process(payload) == ProcessResult.HandlerFailed)
        {
            ApplyHandlerErrorPolicy();
        }

        return true;
    }

    /// <summary>Reports a handler exception thrown outside the processor and applies the handler error policy.</summary>
    private bool OnHandlerException(Exception ex, long messageNumber)
    {
        _rawHandlerErrors++;
        _processor!.ReportError(new WsError(WsErrorKind.Handler, $"Handler threw {ex.GetType().Name}: {ex.Message}", Id, messageNumber, Exception: ex));
        ApplyHandlerErrorPolicy();
        return true;
    }

    /// <summary>Under <see cref="HandlerErrorPolicy.Close"/>, starts closing with 1011; later messages are not
    /// delivered. The loop goes on until the client answers the close.</summary>
    private void ApplyHandlerErrorPolicy()
    {
        Log.HandlerFailed(Logger, Id);
        if (Options.HandlerErrorPolicy == HandlerErrorPolicy.Close && _state == ConnectionState.Open)
        {
            BeginClose(CloseStatus.InternalError, "Handler error", deliverWhileClosing: false);
        }
    }

    /// <summary>Ping, pong and close (RFC 6455 §5.5). Returns a step to stop with, or null to go on.</summary>
    private DecodeStep? OnControl(WebSocketOpcode opcode, ReadOnlySpan<byte> payload)
    {
        switch (opcode)
        {
            case WebSocketOpcode.Ping:
                if (_state == ConnectionState.Open)
                {
                    SendControl(WebSocketOpcode.Pong, payload);
                }

                return null;
            case WebSocketOpcode.Pong:
                return null; // any received frame already counted as the keep-alive answer
            default:
                return HandleClose(payload);
        }
    }

    private DecodeStep HandleClose(ReadOnlySpan<byte> payload)
    {
        _closeReceived = true;
        CloseParseResult parsed = CloseStatus.Parse(payload, out ushort code, out ReadOnlySpan<byte> reasonBytes);
        if (parsed == CloseParseResult.ProtocolError)
        {
            return Fail(CloseStatus.ProtocolError, WsErrorKind.Protocol, payload.Length == 1
                ? "Close frame with a 1-byte payload: expected none, or a 2-byte status code"
                : $"Close frame with status code {code}, which is not valid on the wire");
        }

        if (parsed == CloseParseResult.InvalidPayload)
        {
            return Fail(CloseStatus.InvalidPayload, WsErrorKind.InvalidPayload, "Close reason is not valid UTF-8");
        }

        string? reason = reasonBytes.IsEmpty ? null : System.Text.Encoding.UTF8.GetString(reasonBytes);
        if (_state == ConnectionState.Open)
        {
            // The client closes first: answer with the same code (1000 when it sent none) and close TCP.
            ushort echo = code == CloseStatus.NoStatus ? CloseStatus.Normal : code;
            SendClose(echo, null);
            _closeInfo = new WebSocketCloseInfo(code, reason, InitiatedByClient: true, Clean: true);
        }
        else
        {
            // The answer to our own close frame: the handshake is complete.
            _closeInfo = new WebSocketCloseInfo(_sentCloseCode, _sentCloseReason, InitiatedByClient: false, Clean: true);
        }

        return DecodeStep.Stop;
    }

    /// <summary>Fails the connection (RFC 6455 §7.1.7): reports, sends a close frame with the code, and closes TCP
    /// without waiting, because the byte stream can no longer be trusted.</summary>
    private DecodeStep Fail(ushort code, WsErrorKind kind, string message)
    {
        Log.ProtocolError(Logger, Id, code, message);
        Metrics.ProtocolError(code);
        _failed = true;

        // The error names the close code only when this close frame went out: after an earlier close of ours (a 1003
        // or 1001 awaiting its answer) no second one is sent.
        bool sent = SendClose(code, Truncate(message));
        _processor!.ReportError(new WsError(kind, message, Id, CloseCode: sent ? code : null));
        _closeInfo ??= new WebSocketCloseInfo(code, message, InitiatedByClient: false, Clean: false);
        return DecodeStep.Stop;
    }

    /// <summary>Starts the closing handshake because of something the client did wrong at the message level; the
    /// stream stays readable, so the loop goes on until the client answers.</summary>
    private void ReportAndClose(ushort code, WsErrorKind? kind, string message, string closeReason)
    {
        bool sent = BeginClose(code, closeReason, deliverWhileClosing: false);
        if (kind is { } k)
        {
            Log.ProtocolError(Logger, Id, code, message);
            Metrics.ProtocolError(code);
            _processor!.ReportError(new WsError(k, message, Id, CloseCode: sent ? code : null));
        }
    }

    private static string Truncate(string reason) => reason.Length <= 100 ? reason : reason[..100];

    private void OnClientVanished(long unconsumed)
    {
        if (_state == ConnectionState.Closed)
        {
            return;
        }

        if (unconsumed > 0 || _decoder.PayloadRemaining > 0 || _decoder.InMessage)
        {
            string message = _decoder.PayloadRemaining > 0
                ? $"Client disconnected in the middle of a frame: {_decoder.PayloadRemaining} payload bytes missing"
                : _decoder.InMessage
                    ? "Client disconnected in the middle of a fragmented message"
                    : $"Client disconnected in the middle of a frame: {unconsumed} bytes of an incomplete frame";
            _processor!.ReportError(new WsError(WsErrorKind.Transport, message, Id));
        }

        _closeInfo ??= new WebSocketCloseInfo(CloseStatus.Abnormal, null, InitiatedByClient: _state == ConnectionState.Open, Clean: false);
    }

    /// <summary>The decoder's view of this session: a struct, so that its calls are direct.</summary>
    private readonly struct SessionFrames(WebSocketConnection session) : IFrameHandler
    {
        public bool IsOpen => session._state == ConnectionState.Open;

        public bool IsDiscarding => session._state != ConnectionState.Open && !session._deliverWhileClosing;

        public bool AcceptsText => session._raw is not null;

        public int SmallFrameLimit => session._rateLimit is not null ? -1 : Math.Min(125, session.Options.MaxMessageSize);

        public bool TryTakeToken() => session.TryTakeToken();

        public FrameStart OnMessageStart(WebSocketOpcode opcode) => session.OnMessageStart(opcode);

        public bool OnMessage(ReadOnlySpan<byte> payload, bool isText) => session.Deliver(payload, isText);

        public DecodeStep? OnControl(WebSocketOpcode opcode, ReadOnlySpan<byte> payload) => session.OnControl(opcode, payload);

        public DecodeStep Fail(ushort code, WsErrorKind kind, string message) => session.Fail(code, kind, message);
    }
}
