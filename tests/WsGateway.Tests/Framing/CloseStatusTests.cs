using WsGateway.Framing;

namespace WsGateway.Tests.Framing;

public class CloseStatusTests
{
    // Autobahn 7.7.x (valid, echoed) plus 1012-1014 from the IANA registry.
    [Theory]
    [InlineData(1000)]
    [InlineData(1001)]
    [InlineData(1002)]
    [InlineData(1003)]
    [InlineData(1007)]
    [InlineData(1008)]
    [InlineData(1009)]
    [InlineData(1010)]
    [InlineData(1011)]
    [InlineData(1012)]
    [InlineData(1013)]
    [InlineData(1014)]
    [InlineData(3000)]
    [InlineData(3999)]
    [InlineData(4000)]
    [InlineData(4999)]
    public void Valid_codes(int code)
    {
        Assert.True(CloseStatus.IsValidReceivedCode((ushort)code));
        byte[] payload = [(byte)(code >> 8), (byte)code];
        Assert.Equal(CloseParseResult.Ok, CloseStatus.Parse(payload, out ushort parsed, out ReadOnlySpan<byte> reason));
        Assert.Equal(code, parsed);
        Assert.True(reason.IsEmpty);
    }

    // Autobahn 7.9.x (invalid, answered with 1002) plus the other never-on-the-wire and out-of-range codes.
    [Theory]
    [InlineData(0)]
    [InlineData(999)]
    [InlineData(1004)]
    [InlineData(1005)]
    [InlineData(1006)]
    [InlineData(1015)]
    [InlineData(1016)]
    [InlineData(1100)]
    [InlineData(2000)]
    [InlineData(2999)]
    [InlineData(5000)]
    [InlineData(65535)]
    public void Invalid_codes(int code)
    {
        Assert.False(CloseStatus.IsValidReceivedCode((ushort)code));
        byte[] payload = [(byte)(code >> 8), (byte)code, (byte)'o', (byte)'k'];
        Assert.Equal(CloseParseResult.ProtocolError, CloseStatus.Parse(payload, out ushort parsed, out _));
        Assert.Equal(code, parsed);
    }

    [Fact]
    public void Every_code_is_classified_by_range()
    {
        for (int code = 0; code <= ushort.MaxValue; code++)
        {
            bool expected = code is (>= 1000 and <= 1003) or (>= 1007 and <= 1014) or (>= 3000 and <= 4999);
            Assert.Equal(expected, CloseStatus.IsValidReceivedCode((ushort)code));
        }
    }

    [Fact]
    public void Empty_payload_means_no_status()
    {
        Assert.Equal(CloseParseResult.Ok, CloseStatus.Parse([], out ushort code, out ReadOnlySpan<byte> reason));
        Assert.Equal(CloseStatus.NoStatus, code);
        Assert.True(reason.IsEmpty);
    }

    [Fact]
    public void One_byte_payload_is_a_protocol_error()
    {
        Assert.Equal(CloseParseResult.ProtocolError, CloseStatus.Parse([0x03], out _, out _));
    }

    [Fact]
    public void Payload_over_125_bytes_is_a_protocol_error()
    {
        byte[] payload = new byte[126];
        payload[0] = 0x03;
        payload[1] = 0xE8;
        payload.AsSpan(2).Fill((byte)'a');
        Assert.Equal(CloseParseResult.ProtocolError, CloseStatus.Parse(payload, out _, out _));
    }

    [Fact]
    public void Valid_utf8_reason_is_returned()
    {
        byte[] payload = [0x03, 0xE8, .. "κόσμε"u8];
        Assert.Equal(CloseParseResult.Ok, CloseStatus.Parse(payload, out ushort code, out ReadOnlySpan<byte> reason));
        Assert.Equal(CloseStatus.Normal, code);
        Assert.Equal("κόσμε"u8.ToArray(), reason.ToArray());
    }

    [Theory]
    [InlineData(new byte[] { 0xC0, 0x80 })]             // overlong NUL
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]       // surrogate U+D800
    [InlineData(new byte[] { 0xF4, 0x90, 0x80, 0x80 })] // above U+10FFFF
    [InlineData(new byte[] { (byte)'a', 0xCE })]        // truncated sequence
    [InlineData(new byte[] { 0xFF })]
    public void Invalid_utf8_reason_is_invalid_payload(byte[] badReason)
    {
        byte[] payload = [0x03, 0xE8, .. badReason];
        Assert.Equal(CloseParseResult.InvalidPayload, CloseStatus.Parse(payload, out ushort code, out _));
        Assert.Equal(CloseStatus.Normal, code);
    }

    [Fact]
    public void Invalid_code_is_reported_before_invalid_utf8()
    {
        Assert.Equal(CloseParseResult.ProtocolError, CloseStatus.Parse([0x03, 0xEC, 0xFF], out _, out _));
    }
}
