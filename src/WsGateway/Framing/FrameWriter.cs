using System.Buffers;
using System.Buffers.Binary;
using System.Text.Unicode;

namespace WsGateway.Framing;

/// <summary>Writes RFC 6455 frames. Lengths are always encoded in the minimal form (§5.2).</summary>
internal static class FrameWriter
{
    /// <summary>The largest header: 2 bytes, 8-byte extended length, 4-byte masking key.</summary>
    public const int MaxHeaderLength = 14;

    /// <summary>Largest close reason in UTF-8 bytes: 125 minus the 2-byte status code.</summary>
    public const int MaxCloseReasonLength = FrameReader.MaxControlPayloadLength - 2;

    /// <summary>Header length for a payload of <paramref name="payloadLength"/> bytes: 2, 4 or 10, plus 4 when masked.</summary>
    public static int GetHeaderLength(long payloadLength, bool masked)
    {
        int length = payloadLength <= 125 ? 2 : payloadLength <= ushort.MaxValue ? 4 : 10;
        return masked ? length + 4 : length;
    }

    /// <summary>
    /// Writes a frame header into <paramref name="destination"/>. Server frames pass no key (unmasked, §5.1); client
    /// frames pass the key, which is written in the same byte order <see cref="FrameHeader.MaskKey"/> uses, and then
    /// mask the payload with <see cref="Masking.Apply(Span{byte}, int, int)"/> starting at offset 0.
    /// </summary>
    /// <returns>The header length written: 2, 4 or 10, plus 4 when masked.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A negative length, or a control frame over 125 bytes.</exception>
    /// <exception cref="ArgumentException">A reserved opcode, a control frame without FIN, or <paramref name="destination"/> too small.</exception>
    public static int WriteHeader(Span<byte> destination, WebSocketOpcode opcode, bool fin, long payloadLength, int? maskKey = null)
    {
        byte rawOpcode = (byte)opcode;
        if (!FrameReader.IsDefinedOpcode(rawOpcode))
        {
            FramingThrowHelper.ThrowArgument(nameof(opcode), "Reserved opcode.");
        }

        if (payloadLength < 0)
        {
            FramingThrowHelper.ThrowArgumentOutOfRange(nameof(payloadLength), "The payload length must not be negative.");
        }

        if ((rawOpcode & 0x8) != 0)
        {
            if (payloadLength > FrameReader.MaxControlPayloadLength)
            {
                FramingThrowHelper.ThrowArgumentOutOfRange(nameof(payloadLength), "A control frame payload must be at most 125 bytes.");
            }

            if (!fin)
            {
                FramingThrowHelper.ThrowArgument(nameof(fin), "A control frame must not be fragmented.");
            }
        }

        int headerLength = GetHeaderLength(payloadLength, maskKey.HasValue);
        if (destination.Length < headerLength)
        {
            FramingThrowHelper.ThrowArgument(nameof(destination), "The destination is too small for the frame header.");
        }

        destination[0] = (byte)((fin ? 0x80 : 0) | rawOpcode);
        byte maskBit = maskKey.HasValue ? (byte)0x80 : (byte)0;
        int offset;
        if (payloadLength <= 125)
        {
            destination[1] = (byte)(maskBit | (byte)payloadLength);
            offset = 2;
        }
        else if (payloadLength <= ushort.MaxValue)
        {
            destination[1] = (byte)(maskBit | 126);
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)payloadLength);
            offset = 4;
        }
        else
        {
            destination[1] = (byte)(maskBit | 127);
            BinaryPrimitives.WriteUInt64BigEndian(destination[2..], (ulong)payloadLength);
            offset = 10;
        }

        if (maskKey is int key)
        {
            BinaryPrimitives.WriteInt32LittleEndian(destination[offset..], key);
        }

        return headerLength;
    }

    /// <summary>
    /// Writes a whole unmasked (server) frame, header then payload, into <paramref name="output"/>. The payload is
    /// copied in pieces of whatever size the writer offers, so a large payload does not force one large buffer.
    /// </summary>
    public static void WriteFrame(IBufferWriter<byte> output, WebSocketOpcode opcode, ReadOnlySpan<byte> payload, bool fin = true)
    {
        ArgumentNullException.ThrowIfNull(output);
        int headerLength = GetHeaderLength(payload.Length, masked: false);
        Span<byte> span = output.GetSpan(headerLength + Math.Min(payload.Length, 4096));
        WriteHeader(span, opcode, fin, payload.Length);

        int first = Math.Min(payload.Length, span.Length - headerLength);
        payload[..first].CopyTo(span[headerLength..]);
        output.Advance(headerLength + first);
        payload = payload[first..];

        while (!payload.IsEmpty)
        {
            span = output.GetSpan();
            int count = Math.Min(payload.Length, span.Length);
            payload[..count].CopyTo(span);
            output.Advance(count);
            payload = payload[count..];
        }
    }

    /// <summary>
    /// Writes an unmasked Close frame (§5.5.1): the 2-byte big-endian <paramref name="code"/> then
    /// <paramref name="reason"/> in UTF-8, cut at a character boundary so the payload fits 125 bytes. Lone surrogates
    /// in the reason become U+FFFD. <see cref="CloseStatus.NoStatus"/> (1005) writes a Close frame with an empty payload,
    /// which is what 1005 stands for.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="code"/> may not be sent (see <see cref="CloseStatus.IsValidReceivedCode(ushort)"/>).</exception>
    public static void WriteClose(IBufferWriter<byte> output, ushort code, string? reason)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (code == CloseStatus.NoStatus)
        {
            WriteFrame(output, WebSocketOpcode.Close, []);
            return;
        }

        if (!CloseStatus.IsValidReceivedCode(code))
        {
            FramingThrowHelper.ThrowArgumentOutOfRange(nameof(code), "This close status code may not be sent on the wire.");
        }

        Span<byte> span = output.GetSpan(2 + FrameReader.MaxControlPayloadLength);
        int reasonLength = 0;
        if (!string.IsNullOrEmpty(reason))
        {
            // Transcoding stops before a scalar that does not fit, so the cut is always at a character boundary.
            _ = Utf8.FromUtf16(reason, span.Slice(4, MaxCloseReasonLength), out _, out reasonLength, replaceInvalidSequences: true, isFinalBlock: true);
        }

        int payloadLength = 2 + reasonLength;
        span[0] = 0x80 | (byte)WebSocketOpcode.Close;
        span[1] = (byte)payloadLength;
        BinaryPrimitives.WriteUInt16BigEndian(span[2..], code);
        output.Advance(2 + payloadLength);
    }
}
