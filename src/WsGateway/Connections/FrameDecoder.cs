using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using WsGateway.Framing;

namespace WsGateway.Connections;

/// <summary>What one call of <see cref="FrameDecoder.Decode"/> ended with.</summary>
internal enum DecodeStep
{
    /// <summary>Every whole frame was handled; what is left is the start of a frame waiting for more bytes.</summary>
    NeedMoreData,

    /// <summary>The session stops reading (a close frame, a failure, a handler that asked to stop).</summary>
    Stop,

    /// <summary>The rate limit's bucket is empty (throttle policy): nothing more is consumed until it refills.</summary>
    Throttle,
}

/// <summary>What the session decided for a data frame that starts a message.</summary>
internal enum FrameStart
{
    Deliver,
    Discard,
    Stop,
    Throttle,
}

/// <summary>
/// The session's side of the <see cref="FrameDecoder"/>: what to do with a message, a control frame, a message that
/// starts, and a failure. Implemented by a struct over the session, so that the decoder's calls are direct.
/// </summary>
internal interface IFrameHandler
{
    /// <summary>Whether data frames are delivered (the session is open): the fast path runs only then.</summary>
    bool IsOpen { get; }

    /// <summary>Whether data frames that arrive now are dropped (a close of ours awaits its answer).</summary>
    bool IsDiscarding { get; }

    /// <summary>Whether text messages are accepted (a raw handler); otherwise a text frame goes the slow way.</summary>
    bool AcceptsText { get; }

    /// <summary>The largest payload the fast path takes from two header bytes (-1 when every message must consult the
    /// rate limit).</summary>
    int SmallFrameLimit { get; }

    /// <summary>Takes the rate limit's token for a whole message on the fast path; false leaves it to the slow one.</summary>
    bool TryTakeToken();

    /// <summary>A data frame begins a new message: deliver, discard (refused), throttle or stop.</summary>
    FrameStart OnMessageStart(WebSocketOpcode opcode);

    /// <summary>A complete message, unmasked, valid until the call returns. False stops the read.</summary>
    bool OnMessage(ReadOnlySpan<byte> payload, bool isText);

    /// <summary>Ping, pong or close, unmasked. Returns the step to stop with, or null to go on.</summary>
    DecodeStep? OnControl(WebSocketOpcode opcode, ReadOnlySpan<byte> payload);

    /// <summary>The byte stream broke a rule (RFC 6455 §7.1.7): report, send the close frame. Returns
    /// <see cref="DecodeStep.Stop"/>.</summary>
    DecodeStep Fail(ushort code, WsErrorKind kind, string message);
}

/// <summary>
/// The frame decoder of one connection (RFC 6455 §5): parses the frames of each read in place, unmasks them, hands
/// whole messages to its <see cref="IFrameHandler"/> without copying, and reassembles a message only when it spans
/// frames or reads. Its fields are the state of the partial frame or message, and nothing else (uWebSockets'
/// <c>WebSocketProtocol.h</c> keeps the same few words); the decision what a message means is the handler's.
/// </summary>
/// <remarks>A mutable struct held in a field of its session and used only by the thread that reads.</remarks>
internal struct FrameDecoder
{
    /// <summary>Frames up to this size that are not complete in the buffer yet are waited for whole (then handed
    /// over in place); larger ones are streamed into the message buffer as they arrive, so that a frame larger
    /// than the pipe's pause threshold can never stall the connection.</summary>
    public const int WaitWholeFrameLimit = 16 * 1024;

    private const int MaxControlPayload = 125;

    // A masked frame with a 7-bit length: 2 header bytes and the 4-byte mask key.
    private const int SmallHeaderLength = 6;

    private readonly int _maxMessageSize;

    // Made at the first message that needs it (fragmented, split across reads, or large): most connections never do.
    private MessageBuffer? _message;
    private Utf8Validator _utf8;

