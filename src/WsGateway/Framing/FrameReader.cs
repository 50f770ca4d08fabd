using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace WsGateway.Framing;

/// <summary>
/// Parses RFC 6455 frame headers in place from a <see cref="ReadOnlySequence{T}"/>, in the manner of Kestrel's
/// <c>Http2FrameReader</c>: the header is validated as soon as the bytes that carry each field are present, an
/// oversize declared length is rejected before any payload has arrived, and nothing is consumed on
/// <see cref="FrameParseStatus.Incomplete"/>.
/// </summary>
/// <remarks>
/// <para>RFC 6455 §5.2 base framing:</para>
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-------+-+-------------+-------------------------------+
/// |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
/// |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
/// |N|V|V|V|       |S|             |   (if payload len==126/127)   |
/// | |1|2|3|       |K|             |                               |
/// +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
/// |     Extended payload length continued, if payload len == 127  |
/// + - - - - - - - - - - - - - - - +-------------------------------+
/// |                               |Masking-key, if MASK set to 1  |
/// +-------------------------------+-------------------------------+
/// | Masking-key (continued)       |          Payload Data         |
/// +-------------------------------- - - - - - - - - - - - - - - - +
/// </code>
/// <para>
/// Checks, in wire order: RSV1-3 must be 0 (no extension is negotiated); opcodes 0x3-0x7 and 0xB-0xF are reserved;
/// control frames (opcode bit 3 set) must have FIN and a payload of at most 125 bytes (§5.5); the MASK bit is checked
/// against <see cref="FrameMasking"/> (§5.1); a 64-bit length must have its most significant bit clear; the length
/// must not exceed <c>maxFramePayload</c>.
/// </para>
/// <para>
/// Non-minimal length encodings (for example 126 followed by a 16-bit length of 5) are <b>accepted</b>. §5.2 says
/// "the minimal number of bytes MUST be used to encode the length", a requirement on the sender; it states no
/// receiver behaviour, Autobahn does not test it, the length is unambiguous either way, and the common stacks
/// (System.Net.WebSockets' ManagedWebSocket among them) accept it. <see cref="FrameWriter"/> always writes the
/// minimal form.
/// </para>
/// <para>
/// Message-level rules (continuation without a started message, a new data frame inside a fragmented message,
/// UTF-8 of text) need connection state and belong to the caller.
/// </para>
/// </remarks>
internal static class FrameReader
{
    public const int MinHeaderLength = 2;
    public const int MaxHeaderLength = 14;
    public const int MaxControlPayloadLength = 125;

    private const string UnmaskedClientFrame = "Unmasked client frame";
    private const string MaskedServerFrame = "Masked server frame";
    private const string FragmentedControlFrame = "Fragmented control frame";
    private const string ControlFrameTooLong = "Control frame payload over 125 bytes";
    private const string LengthMsbSet = "Payload length has its most significant bit set";
    private const string FrameTooLarge = "Frame too large";

    // Indexed by the 3-bit RSV value (RSV1 = 4, RSV2 = 2, RSV3 = 1); built once so the error path does not allocate.
    private static readonly string[] s_reservedBitErrors = CreateReservedBitErrors();

    // Indexed by opcode; null for the defined opcodes.
    private static readonly string?[] s_reservedOpcodeErrors = CreateReservedOpcodeErrors();

    /// <summary>
    /// Reads one frame header from the start of <paramref name="buffer"/>, which may hold any number of bytes in any
    /// number of segments. Never waits for the payload.
    /// </summary>
    /// <param name="buffer">Received bytes; the frame starts at offset 0.</param>
    /// <param name="requireMask"><see langword="true"/> for the server role (unmasked frames are a protocol error);
    /// <see langword="false"/> accepts both (use the <see cref="FrameMasking"/> overload to forbid masking).</param>
    /// <param name="maxFramePayload">Largest payload accepted; a larger declared length gives <see cref="FrameParseStatus.TooLarge"/>.</param>
    /// <param name="header">The header when <see cref="FrameParseStatus.Ok"/>; otherwise default.</param>
    /// <param name="error">On <see cref="FrameParseStatus.ProtocolError"/> or <see cref="FrameParseStatus.TooLarge"/>, a short
    /// ASCII reason that fits a close frame; otherwise <see langword="null"/>.</param>
    public static FrameParseStatus TryReadHeader(in ReadOnlySequence<byte> buffer, bool requireMask, long maxFramePayload, out FrameHeader header, out string? error)
        => TryReadHeader(buffer, requireMask ? FrameMasking.Required : FrameMasking.Any, maxFramePayload, out header, out error);

