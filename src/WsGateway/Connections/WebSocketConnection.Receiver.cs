using System.Buffers.Binary;
using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Runtime.InteropServices;
using WsGateway.Framing;

namespace WsGateway.Connections;

internal sealed partial class WebSocketConnection
{
    /// <summary>Frames up to this size that are not complete in the buffer yet are waited for whole (then handed
    /// over in place); larger ones are streamed into the message buffer as they arrive, so that a frame larger
    /// than the pipe's pause threshold can never stall the connection.</summary>
    internal const int WaitWholeFrameLimit = 16 * 1024;

    private const int MaxControlPayload = 125;

    // A masked frame with a 7-bit length: 2 header bytes and the 4-byte mask key.
    private const int SmallHeaderLength = 6;
    private const int MaxSmallPayload = 125;

    private enum Step
    {
        NeedMoreData,
        Stop,

        /// <summary>The rate limit's bucket is empty (<see cref="RateLimitPolicy.Throttle"/>): nothing more is
        /// consumed until it refills.</summary>
        Throttle,
    }

    private enum FrameStart
    {
        Deliver,
        Discard,
        Stop,
        Throttle,
    }

    private readonly MessageBuffer _message;

    /// <summary>Size of the array the reassembly buffer holds between messages (tests).</summary>
    internal int MessageBufferCapacity => _message.Capacity;
    private Utf8Validator _utf8;

    // The frame being streamed (payload larger than what the buffer holds).
    private long _payloadRemaining;
    private int _frameMaskKey;
    private int _frameMaskOffset;
    private bool _frameFin;
    private bool _frameDiscard;

    // The fragmented message being reassembled.
    private bool _inMessage;
    private bool _messageIsText;
    private long _rawMessages;
    private long _rawHandlerErrors;
    private (long Messages, long Trades, long DecodeErrors, long HandlerErrors) _reported;
    private bool _failed;
    private bool _closeReceived;
    private bool _deliveredInRead;
    private long _drainSkip;

    // Token bucket of the message rate limit: refilled from the read's timestamp, one token taken per message;
    // touched only by the receive loop, so no lock.
    private readonly MessageRateLimit? _rateLimit;
    private double _tokens;
    private long _tokensAt;

    // Set while PauseReceiving is in effect: the receive loop waits on it before its next read.
    private TaskCompletionSource? _resumeSignal;

    public bool IsReceivingPaused => Volatile.Read(ref _resumeSignal) is not null;