    // The frame being streamed (payload larger than what the buffer holds), and what a failure still skips.
    private long _payloadRemaining;
    private long _drainSkip;
    private int _frameMaskKey;
    private int _frameMaskOffset;
    private bool _frameFin;
    private bool _frameDiscard;

    // The fragmented message being reassembled.
    private bool _inMessage;
    private bool _messageIsText;

    public FrameDecoder(int maxMessageSize)
    {
        _maxMessageSize = maxMessageSize;
    }

    /// <summary>Whether a frame or a fragmented message is incomplete.</summary>
    public readonly bool IsIncomplete => _payloadRemaining > 0 || _inMessage;

    /// <summary>Payload bytes of the streamed frame still to come.</summary>
    public readonly long PayloadRemaining => _payloadRemaining;

    /// <summary>Whether a fragmented message is being reassembled.</summary>
    public readonly bool InMessage => _inMessage;

    /// <summary>Size of the array the reassembly buffer holds (tests).</summary>
    public readonly int MessageBufferCapacity => _message?.Capacity ?? 0;

    /// <summary>Gives the reassembly buffer's array back (the connection has ended).</summary>
    public readonly void Dispose() => _message?.Dispose();

    /// <summary>Parses and handles every complete frame in <paramref name="buffer"/>, in place; on return the
    /// buffer is what is left unconsumed.</summary>
    public DecodeStep Decode<THandler>(ref ReadOnlySequence<byte> buffer, ref THandler handler)
        where THandler : struct, IFrameHandler
    {
        while (true)
        {
            if (_payloadRemaining == 0 && !_inMessage && handler.IsOpen)
            {
                int consumed = DeliverWholeFramesInFirstSegment(buffer, ref handler, out bool stop);
                if (consumed > 0)
                {
                    buffer = buffer.Slice(consumed);
                }

                if (stop)
                {
                    return DecodeStep.Stop;
                }
            }

            if (_payloadRemaining > 0)
            {
                if (buffer.IsEmpty)
                {
                    return DecodeStep.NeedMoreData;
                }

                if (!ContinueStreamedPayload(ref buffer, ref handler))
                {
                    return DecodeStep.Stop;
                }

                if (_payloadRemaining > 0)
                {
                    return DecodeStep.NeedMoreData;
                }

                if (!EndStreamedFrame(ref handler))
                {
                    return DecodeStep.Stop;
                }

                continue;
            }

            FrameParseStatus status = FrameReader.TryReadHeader(buffer, requireMask: true, _maxMessageSize, out FrameHeader header, out string? error);
            switch (status)
            {
                case FrameParseStatus.Incomplete:
                    return DecodeStep.NeedMoreData;
                case FrameParseStatus.ProtocolError:
                    return handler.Fail(CloseStatus.ProtocolError, WsErrorKind.Protocol, error ?? "Invalid frame header");
                case FrameParseStatus.TooLarge:
                    return handler.Fail(CloseStatus.MessageTooBig, WsErrorKind.MessageTooBig, error ?? $"Frame larger than the {_maxMessageSize}-byte message limit");
            }

            long total = header.HeaderLength + header.PayloadLength;
            if (header.IsControl)
            {
                if (buffer.Length < total)
                {
                    return DecodeStep.NeedMoreData;
                }

                DecodeStep? controlStep = HandleControlFrame(header, buffer.Slice(header.HeaderLength, (int)header.PayloadLength), ref handler);
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
                return DecodeStep.NeedMoreData;
            }

            FrameStart start = BeginDataFrame(header, ref handler);
            if (start == FrameStart.Stop)
            {
                return DecodeStep.Stop;
            }

            if (start == FrameStart.Throttle)
            {
                return DecodeStep.Throttle;
            }

            bool discard = start == FrameStart.Discard;

            // The common case: a whole single-frame message in one buffer segment. Unmask in place and hand the
            // span to the handler: no copy.
            if (!discard && !_inMessage && header.Fin && buffer.FirstSpan.Length >= total)
            {
                Span<byte> payload = MemoryMarshal.AsMemory(buffer.First).Span.Slice(header.HeaderLength, (int)header.PayloadLength);
                Masking.Apply(payload, header.MaskKey, 0);
                buffer = buffer.Slice(total);
                if (!DeliverWhole(payload, header.Opcode == WebSocketOpcode.Text, ref handler))
                {
                    return DecodeStep.Stop;
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
            if (_payloadRemaining == 0 && !EndStreamedFrame(ref handler))
            {
                return DecodeStep.Stop;
            }
        }
    }

    /// <summary>After a failure: what is left of the bad frame is skipped, and from now on only frame lengths are
    /// read (<see cref="Drain"/>).</summary>
    public void StartDraining()
    {
        _drainSkip = _payloadRemaining;
        _payloadRemaining = 0;
    }

    /// <summary>Skips frames after a failure, reading only their lengths (the stream broke a rule, so the frame
    /// checks no longer apply); true when a close frame begins. What cannot be read as frames is skipped until the
    /// client closes or the close timeout passes.</summary>
    public bool Drain(ref ReadOnlySequence<byte> buffer)
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

    /// <summary>
    /// The hot loop: walks the first buffer segment as one span and hands every whole, unfragmented data frame in it
    /// to the handler, unmasked in place, without touching the <see cref="ReadOnlySequence{T}"/> per frame. It stops at
    /// the first frame it cannot take whole (control frame, fragment, refused text, a frame that continues in the next
    /// segment, or any header problem) and leaves that to the general path, which reports errors.
    /// </summary>
    /// <returns>The number of bytes consumed from the start of <paramref name="buffer"/>.</returns>
    private int DeliverWholeFramesInFirstSegment<THandler>(in ReadOnlySequence<byte> buffer, ref THandler handler, out bool stop)
        where THandler : struct, IFrameHandler
    {
        stop = false;
        Span<byte> span = MemoryMarshal.AsMemory(buffer.First).Span;
        int offset = 0;
        int smallLimit = handler.SmallFrameLimit;
        while (span.Length - offset >= 2 && handler.IsOpen)
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
                if (!handler.OnMessage(smallPayload, isText: false))
                {
                    stop = true;
                    break;
                }

                continue;
            }

            if (FrameReader.TryReadHeader(span.Slice(offset), FrameMasking.Required, _maxMessageSize, out FrameHeader header, out _) != FrameParseStatus.Ok
                || header.IsControl
                || !header.Fin
                || header.Opcode == WebSocketOpcode.Continuation
                || (header.Opcode == WebSocketOpcode.Text && !handler.AcceptsText)
                || header.HeaderLength + header.PayloadLength > span.Length - offset
                || !handler.TryTakeToken())
            {
                break;
            }

            Span<byte> payload = span.Slice(offset + header.HeaderLength, (int)header.PayloadLength);
            Masking.Apply(payload, header.MaskKey, 0);
            offset += header.HeaderLength + (int)header.PayloadLength;
            if (!DeliverWhole(payload, header.Opcode == WebSocketOpcode.Text, ref handler))
            {
                stop = true;
                break;
            }
        }

        return offset;
    }

