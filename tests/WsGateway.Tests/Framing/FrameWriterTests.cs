using System.Buffers;
using System.Text;
using WsGateway.Framing;

namespace WsGateway.Tests.Framing;

public class FrameWriterTests
{
    public static TheoryData<long, byte[]> UnmaskedBinaryHeaders => new()
    {
        { 0, [0x82, 0x00] },
        { 125, [0x82, 0x7D] },
        { 126, [0x82, 0x7E, 0x00, 0x7E] },
        { 256, [0x82, 0x7E, 0x01, 0x00] },
        { 65535, [0x82, 0x7E, 0xFF, 0xFF] },
        { 65536, [0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00] },
        { long.MaxValue, [0x82, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] },
    };

    [Theory]
    [MemberData(nameof(UnmaskedBinaryHeaders))]
    public void Writes_minimal_unmasked_headers(long payloadLength, byte[] expected)
    {
        Span<byte> buffer = stackalloc byte[FrameWriter.MaxHeaderLength];
        buffer.Fill(0xCC);
        int written = FrameWriter.WriteHeader(buffer, WebSocketOpcode.Binary, fin: true, payloadLength);
        Assert.Equal(expected.Length, written);
        Assert.Equal(expected, buffer[..written].ToArray());
        Assert.Equal(written, FrameWriter.GetHeaderLength(payloadLength, masked: false));
        Assert.All(buffer[written..].ToArray(), b => Assert.Equal(0xCC, b));
    }

    [Fact]
    public void Writes_the_rfc_masked_Hello_header()
    {
        Span<byte> buffer = stackalloc byte[FrameWriter.MaxHeaderLength];
        int written = FrameWriter.WriteHeader(buffer, WebSocketOpcode.Text, fin: true, 5, maskKey: 0x3d21fa37);
        Assert.Equal(new byte[] { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d }, buffer[..written].ToArray());
    }

    [Theory]
    [InlineData(0, 6)]
    [InlineData(126, 8)]
    [InlineData(65536, 14)]
    public void Masked_headers_round_trip_through_the_reader(long payloadLength, int expectedLength)
    {
        byte[] buffer = new byte[FrameWriter.MaxHeaderLength];
        int written = FrameWriter.WriteHeader(buffer, WebSocketOpcode.Binary, fin: false, payloadLength, maskKey: unchecked((int)0xA1B2C3D4));
        Assert.Equal(expectedLength, written);
        Assert.Equal(FrameParseStatus.Ok, FrameReader.TryReadHeader(new ReadOnlySequence<byte>(buffer, 0, written), requireMask: true, long.MaxValue, out FrameHeader h, out _));
        Assert.Equal(payloadLength, h.PayloadLength);
        Assert.Equal(unchecked((int)0xA1B2C3D4), h.MaskKey);
        Assert.False(h.Fin);
        Assert.Equal(written, h.HeaderLength);
    }

    [Fact]
    public void Continuation_without_fin_has_a_zero_first_byte()
    {
        Span<byte> buffer = stackalloc byte[2];
        FrameWriter.WriteHeader(buffer, WebSocketOpcode.Continuation, fin: false, 3);
        Assert.Equal(new byte[] { 0x00, 0x03 }, buffer.ToArray());
    }

