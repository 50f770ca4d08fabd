using System.Buffers;
using WsGateway.Framing;
using WsGateway.Tests.Infrastructure;

namespace WsGateway.Tests.Framing;

public class FrameReaderTests
{
    private const long NoLimit = long.MaxValue;

    // RFC 6455 §5.7: a single-frame masked text message "Hello".
    private static readonly byte[] s_maskedHello = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];

    // RFC 6455 §5.7: unmasked Ping "Hello".
    private static readonly byte[] s_unmaskedPingHello = [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];

    private static FrameParseStatus Read(ReadOnlySequence<byte> buffer, out FrameHeader header, out string? error, bool requireMask = true, long max = NoLimit)
        => FrameReader.TryReadHeader(buffer, requireMask, max, out header, out error);

    private static FrameParseStatus Read(byte[] bytes, out FrameHeader header, out string? error, bool requireMask = true, long max = NoLimit)
        => Read(new ReadOnlySequence<byte>(bytes), out header, out error, requireMask, max);

    // Every way of presenting the bytes: one segment, one segment per byte, and every single cut.
    private static IEnumerable<ReadOnlySequence<byte>> Layouts(byte[] bytes)
    {
        yield return new ReadOnlySequence<byte>(bytes);
        yield return SequenceFactory.SplitEveryByte(bytes);
        for (int cut = 0; cut <= bytes.Length; cut++)
        {
            yield return SequenceFactory.Split(bytes, cut);
        }

        yield return SequenceFactory.Split(bytes, 0, 0, 1, 1, Math.Min(3, bytes.Length));
    }

    [Fact]
    public void Rfc_masked_Hello_parses_in_every_segment_layout()
    {
        foreach (ReadOnlySequence<byte> buffer in Layouts(s_maskedHello))
        {
            Assert.Equal(FrameParseStatus.Ok, Read(buffer, out FrameHeader h, out string? error));
            Assert.Null(error);
            Assert.True(h.Fin);
            Assert.Equal(WebSocketOpcode.Text, h.Opcode);
            Assert.Equal(0, h.Reserved);
            Assert.True(h.Masked);
            Assert.Equal(5, h.PayloadLength);
            Assert.Equal(6, h.HeaderLength);
            Assert.Equal(11, h.FrameLength);
            Assert.False(h.IsControl);

            // Key bytes 37 fa 21 3d as read from the wire, loaded little-endian.
            Assert.Equal(0x3d21fa37, h.MaskKey);
        }
    }

    [Fact]
    public void Rfc_masked_Hello_unmasks_to_Hello_with_the_parsed_key()
    {
        Assert.Equal(FrameParseStatus.Ok, Read(s_maskedHello, out FrameHeader h, out _));
        byte[] payload = s_maskedHello[h.HeaderLength..];
        Masking.Apply(payload, h.MaskKey, 0);
        Assert.Equal("Hello"u8.ToArray(), payload);
    }

    [Fact]
    public void Rfc_unmasked_ping_parses_when_mask_is_not_required()
    {
        Assert.Equal(FrameParseStatus.Ok, Read(s_unmaskedPingHello, out FrameHeader h, out _, requireMask: false));
        Assert.Equal(WebSocketOpcode.Ping, h.Opcode);
        Assert.True(h.IsControl);
        Assert.False(h.Masked);
        Assert.Equal(0, h.MaskKey);
        Assert.Equal(5, h.PayloadLength);
        Assert.Equal(2, h.HeaderLength);
    }

    public static TheoryData<byte[], long, int> LengthEncodings => new()
    {
        // 7-bit
        { [0x82, 0x80, 1, 2, 3, 4], 0, 6 },
        { [0x82, 0x80 | 125, 1, 2, 3, 4], 125, 6 },
        { [0x82, 0x00], 0, 2 },
        // 16-bit: 256 bytes and the largest 16-bit length
        { [0x82, 0xFE, 0x01, 0x00, 1, 2, 3, 4], 256, 8 },
        { [0x82, 0xFE, 0x00, 126, 1, 2, 3, 4], 126, 8 },
        { [0x82, 0xFE, 0xFF, 0xFF, 1, 2, 3, 4], 65535, 8 },
        { [0x82, 0x7E, 0x01, 0x00], 256, 4 },
        // 64-bit: 64 KiB and the largest legal length
        { [0x82, 0xFF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 1, 2, 3, 4], 65536, 14 },
        { [0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4], long.MaxValue, 14 },
        { [0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00], 65536, 10 },
    };

    [Theory]
    [MemberData(nameof(LengthEncodings))]
    public void Every_length_encoding_parses_in_every_segment_layout(byte[] bytes, long payloadLength, int headerLength)
    {
        foreach (ReadOnlySequence<byte> buffer in Layouts(bytes))
        {
            Assert.Equal(FrameParseStatus.Ok, Read(buffer, out FrameHeader h, out string? error, requireMask: false));
            Assert.Null(error);
            Assert.Equal(payloadLength, h.PayloadLength);
            Assert.Equal(headerLength, h.HeaderLength);
            Assert.Equal(WebSocketOpcode.Binary, h.Opcode);
            Assert.Equal((bytes[1] & 0x80) != 0, h.Masked);
        }
    }

    [Theory]
    [MemberData(nameof(LengthEncodings))]
    public void Every_shorter_prefix_of_a_header_is_incomplete(byte[] bytes, long payloadLength, int headerLength)
    {
        _ = payloadLength;
        for (int count = 0; count < headerLength; count++)
        {
            byte[] prefix = bytes[..count];
            Assert.Equal(FrameParseStatus.Incomplete, Read(prefix, out FrameHeader h, out string? error, requireMask: false));
            Assert.Null(error);
            Assert.Equal(default, h);
            Assert.Equal(FrameParseStatus.Incomplete, Read(SequenceFactory.SplitEveryByte(prefix), out _, out _, requireMask: false));
        }
    }

    [Fact]
    public void Header_is_read_from_a_buffer_holding_more_frames()
    {
        byte[] two = [.. s_maskedHello, .. s_maskedHello];
        Assert.Equal(FrameParseStatus.Ok, Read(SequenceFactory.Split(two, 3, 12), out FrameHeader h, out _));
        Assert.Equal(5, h.PayloadLength);
        Assert.Equal(6, h.HeaderLength);
    }

    [Fact]
    public void Fin_clear_and_continuation_are_reported()
    {
        Assert.Equal(FrameParseStatus.Ok, Read([0x01, 0x80, 0, 0, 0, 0], out FrameHeader first, out _));
        Assert.False(first.Fin);
        Assert.Equal(WebSocketOpcode.Text, first.Opcode);
        Assert.Equal(FrameParseStatus.Ok, Read([0x80, 0x80, 0, 0, 0, 0], out FrameHeader last, out _));
        Assert.True(last.Fin);
        Assert.Equal(WebSocketOpcode.Continuation, last.Opcode);
    }

    [Fact]
    public void Non_minimal_length_encodings_are_accepted()
    {
        // §5.2's "minimal number of bytes MUST be used" binds the sender; see FrameReader's remarks.
        Assert.Equal(FrameParseStatus.Ok, Read([0x82, 0xFE, 0x00, 0x05, 1, 2, 3, 4], out FrameHeader h16, out _));
        Assert.Equal(5, h16.PayloadLength);
        Assert.Equal(8, h16.HeaderLength);
        Assert.Equal(FrameParseStatus.Ok, Read([0x82, 0xFF, 0, 0, 0, 0, 0, 0, 0x01, 0x00, 1, 2, 3, 4], out FrameHeader h64, out _));
        Assert.Equal(256, h64.PayloadLength);
        Assert.Equal(14, h64.HeaderLength);
    }

    public static TheoryData<byte, string> ReservedBits => new()
    {
        { 0x40, "Reserved bits set: RSV1" },
        { 0x20, "Reserved bits set: RSV2" },
        { 0x10, "Reserved bits set: RSV3" },
        { 0x60, "Reserved bits set: RSV1, RSV2" },
        { 0x70, "Reserved bits set: RSV1, RSV2, RSV3" },
    };

    [Theory]
    [MemberData(nameof(ReservedBits))]
    public void Reserved_bits_are_a_protocol_error(byte bits, string expected)
    {
        byte[] frame = [(byte)(0x81 | bits), 0x80, 1, 2, 3, 4];
        Assert.Equal(FrameParseStatus.ProtocolError, Read(frame, out FrameHeader h, out string? error));
        Assert.Equal(expected, error);
        Assert.Equal(default, h);

        // Reported from the first two bytes alone.
        Assert.Equal(FrameParseStatus.ProtocolError, Read(SequenceFactory.Split(frame[..2], 1), out _, out _));
    }

    [Theory]
    [InlineData(0x3)]
    [InlineData(0x4)]
    [InlineData(0x5)]
    [InlineData(0x6)]
    [InlineData(0x7)]
    [InlineData(0xB)]
    [InlineData(0xC)]
    [InlineData(0xD)]
    [InlineData(0xE)]
    [InlineData(0xF)]
    public void Reserved_opcodes_are_a_protocol_error(byte opcode)
    {
        Assert.Equal(FrameParseStatus.ProtocolError, Read([(byte)(0x80 | opcode), 0x80, 1, 2, 3, 4], out _, out string? error));
        Assert.Equal($"Reserved opcode 0x{opcode:X}", error);
        Assert.Equal(FrameParseStatus.ProtocolError, Read([(byte)(0x80 | opcode), 0x80], out _, out _));
    }

    [Theory]
    [InlineData(0x0)]
    [InlineData(0x1)]
    [InlineData(0x2)]
    [InlineData(0x8)]
    [InlineData(0x9)]
    [InlineData(0xA)]
    public void Defined_opcodes_are_accepted(byte opcode)
    {
        Assert.Equal(FrameParseStatus.Ok, Read([(byte)(0x80 | opcode), 0x80, 1, 2, 3, 4], out FrameHeader h, out _));
        Assert.Equal(opcode, h.RawOpcode);
        Assert.Equal(opcode >= 8, h.IsControl);
    }

    [Theory]
    [InlineData(0x8)]
    [InlineData(0x9)]
    [InlineData(0xA)]
    public void Fragmented_control_frame_is_a_protocol_error(byte opcode)
    {
        Assert.Equal(FrameParseStatus.ProtocolError, Read([opcode, 0x80, 1, 2, 3, 4], out _, out string? error));
        Assert.Equal("Fragmented control frame", error);
    }

    [Theory]
    [InlineData(0x8)]
    [InlineData(0x9)]
    [InlineData(0xA)]
    public void Control_frame_over_125_bytes_is_a_protocol_error(byte opcode)
    {
        // 126 bytes in the 16-bit form: rejected from the first two bytes, before the extended length arrives.
        Assert.Equal(FrameParseStatus.ProtocolError, Read([(byte)(0x80 | opcode), 0xFE], out _, out string? error));
        Assert.Equal("Control frame payload over 125 bytes", error);
        Assert.Equal(FrameParseStatus.ProtocolError, Read([(byte)(0x80 | opcode), 0xFE, 0x00, 126, 1, 2, 3, 4], out _, out _));
        Assert.Equal(FrameParseStatus.ProtocolError, Read([(byte)(0x80 | opcode), 0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4], out _, out _));

        // 125 is fine.
        Assert.Equal(FrameParseStatus.Ok, Read([(byte)(0x80 | opcode), 0x80 | 125, 1, 2, 3, 4], out FrameHeader h, out _));
        Assert.Equal(125, h.PayloadLength);
    }

    [Fact]
    public void Unmasked_client_frame_is_a_protocol_error_when_mask_is_required()
    {
        Assert.Equal(FrameParseStatus.ProtocolError, Read(s_unmaskedPingHello, out _, out string? error, requireMask: true));
        Assert.Equal("Unmasked client frame", error);
        Assert.Equal(FrameParseStatus.ProtocolError, Read([0x82, 0x00], out _, out _, requireMask: true));
    }

    [Fact]
    public void Masked_frame_is_a_protocol_error_when_masking_is_forbidden()
    {
        Assert.Equal(FrameParseStatus.ProtocolError, FrameReader.TryReadHeader(new ReadOnlySequence<byte>(s_maskedHello), FrameMasking.Forbidden, NoLimit, out _, out string? error));
        Assert.Equal("Masked server frame", error);
        Assert.Equal(FrameParseStatus.Ok, FrameReader.TryReadHeader(new ReadOnlySequence<byte>(s_unmaskedPingHello), FrameMasking.Forbidden, NoLimit, out _, out _));
        Assert.Equal(FrameParseStatus.Ok, FrameReader.TryReadHeader(new ReadOnlySequence<byte>(s_maskedHello), FrameMasking.Any, NoLimit, out _, out _));
    }

    [Fact]
    public void Most_significant_bit_of_64_bit_length_is_a_protocol_error()
    {
        byte[] frame = [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4];
        Assert.Equal(FrameParseStatus.ProtocolError, Read(frame, out _, out string? error, max: NoLimit));
        Assert.Equal("Payload length has its most significant bit set", error);

        // Detected as soon as the length is there, without the mask key.
        Assert.Equal(FrameParseStatus.ProtocolError, Read(SequenceFactory.SplitEveryByte(frame[..10]), out _, out _));
        Assert.Equal(FrameParseStatus.ProtocolError, Read([0x82, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], out _, out _));
    }

    [Fact]
    public void Too_large_is_reported_before_the_payload_or_mask_key_arrives()
    {
        // 16-bit length 256 against a 255 limit: only the 4 length bytes are present.
        Assert.Equal(FrameParseStatus.TooLarge, Read([0x82, 0xFE, 0x01, 0x00], out FrameHeader h, out string? error, max: 255));
        Assert.Equal("Frame too large", error);
        Assert.Equal(default, h);
        Assert.Equal(FrameParseStatus.Ok, Read([0x82, 0xFE, 0x01, 0x00, 1, 2, 3, 4], out _, out _, max: 256));

        // 64-bit length of 4 GiB, split across segments, no payload.
        byte[] big = [0x82, 0xFF, 0, 0, 0, 0x01, 0, 0, 0, 0];
        Assert.Equal(FrameParseStatus.TooLarge, Read(SequenceFactory.SplitEveryByte(big), out _, out _, max: 16 * 1024 * 1024));

        // 7-bit length.
        Assert.Equal(FrameParseStatus.TooLarge, Read([0x82, 0x80 | 100], out _, out _, max: 99));
    }

    [Fact]
    public void TryReadFrame_waits_for_the_payload_and_returns_it_as_a_slice()
    {
        for (int count = 0; count < s_maskedHello.Length; count++)
        {
            Assert.Equal(FrameParseStatus.Incomplete, FrameReader.TryReadFrame(new ReadOnlySequence<byte>(s_maskedHello[..count]), FrameMasking.Required, NoLimit, out _, out _, out _));
        }

        byte[] withNext = [.. s_maskedHello, 0x81];
        Assert.Equal(FrameParseStatus.Ok, FrameReader.TryReadFrame(SequenceFactory.Split(withNext, 4, 8), FrameMasking.Required, NoLimit, out FrameHeader h, out ReadOnlySequence<byte> payload, out _));
        Assert.Equal(5, payload.Length);
        Assert.Equal(s_maskedHello[6..], payload.ToArray());
        Assert.Equal(5, h.PayloadLength);

        Assert.Equal(FrameParseStatus.TooLarge, FrameReader.TryReadFrame(new ReadOnlySequence<byte>(s_maskedHello[..2]), FrameMasking.Required, 4, out _, out _, out _));
    }

    [Theory]
    [InlineData(new byte[] { 0x82, 0x05 }, 2, 5L)]
    [InlineData(new byte[] { 0xF7, 0x85, 1, 2, 3, 4 }, 6, 5L)] // reserved bits and opcode: not checked, only the extent
    [InlineData(new byte[] { 0x82, 0xFE, 0x01, 0x00, 1, 2, 3, 4 }, 8, 256L)]
    [InlineData(new byte[] { 0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0 }, 10, 65536L)]
    [InlineData(new byte[] { 0x82, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF }, 10, long.MaxValue)]
    public void The_extent_of_any_frame_is_read_for_skipping(byte[] head, int headerLength, long payloadLength)
    {
        Assert.True(FrameReader.TryReadExtent(head, out int actualHeader, out long actualPayload));
        Assert.Equal((headerLength, payloadLength), (actualHeader, actualPayload));
        Assert.False(FrameReader.TryReadExtent(head.AsSpan(0, headerLength - 1), out _, out _));
    }
}