    private readonly bool IsText(in FrameHeader header)
        => header.Opcode == WebSocketOpcode.Text || (header.Opcode == WebSocketOpcode.Continuation && _inMessage && _messageIsText);

    /// <summary>Checks a data frame against the fragmentation state, the session (rate limit, text refused) and the
    /// message size limit (RFC 6455 §5.4): deliver it, discard it, stop, or throttle (nothing consumed).</summary>
    private FrameStart BeginDataFrame<THandler>(in FrameHeader header, ref THandler handler)
        where THandler : struct, IFrameHandler
    {
        if (handler.IsDiscarding)
        {
            return FrameStart.Discard;
        }

        WebSocketOpcode opcode = header.Opcode;
        if (opcode == WebSocketOpcode.Continuation)
        {
            if (!_inMessage)
            {
                handler.Fail(CloseStatus.ProtocolError, WsErrorKind.Protocol, "Continuation frame without a message to continue: expected a text or binary frame first");
                return FrameStart.Stop;
            }
        }
        else
        {
            if (_inMessage)
            {
                handler.Fail(CloseStatus.ProtocolError, WsErrorKind.Protocol, $"{opcode} frame inside a fragmented message: expected a continuation frame");
                return FrameStart.Stop;
            }

            FrameStart start = handler.OnMessageStart(opcode);
            if (start != FrameStart.Deliver)
            {
                return start;
            }

            _messageIsText = opcode == WebSocketOpcode.Text;
            if (_messageIsText)
            {
                _utf8.Reset();
            }
        }

        long size = (_message?.Length ?? 0) + header.PayloadLength;
        if (size > _maxMessageSize)
        {
            handler.Fail(CloseStatus.MessageTooBig, WsErrorKind.MessageTooBig, $"Message too big: at least {size} bytes, the limit is {_maxMessageSize}");
            return FrameStart.Stop;
        }

        if (!header.Fin)
        {
            _inMessage = true;
        }

        return FrameStart.Deliver;
    }