    /// <inheritdoc cref="TryReadHeader(in ReadOnlySequence{byte}, bool, long, out FrameHeader, out string?)"/>
    /// <param name="buffer">Received bytes; the frame starts at offset 0.</param>
    /// <param name="masking">What the MASK bit must be.</param>
    /// <param name="maxFramePayload">Largest payload accepted.</param>
    /// <param name="header">The header when <see cref="FrameParseStatus.Ok"/>.</param>
    /// <param name="error">The reason on an error status.</param>
    public static FrameParseStatus TryReadHeader(in ReadOnlySequence<byte> buffer, FrameMasking masking, long maxFramePayload, out FrameHeader header, out string? error)
    {
        ReadOnlySpan<byte> first = buffer.FirstSpan;
        if (first.Length >= MaxHeaderLength || buffer.IsSingleSegment)
        {
            return Parse(first, masking, maxFramePayload, out header, out error);
        }

        return ParseMultiSegment(buffer, masking, maxFramePayload, out header, out error);
    }

    /// <summary>Reads a header from a contiguous span that starts with the frame; <see cref="FrameParseStatus.Incomplete"/>
    /// when the span ends inside the header (the rest may be in the next buffer segment).</summary>
    /// <param name="buffer">Bytes starting with the frame.</param>
    /// <param name="masking">What the MASK bit must be.</param>
    /// <param name="maxFramePayload">Largest payload accepted.</param>
    /// <param name="header">The header when <see cref="FrameParseStatus.Ok"/>.</param>
    /// <param name="error">The reason on an error status.</param>
    public static FrameParseStatus TryReadHeader(ReadOnlySpan<byte> buffer, FrameMasking masking, long maxFramePayload, out FrameHeader header, out string? error)
        => Parse(buffer, masking, maxFramePayload, out header, out error);

    /// <summary>
    /// Reads a header and, once the whole payload is present, returns the payload as a slice of
    /// <paramref name="buffer"/> (still masked). Returns <see cref="FrameParseStatus.Incomplete"/> until then; errors
    /// are reported as soon as the header shows them.
    /// </summary>
    public static FrameParseStatus TryReadFrame(in ReadOnlySequence<byte> buffer, FrameMasking masking, long maxFramePayload, out FrameHeader header, out ReadOnlySequence<byte> payload, out string? error)
    {
        FrameParseStatus status = TryReadHeader(buffer, masking, maxFramePayload, out header, out error);
        if (status == FrameParseStatus.Ok && buffer.Length - header.HeaderLength >= header.PayloadLength)
        {
            payload = buffer.Slice(header.HeaderLength, header.PayloadLength);
            return FrameParseStatus.Ok;
        }

        payload = default;
        return status == FrameParseStatus.Ok ? FrameParseStatus.Incomplete : status;
    }

    /// <summary>
    /// Where a frame ends, whatever else its header says (reserved bits, opcodes and sizes are not checked): for
    /// skipping what a client still sends after its connection was failed, until its close frame.
    /// </summary>
    /// <param name="head">The first bytes of the frame (up to <see cref="MaxHeaderLength"/>).</param>
    /// <param name="headerLength">The header's length, mask key included.</param>
    /// <param name="payloadLength">The declared payload length (a 64-bit length with its top bit set is capped).</param>
    /// <returns><see langword="false"/> while <paramref name="head"/> ends inside the header.</returns>
    public static bool TryReadExtent(ReadOnlySpan<byte> head, out int headerLength, out long payloadLength)
    {
        headerLength = 0;
        payloadLength = 0;
        if (head.Length < MinHeaderLength)
        {
            return false;
        }

        int length = head[1] & 0x7F;
        int extended = length switch { 126 => 2, 127 => 8, _ => 0 };
        int total = MinHeaderLength + extended + ((head[1] & 0x80) != 0 ? 4 : 0);
        if (head.Length < total)
        {
            return false;
        }

        headerLength = total;
        payloadLength = extended switch
        {
            2 => BinaryPrimitives.ReadUInt16BigEndian(head[2..]),
            8 => (long)Math.Min(BinaryPrimitives.ReadUInt64BigEndian(head[2..]), long.MaxValue),
            _ => length,
        };
        return true;
    }