    [Fact]
    public void Rejects_invalid_headers()
    {
        byte[] buffer = new byte[FrameWriter.MaxHeaderLength];
        Assert.Throws<ArgumentOutOfRangeException>(() => FrameWriter.WriteHeader(buffer, WebSocketOpcode.Ping, true, 126));
        Assert.Throws<ArgumentException>(() => FrameWriter.WriteHeader(buffer, WebSocketOpcode.Close, false, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => FrameWriter.WriteHeader(buffer, WebSocketOpcode.Binary, true, -1));
        Assert.Throws<ArgumentException>(() => FrameWriter.WriteHeader(buffer, (WebSocketOpcode)0x3, true, 0));
        Assert.Throws<ArgumentException>(() => FrameWriter.WriteHeader(buffer.AsSpan(0, 3), WebSocketOpcode.Binary, true, 126));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(125)]
    [InlineData(126)]
    [InlineData(65535)]
    [InlineData(65536)]
    public void WriteFrame_writes_header_and_payload(int length)
    {
        byte[] payload = new byte[length];
        new Random(length).NextBytes(payload);
        var output = new ArrayBufferWriter<byte>();
        FrameWriter.WriteFrame(output, WebSocketOpcode.Binary, payload);

        int headerLength = length <= 125 ? 2 : length <= 65535 ? 4 : 10;
        Assert.Equal(headerLength + length, output.WrittenCount);
        Assert.Equal(0x82, output.WrittenSpan[0]);
        Assert.Equal(payload, output.WrittenSpan[headerLength..].ToArray());
    }

    [Fact]
    public void WriteFrame_copes_with_a_writer_that_hands_out_small_spans()
    {
        // Larger than the size hint WriteFrame asks for, so the rest goes through the copy loop in 17-byte spans.
        byte[] payload = new byte[10000];
        new Random(1).NextBytes(payload);
        var output = new SmallSpanWriter(maxSpan: 17);
        FrameWriter.WriteFrame(output, WebSocketOpcode.Text, payload, fin: false);
        byte[] written = output.ToArray();
        Assert.True(output.Spans > 300);
        Assert.Equal(new byte[] { 0x01, 0x7E, 0x27, 0x10 }, written[..4]);
        Assert.Equal(payload, written[4..]);
    }

    [Fact]
    public void WriteFrame_writes_the_rfc_unmasked_ping()
    {
        var output = new ArrayBufferWriter<byte>();
        FrameWriter.WriteFrame(output, WebSocketOpcode.Ping, "Hello"u8);
        Assert.Equal(new byte[] { 0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f }, output.WrittenSpan.ToArray());
    }

    [Fact]
    public void WriteClose_writes_code_and_reason()
    {
        var output = new ArrayBufferWriter<byte>();
        FrameWriter.WriteClose(output, CloseStatus.GoingAway, "bye");
        Assert.Equal(new byte[] { 0x88, 0x05, 0x03, 0xE9, (byte)'b', (byte)'y', (byte)'e' }, output.WrittenSpan.ToArray());
    }

    [Fact]
    public void WriteClose_without_reason_writes_the_code_only()
    {
        var output = new ArrayBufferWriter<byte>();
        FrameWriter.WriteClose(output, CloseStatus.Normal, null);
        Assert.Equal(new byte[] { 0x88, 0x02, 0x03, 0xE8 }, output.WrittenSpan.ToArray());
    }

    [Fact]
    public void WriteClose_with_no_status_writes_an_empty_close()
    {
        var output = new ArrayBufferWriter<byte>();
        FrameWriter.WriteClose(output, CloseStatus.NoStatus, "ignored");
        Assert.Equal(new byte[] { 0x88, 0x00 }, output.WrittenSpan.ToArray());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1004)]
    [InlineData(1006)]
    [InlineData(1015)]
    [InlineData(5000)]
    public void WriteClose_rejects_codes_that_may_not_be_sent(int code)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => FrameWriter.WriteClose(new ArrayBufferWriter<byte>(), (ushort)code, null));
    }

    [Fact]
    public void WriteClose_truncates_an_ascii_reason_to_123_bytes()
    {
        var output = new ArrayBufferWriter<byte>();
        FrameWriter.WriteClose(output, CloseStatus.PolicyViolation, new string('x', 300));
        Assert.Equal(127, output.WrittenCount);
        Assert.Equal(125, output.WrittenSpan[1]);
        Assert.Equal(new string('x', 123), Encoding.UTF8.GetString(output.WrittenSpan[4..]));
    }

    [Theory]
    [InlineData("€", 3)]   // 3 bytes: 41 whole characters are 123 bytes exactly
    [InlineData("é", 2)]   // 2 bytes: 61 characters, 122 bytes; the 62nd would need 124
    [InlineData("😀", 4)]  // 4 bytes (a surrogate pair): 30 characters, 120 bytes
    public void WriteClose_truncates_a_multibyte_reason_at_a_character_boundary(string character, int bytesPerCharacter)
    {
        var output = new ArrayBufferWriter<byte>();
        FrameWriter.WriteClose(output, CloseStatus.InternalError, string.Concat(Enumerable.Repeat(character, 100)));
        ReadOnlySpan<byte> frame = output.WrittenSpan;
        int expectedReason = 123 / bytesPerCharacter * bytesPerCharacter;
        Assert.Equal(2 + expectedReason, frame[1]);
        Assert.Equal(2 + 2 + expectedReason, frame.Length);
        Assert.Equal(CloseParseResult.Ok, CloseStatus.Parse(frame[2..], out ushort code, out ReadOnlySpan<byte> reason));
        Assert.Equal(CloseStatus.InternalError, code);
        Assert.Equal(string.Concat(Enumerable.Repeat(character, expectedReason / bytesPerCharacter)), Encoding.UTF8.GetString(reason));
    }

    [Fact]
    public void WriteClose_output_parses_back_with_the_reader()
    {
        var output = new ArrayBufferWriter<byte>();
        FrameWriter.WriteClose(output, 4000, "private");
        Assert.Equal(FrameParseStatus.Ok, FrameReader.TryReadHeader(new ReadOnlySequence<byte>(output.WrittenMemory), FrameMasking.Forbidden, 125, out FrameHeader h, out _));
        Assert.Equal(WebSocketOpcode.Close, h.Opcode);
        Assert.Equal(9, h.PayloadLength);
    }

    /// <summary>An <see cref="IBufferWriter{T}"/> that never hands out more than a few bytes at a time.</summary>
    private sealed class SmallSpanWriter(int maxSpan) : IBufferWriter<byte>
    {
        private readonly List<byte> _written = [];
        private byte[] _current = [];

        public int Spans { get; private set; }

        public byte[] ToArray() => [.. _written];

        public void Advance(int count) => _written.AddRange(_current.AsSpan(0, count).ToArray());

        // At least sizeHint, as the contract requires, but no more than maxSpan beyond that.
        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            Spans++;
            _current = new byte[Math.Max(sizeHint, maxSpan)];
            return _current;
        }

        public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;
    }
}