    /// <summary>Copies (or skips) as much of the current frame's payload as the buffer holds.</summary>
    private bool ContinueStreamedPayload<THandler>(ref ReadOnlySequence<byte> buffer, ref THandler handler)
        where THandler : struct, IFrameHandler
    {
        int count = (int)Math.Min(_payloadRemaining, buffer.Length);
        ReadOnlySequence<byte> chunk = buffer.Slice(0, count);
        buffer = buffer.Slice(count);
        _payloadRemaining -= count;
        if (_frameDiscard)
        {
            return true;
        }

        MessageBuffer message = _message ??= new MessageBuffer(_maxMessageSize);
        Span<byte> destination = message.GetSpan(count).Slice(0, count);
        chunk.CopyTo(destination);
        _frameMaskOffset = Masking.Apply(destination, _frameMaskKey, _frameMaskOffset);
        message.Advance(count);
        if (_messageIsText && !_utf8.Append(destination, final: false))
        {
            handler.Fail(CloseStatus.InvalidPayload, WsErrorKind.InvalidPayload, "Invalid UTF-8 in a text message");
            return false;
        }

        return true;
    }

    private bool EndStreamedFrame<THandler>(ref THandler handler)
        where THandler : struct, IFrameHandler
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
            handler.Fail(CloseStatus.InvalidPayload, WsErrorKind.InvalidPayload, "Invalid UTF-8 in a text message: truncated at the end");
            return false;
        }

        _inMessage = false;
        if (_message is not { } message)
        {
            return handler.OnMessage(ReadOnlySpan<byte>.Empty, _messageIsText);
        }

        bool goOn = handler.OnMessage(message.WrittenSpan, _messageIsText);
        message.Clear();
        return goOn;
    }

    private bool DeliverWhole<THandler>(ReadOnlySpan<byte> payload, bool isText, ref THandler handler)
        where THandler : struct, IFrameHandler
    {
        if (isText)
        {
            _utf8.Reset();
            if (!_utf8.Append(payload, final: true))
            {
                handler.Fail(CloseStatus.InvalidPayload, WsErrorKind.InvalidPayload, "Invalid UTF-8 in a text message");
                return false;
            }
        }

        return handler.OnMessage(payload, isText);
    }

    /// <summary>Ping, pong and close (RFC 6455 §5.5), unmasked into a stack copy.</summary>
    private static DecodeStep? HandleControlFrame<THandler>(in FrameHeader header, ReadOnlySequence<byte> maskedPayload, ref THandler handler)
        where THandler : struct, IFrameHandler
    {
        Span<byte> payload = stackalloc byte[MaxControlPayload];
        payload = payload.Slice(0, (int)maskedPayload.Length);
        maskedPayload.CopyTo(payload);
        Masking.Apply(payload, header.MaskKey, 0);
        return handler.OnControl(header.Opcode, payload);
    }
}