    /// <summary>Whether <paramref name="rawOpcode"/> is one of the six opcodes RFC 6455 defines.</summary>
    public static bool IsDefinedOpcode(byte rawOpcode) => rawOpcode is <= 0x2 or (>= 0x8 and <= 0xA);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static FrameParseStatus ParseMultiSegment(in ReadOnlySequence<byte> buffer, FrameMasking masking, long maxFramePayload, out FrameHeader header, out string? error)
    {
        Span<byte> scratch = stackalloc byte[MaxHeaderLength];
        int count = (int)Math.Min(buffer.Length, MaxHeaderLength);
        buffer.Slice(0, count).CopyTo(scratch);
        return Parse(scratch[..count], masking, maxFramePayload, out header, out error);
    }

    private static FrameParseStatus Parse(ReadOnlySpan<byte> span, FrameMasking masking, long maxFramePayload, out FrameHeader header, out string? error)
    {
        header = default;
        error = null;
        if (span.Length < MinHeaderLength)
        {
            return FrameParseStatus.Incomplete;
        }

        byte b0 = span[0];
        byte b1 = span[1];
        bool fin = (b0 & 0x80) != 0;
        byte reserved = (byte)((b0 >> 4) & 0x7);
        byte opcode = (byte)(b0 & 0xF);
        bool masked = (b1 & 0x80) != 0;
        int length7 = b1 & 0x7F;

        if (reserved != 0)
        {
            return Fail(FrameParseStatus.ProtocolError, s_reservedBitErrors[reserved], out error);
        }

        if (s_reservedOpcodeErrors[opcode] is { } opcodeError)
        {
            return Fail(FrameParseStatus.ProtocolError, opcodeError, out error);
        }

        if ((opcode & 0x8) != 0)
        {
            if (!fin)
            {
                return Fail(FrameParseStatus.ProtocolError, FragmentedControlFrame, out error);
            }

            if (length7 > MaxControlPayloadLength)
            {
                return Fail(FrameParseStatus.ProtocolError, ControlFrameTooLong, out error);
            }
        }

        if (!masked && masking == FrameMasking.Required)
        {
            return Fail(FrameParseStatus.ProtocolError, UnmaskedClientFrame, out error);
        }

        if (masked && masking == FrameMasking.Forbidden)
        {
            return Fail(FrameParseStatus.ProtocolError, MaskedServerFrame, out error);
        }

        int headerLength = MinHeaderLength;
        long payloadLength;
        if (length7 <= 125)
        {
            payloadLength = length7;
        }
        else if (length7 == 126)
        {
            if (span.Length < 4)
            {
                return FrameParseStatus.Incomplete;
            }

            payloadLength = BinaryPrimitives.ReadUInt16BigEndian(span[2..]);
            headerLength = 4;
        }
        else
        {
            if (span.Length < 10)
            {
                return FrameParseStatus.Incomplete;
            }

            ulong length64 = BinaryPrimitives.ReadUInt64BigEndian(span[2..]);
            if ((long)length64 < 0)
            {
                return Fail(FrameParseStatus.ProtocolError, LengthMsbSet, out error);
            }

            payloadLength = (long)length64;
            headerLength = 10;
        }

        if (payloadLength > maxFramePayload)
        {
            return Fail(FrameParseStatus.TooLarge, FrameTooLarge, out error);
        }

        int maskKey = 0;
        if (masked)
        {
            if (span.Length < headerLength + 4)
            {
                return FrameParseStatus.Incomplete;
            }

            maskKey = BinaryPrimitives.ReadInt32LittleEndian(span[headerLength..]);
            headerLength += 4;
        }

        header = new FrameHeader(fin, reserved, opcode, masked, maskKey, payloadLength, headerLength);
        return FrameParseStatus.Ok;
    }

    private static FrameParseStatus Fail(FrameParseStatus status, string reason, out string? error)
    {
        error = reason;
        return status;
    }

    private static string[] CreateReservedBitErrors()
    {
        var errors = new string[8];
        for (int bits = 1; bits < 8; bits++)
        {
            var names = new List<string>(3);
            if ((bits & 0b100) != 0)
            {
                names.Add("RSV1");
            }

            if ((bits & 0b010) != 0)
            {
                names.Add("RSV2");
            }

            if ((bits & 0b001) != 0)
            {
                names.Add("RSV3");
            }

            errors[bits] = "Reserved bits set: " + string.Join(", ", names);
        }

        errors[0] = string.Empty;
        return errors;
    }

    private static string?[] CreateReservedOpcodeErrors()
    {
        var errors = new string?[16];
        for (int opcode = 0; opcode < 16; opcode++)
        {
            if (!IsDefinedOpcode((byte)opcode))
            {
                errors[opcode] = $"Reserved opcode 0x{opcode:X}";
            }
        }

        return errors;
    }
}