    public void PauseReceiving()
    {
        if (Volatile.Read(ref _resumeSignal) is null && _state is ConnectionState.Handshake or ConnectionState.Open)
        {
            Interlocked.CompareExchange(ref _resumeSignal, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), null);
        }
    }

    public void ResumeReceiving() => Interlocked.Exchange(ref _resumeSignal, null)?.TrySetResult();

    /// <summary>Waits while receiving is paused; the keep-alive and the receive rate count again from the resume.</summary>
    private async Task WaitWhilePausedAsync(TaskCompletionSource signal)
    {
        await signal.Task.ConfigureAwait(false);
        _timeouts.Received(_manager.TimeProvider.GetTimestamp());
    }

    private async Task ReceiveLoopAsync()
    {
        while (true)
        {
            if (Volatile.Read(ref _resumeSignal) is { } paused)
            {
                await WaitWhilePausedAsync(paused).ConfigureAwait(false);
            }

            if (_timeouts.TimingReads)
            {
                _timeouts.ReadStarting(_manager.TimeProvider.GetTimestamp());
            }

            ReadResult result = await _input.ReadAsync().ConfigureAwait(false);
            if (result.IsCanceled)
            {
                OnAborted();
                return;
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            long now = _manager.TimeProvider.GetTimestamp();
            long readLength = buffer.Length;
            _timeouts.Received(now);
            if (_rateLimit is not null)
            {
                RefillTokens(now);
            }

            long started = _metrics.DispatchTimingEnabled ? Stopwatch.GetTimestamp() : 0;
            long before = buffer.Length;
            Step step = ProcessFrames(ref buffer);
            if (started != 0)
            {
                _metrics.DispatchTook(started, Stopwatch.GetTimestamp());
            }

            ReportReceived(before - buffer.Length);
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

            _timeouts.ReadHandled(now, readLength, buffer.Length, incomplete: buffer.Length > 0 || _payloadRemaining > 0 || _inMessage);
            if (step == Step.Throttle)
            {
                // Whole frames are left in the pipe: examined only up to them, so the next read returns at once.
                // Meanwhile nothing is read, the pipe fills and TCP flow control slows the client.
                _input.AdvanceTo(buffer.Start);
                await FlushAsync().ConfigureAwait(false);
                await WaitForTokenAsync().ConfigureAwait(false);
                continue;
            }

            if (step == Step.Stop && _failed && !_closeReceived)
            {
                // Failed: skip what is left of the bad frame and look for the client's answering close in what
                // already arrived; closing TCP right after it (RFC 6455 §7.1.1).
                _drainSkip = _payloadRemaining;
                _payloadRemaining = 0;
                bool answered = DrainFrames(ref buffer);
                _input.AdvanceTo(buffer.Start, buffer.End);
                await FlushAsync().ConfigureAwait(false);
                if (!answered && !result.IsCompleted)
                {
                    await DrainAsync().ConfigureAwait(false);
                }

                return;
            }

            // Everything was examined; what was not consumed is a partial frame waiting for more bytes.
            _input.AdvanceTo(buffer.Start, buffer.End);
            await FlushAsync().ConfigureAwait(false);

            if (step == Step.Stop)
            {
                return;
            }

            if (result.IsCompleted)
            {
                OnClientVanished(buffer.Length);
                return;
            }
        }
    }

    private void RefillTokens(long now)
    {
        double elapsed = (now - _tokensAt) / (double)_manager.TimeProvider.TimestampFrequency;
        _tokensAt = now;
        if (elapsed > 0)
        {
            _tokens = Math.Min(_rateLimit!.Burst, _tokens + (elapsed * _rateLimit.MessagesPerSecond));
        }
    }

    /// <summary>Takes a token for one message; always succeeds without a rate limit or once the connection is
    /// closing (what arrives then is drained as fast as it comes).</summary>
    private bool TryTakeToken()
    {
        if (_rateLimit is null || _state != ConnectionState.Open)
        {
            return true;
        }

        if (_tokens >= 1)
        {
            _tokens -= 1;
            return true;
        }

        return false;
    }

    /// <summary>Waits until the bucket holds a token again (one timer per pause, not per message). An abort during
    /// the wait is seen by the next read, which returns cancelled.</summary>
    private async Task WaitForTokenAsync()
    {
        _metrics.LimitExceeded(Diagnostics.GatewayMetrics.LimitMessageRate, Diagnostics.GatewayMetrics.ActionThrottled);
        double seconds = Math.Max(0.001, (1 - _tokens) / _rateLimit!.MessagesPerSecond);
        await Task.Delay(TimeSpan.FromSeconds(seconds), _manager.TimeProvider).ConfigureAwait(false);
        RefillTokens(_manager.TimeProvider.GetTimestamp());
    }

    /// <summary>Adds what one read brought to the gateway's counters: one call per read, not per message.</summary>
    private void ReportReceived(long bytes)
    {
        long messages = _processor.MessagesProcessed + _rawMessages;
        long trades = _processor.TradesDelivered;
        long decodeErrors = _processor.DecodeErrors;
        long handlerErrors = _processor.HandlerErrors + _rawHandlerErrors;
        _metrics.Received(messages - _reported.Messages, trades - _reported.Trades, bytes, decodeErrors - _reported.DecodeErrors, handlerErrors - _reported.HandlerErrors);
        _reported = (messages, trades, decodeErrors, handlerErrors);
    }

    /// <summary>After failing the connection, reads and discards what the client still sends until its answering
    /// close frame, its side's close, or <see cref="TradeGatewayOptions.CloseTimeout"/> (a lingering close): closing
    /// a socket with unread bytes makes the kernel send a reset, and the client could lose our close frame with the
    /// reason in it. Once the client's close arrives the server closes TCP at once (RFC 6455 §7.1.1).</summary>
    private async Task DrainAsync()
    {
        while (true)
        {
            ReadResult result = await _input.ReadAsync().ConfigureAwait(false);
            if (result.IsCanceled)
            {
                _input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                return;
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            bool answered = DrainFrames(ref buffer);
            _input.AdvanceTo(buffer.Start, buffer.End);
            if (answered || result.IsCompleted)
            {
                return;
            }
        }
    }

    /// <summary>Skips frames after a failure, reading only their lengths (the stream broke a rule, so the frame
    /// checks no longer apply); true when a close frame begins. What cannot be read as frames is skipped until the
    /// client closes or the close timeout passes.</summary>
    private bool DrainFrames(ref ReadOnlySequence<byte> buffer)
    {
        Span<byte> head = stackalloc byte[FrameReader.MaxHeaderLength];
        while (true)
        {
            if (_drainSkip > 0)
            {
                long skip = Math.Min(_drainSkip, buffer.Length);
                buffer = buffer.Slice(skip);
                _drainSkip -= skip;
                if (_drainSkip > 0)
                {
                    return false;
                }
            }

            int available = (int)Math.Min(buffer.Length, head.Length);
            if (available < 2)
            {
                return false;
            }

            buffer.Slice(0, available).CopyTo(head);
            if ((head[0] & 0x0F) == (int)WebSocketOpcode.Close)
            {
                return true;
            }

            if (!FrameReader.TryReadExtent(head[..available], out int headerLength, out long length))
            {
                return false; // the header's end has not arrived
            }

            buffer = buffer.Slice(headerLength);
            _drainSkip = length;
        }
    }

    /// <summary>Parses and handles every complete frame in <paramref name="buffer"/>, in place; on return the
    /// buffer is what is left unconsumed.</summary>
    private Step ProcessFrames(ref ReadOnlySequence<byte> buffer)
    {
        _dispatchThreadId = Environment.CurrentManagedThreadId;
        try
        {
            while (true)
            {
                if (_payloadRemaining == 0 && !_inMessage && _state == ConnectionState.Open)
                {
                    int consumed = DeliverWholeFramesInFirstSegment(buffer, out bool stop);
                    if (consumed > 0)
                    {
                        buffer = buffer.Slice(consumed);
                    }

                    if (stop)
                    {
                        return Step.Stop;
                    }
                }

                if (_payloadRemaining > 0)
                {
                    if (buffer.IsEmpty)
                    {
                        return Step.NeedMoreData;
                    }

                    if (!ContinueStreamedPayload(ref buffer))
                    {
                        return Step.Stop;
                    }

                    if (_payloadRemaining > 0)
                    {
                        return Step.NeedMoreData;
                    }

                    if (!EndStreamedFrame())
                    {
                        return Step.Stop;
                    }

                    continue;
                }

                FrameParseStatus status = FrameReader.TryReadHeader(buffer, requireMask: true, _options.MaxMessageSize, out FrameHeader header, out string? error);
                switch (status)
                {
                    case FrameParseStatus.Incomplete:
                        return Step.NeedMoreData;
                    case FrameParseStatus.ProtocolError:
                        return Fail(CloseStatus.ProtocolError, WsErrorKind.Protocol, error ?? "Invalid frame header");
                    case FrameParseStatus.TooLarge:
                        return Fail(CloseStatus.MessageTooBig, WsErrorKind.MessageTooBig, error ?? $"Frame larger than the {_options.MaxMessageSize}-byte message limit");
                }

                long total = header.HeaderLength + header.PayloadLength;
                if (header.IsControl)
                {
                    if (buffer.Length < total)
                    {
                        return Step.NeedMoreData;
                    }

                    Step? controlStep = HandleControlFrame(header, buffer.Slice(header.HeaderLength, (int)header.PayloadLength));
                    buffer = buffer.Slice(total);
                    if (controlStep is { } stop)
                    {
                        return stop;
                    }

                    continue;
                }

                // A small frame that has not fully arrived is waited for whole before any state changes, so that its
                // header is checked (and its rate-limit token taken) exactly once.
                // Text is streamed instead, so that invalid UTF-8 fails as soon as its byte arrives.
                if (buffer.Length < total && total <= WaitWholeFrameLimit && !IsText(header))
                {
                    return Step.NeedMoreData;
                }

                FrameStart start = BeginDataFrame(header);
                if (start == FrameStart.Stop)
                {
                    return Step.Stop;
                }

                if (start == FrameStart.Throttle)
                {
                    return Step.Throttle;
                }

                bool discard = start == FrameStart.Discard;

                // The common case: a whole single-frame message in one buffer segment. Unmask in place and hand the
                // span to the handler: no copy.
                if (!discard && !_inMessage && header.Fin && buffer.FirstSpan.Length >= total)
                {
                    Span<byte> payload = MemoryMarshal.AsMemory(buffer.First).Span.Slice(header.HeaderLength, (int)header.PayloadLength);
                    Masking.Apply(payload, header.MaskKey, 0);
                    buffer = buffer.Slice(total);
                    if (!DeliverWhole(payload, header.Opcode == WebSocketOpcode.Text))
                    {
                        return Step.Stop;
                    }

                    continue;
                }

                // Fragmented, spread over segments, or large: copy into the message buffer as the bytes come.
                buffer = buffer.Slice(header.HeaderLength);
                _payloadRemaining = header.PayloadLength;
                _frameMaskKey = header.MaskKey;
                _frameMaskOffset = 0;
                _frameFin = header.Fin;
                _frameDiscard = discard;
                if (_payloadRemaining == 0 && !EndStreamedFrame())
                {
                    return Step.Stop;
                }
            }
        }
        finally
        {
            _dispatchThreadId = 0;
        }
    }

    /// <summary>
    /// The hot loop: walks the first buffer segment as one span and hands every whole, unfragmented data frame in it
    /// to the handler, unmasked in place, without touching the <see cref="ReadOnlySequence{T}"/> per frame. It stops at
    /// the first frame it cannot take whole (control frame, fragment, refused text, a frame that continues in the next
    /// segment, or any header problem) and leaves that to the general path, which reports errors.
    /// </summary>
    /// <returns>The number of bytes consumed from the start of <paramref name="buffer"/>.</returns>
    private int DeliverWholeFramesInFirstSegment(in ReadOnlySequence<byte> buffer, out bool stop)
    {
        stop = false;
        Span<byte> span = MemoryMarshal.AsMemory(buffer.First).Span;
        int offset = 0;
        int smallLimit = _rateLimit is null ? Math.Min(MaxSmallPayload, _options.MaxMessageSize) : -1;
        while (span.Length - offset >= 2 && _state == ConnectionState.Open)
        {
            // The common frame, told by two bytes: final, binary, masked, payload under 126 bytes (a trade, or a batch
            // of up to four), whole in the buffer. No rate limit to consult (smallLimit is -1 with one).
            int first = span[offset];
            int second = span[offset + 1];
            int small = second & 0x7F;
            if (first == 0x82 && second >= 0x80 && small <= smallLimit && span.Length - offset >= SmallHeaderLength + small)
            {
                Span<byte> smallPayload = span.Slice(offset + SmallHeaderLength, small);
                Masking.Apply(smallPayload, BinaryPrimitives.ReadInt32LittleEndian(span.Slice(offset + 2)), 0);
                offset += SmallHeaderLength + small;
                if (!Deliver(smallPayload, isText: false))
                {
                    stop = true;
                    break;
                }

                continue;
            }

            if (FrameReader.TryReadHeader(span.Slice(offset), FrameMasking.Required, _options.MaxMessageSize, out FrameHeader header, out _) != FrameParseStatus.Ok
                || header.IsControl
                || !header.Fin
                || header.Opcode == WebSocketOpcode.Continuation
                || (header.Opcode == WebSocketOpcode.Text && _raw is null)
                || header.HeaderLength + header.PayloadLength > span.Length - offset
                || !TryTakeToken())
            {
                break;
            }

            Span<byte> payload = span.Slice(offset + header.HeaderLength, (int)header.PayloadLength);
            Masking.Apply(payload, header.MaskKey, 0);
            offset += header.HeaderLength + (int)header.PayloadLength;
            if (!DeliverWhole(payload, header.Opcode == WebSocketOpcode.Text))
            {
                stop = true;
                break;
            }
        }

        return offset;
    }

    private bool IsText(in FrameHeader header)
        => header.Opcode == WebSocketOpcode.Text || (header.Opcode == WebSocketOpcode.Continuation && _inMessage && _messageIsText);

    /// <summary>Checks a data frame against the fragmentation state, the rate limit and the message size limit
    /// (RFC 6455 §5.4): deliver it, discard it (the connection is closing), stop, or throttle (nothing consumed).</summary>
    private FrameStart BeginDataFrame(in FrameHeader header)
    {
        if (_state != ConnectionState.Open && !_deliverWhileClosing)
        {
            return FrameStart.Discard;
        }

        WebSocketOpcode opcode = header.Opcode;
        if (opcode == WebSocketOpcode.Continuation)
        {
            if (!_inMessage)
            {
                Fail(CloseStatus.ProtocolError, WsErrorKind.Protocol, "Continuation frame without a message to continue: expected a text or binary frame first");
                return FrameStart.Stop;
            }
        }
        else
        {
            if (_inMessage)
            {
                Fail(CloseStatus.ProtocolError, WsErrorKind.Protocol, $"{opcode} frame inside a fragmented message: expected a continuation frame");
                return FrameStart.Stop;
            }

            if (!TryTakeToken())
            {
                if (_rateLimit!.Policy == RateLimitPolicy.Throttle)
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

            _messageIsText = opcode == WebSocketOpcode.Text;
            if (_messageIsText)
            {
                _utf8.Reset();
            }
        }

        long size = _message.Length + header.PayloadLength;
        if (size > _options.MaxMessageSize)
        {
            Fail(CloseStatus.MessageTooBig, WsErrorKind.MessageTooBig, $"Message too big: at least {size} bytes, the limit is {_options.MaxMessageSize}");
            return FrameStart.Stop;
        }

        if (!header.Fin)
        {
            _inMessage = true;
        }

        return FrameStart.Deliver;
    }

    /// <summary><see cref="RateLimitPolicy.Close"/>: the message that found the bucket empty is not delivered; the
    /// connection is closed with 1008 and what follows is discarded until the client answers.</summary>
    private void RefuseOverRate()
    {
        string limit = _rateLimit!.ToString();
        Log.RateLimitExceeded(_logger, Id, limit);
        _metrics.LimitExceeded(Diagnostics.GatewayMetrics.LimitMessageRate, Diagnostics.GatewayMetrics.ActionClosed);
        long number = _processor.MessagesProcessed + _rawMessages + 1;
        _processor.ReportError(new WsError(
            WsErrorKind.PolicyViolation,
            $"Message rate limit exceeded: more than {_rateLimit.MessagesPerSecond:0.###} messages per second (burst {_rateLimit.Burst}); the message was not delivered",
            Id,
            number,
            CloseCode: CloseStatus.PolicyViolation));
        BeginClose(CloseStatus.PolicyViolation, "Message rate limit exceeded", deliverWhileClosing: false);
    }

    /// <summary>Copies (or skips) as much of the current frame's payload as the buffer holds.</summary>
    private bool ContinueStreamedPayload(ref ReadOnlySequence<byte> buffer)
    {
        int count = (int)Math.Min(_payloadRemaining, buffer.Length);
        ReadOnlySequence<byte> chunk = buffer.Slice(0, count);
        buffer = buffer.Slice(count);
        _payloadRemaining -= count;
        if (_frameDiscard)
        {
            return true;
        }

        Span<byte> destination = _message.GetSpan(count).Slice(0, count);
        chunk.CopyTo(destination);
        _frameMaskOffset = Masking.Apply(destination, _frameMaskKey, _frameMaskOffset);
        _message.Advance(count);
        if (_messageIsText && !_utf8.Append(destination, final: false))
        {
            Fail(CloseStatus.InvalidPayload, WsErrorKind.InvalidPayload, "Invalid UTF-8 in a text message");
            return false;
        }

        return true;
    }

    private bool EndStreamedFrame()
    {
        if (_frameDiscard)
        {
            if (_frameFin)
            {
                _inMessage = false;
            }

            return true;
        }

        if (!_frameFin)
        {
            return true;
        }

        // A text message's last frame may be empty: the validator still has to see the end.
        if (_messageIsText && !_utf8.Append(ReadOnlySpan<byte>.Empty, final: true))
        {
            Fail(CloseStatus.InvalidPayload, WsErrorKind.InvalidPayload, "Invalid UTF-8 in a text message: truncated at the end");
            return false;
        }

        _inMessage = false;
        bool goOn = Deliver(_message.WrittenSpan, _messageIsText);
        _message.Clear();
        return goOn;
    }

    private bool DeliverWhole(ReadOnlySpan<byte> payload, bool isText)
    {
        if (isText)
        {
            _utf8.Reset();
            if (!_utf8.Append(payload, final: true))
            {
                Fail(CloseStatus.InvalidPayload, WsErrorKind.InvalidPayload, "Invalid UTF-8 in a text message");
                return false;
            }
        }

        return Deliver(payload, isText);
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
            OnHandlerException(ex, _processor.MessagesProcessed + _rawMessages);
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

        if (_processor.Process(payload) == ProcessResult.HandlerFailed)
        {
            ApplyHandlerErrorPolicy();
        }

        return true;
    }

    /// <summary>Reports a handler exception thrown outside the processor and applies the handler error policy.</summary>
    private bool OnHandlerException(Exception ex, long messageNumber)
    {
        _rawHandlerErrors++;
        _processor.ReportError(new WsError(WsErrorKind.Handler, $"Handler threw {ex.GetType().Name}: {ex.Message}", Id, messageNumber, Exception: ex));
        ApplyHandlerErrorPolicy();
        return true;
    }

    /// <summary>Under <see cref="HandlerErrorPolicy.Close"/>, starts closing with 1011; later messages are not
    /// delivered. The loop goes on until the client answers the close.</summary>
    private void ApplyHandlerErrorPolicy()
    {
        Log.HandlerFailed(_logger, Id);
        if (_options.HandlerErrorPolicy == HandlerErrorPolicy.Close && _state == ConnectionState.Open)
        {
            BeginClose(CloseStatus.InternalError, "Handler error", deliverWhileClosing: false);
        }
    }

    /// <summary>Ping, pong and close (RFC 6455 §5.5). Returns a step to stop with, or null to go on.</summary>
    private Step? HandleControlFrame(in FrameHeader header, ReadOnlySequence<byte> maskedPayload)
    {
        Span<byte> payload = stackalloc byte[MaxControlPayload];
        payload = payload.Slice(0, (int)maskedPayload.Length);
        maskedPayload.CopyTo(payload);
        Masking.Apply(payload, header.MaskKey, 0);

        switch (header.Opcode)
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

    private Step HandleClose(ReadOnlySpan<byte> payload)
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

        return Step.Stop;
    }

    /// <summary>Fails the connection (RFC 6455 §7.1.7): reports, sends a close frame with the code, and closes TCP
    /// without waiting, because the byte stream can no longer be trusted.</summary>
    private Step Fail(ushort code, WsErrorKind kind, string message)
    {
        Log.ProtocolError(_logger, Id, code, message);
        _metrics.ProtocolError(code);
        _failed = true;

        // The error names the close code only when this close frame went out: after an earlier close of ours (a 1003
        // or 1001 awaiting its answer) no second one is sent.
        bool sent = SendClose(code, Truncate(message));
        _processor.ReportError(new WsError(kind, message, Id, CloseCode: sent ? code : null));
        _closeInfo ??= new WebSocketCloseInfo(code, message, InitiatedByClient: false, Clean: false);
        return Step.Stop;
    }

    /// <summary>Starts the closing handshake because of something the client did wrong at the message level; the
    /// stream stays readable, so the loop goes on until the client answers.</summary>
    private void ReportAndClose(ushort code, WsErrorKind? kind, string message, string closeReason)
    {
        bool sent = BeginClose(code, closeReason, deliverWhileClosing: false);
        if (kind is { } k)
        {
            Log.ProtocolError(_logger, Id, code, message);
            _metrics.ProtocolError(code);
            _processor.ReportError(new WsError(k, message, Id, CloseCode: sent ? code : null));
        }
    }

    private static string Truncate(string reason) => reason.Length <= 100 ? reason : reason[..100];

    private void OnClientVanished(long unconsumed)
    {
        if (_state == ConnectionState.Closed)
        {
            return;
        }

        if (unconsumed > 0 || _payloadRemaining > 0 || _inMessage)
        {
            string message = _payloadRemaining > 0
                ? $"Client disconnected in the middle of a frame: {_payloadRemaining} payload bytes missing"
                : _inMessage
                    ? "Client disconnected in the middle of a fragmented message"
                    : $"Client disconnected in the middle of a frame: {unconsumed} bytes of an incomplete frame";
            _processor.ReportError(new WsError(WsErrorKind.Transport, message, Id));
        }

        _closeInfo ??= new WebSocketCloseInfo(CloseStatus.Abnormal, null, InitiatedByClient: _state == ConnectionState.Open, Clean: false);
    }
}
