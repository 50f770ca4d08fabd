
namespace WsGateway.Sbe.Tests;

/// <summary>Every way a Trade message can be refused, with the exact text callers will see.</summary>
public class DecodeErrorTests
{
    private static byte[] Message(ushort blockLength, ushort templateId, ushort schemaId, ushort version, int bodyLength)
    {
        // Header written field by field here, not by the code under test.
        var bytes = new byte[8 + bodyLength];
        bytes[0] = (byte)blockLength;
        bytes[1] = (byte)(blockLength >> 8);
        bytes[2] = (byte)templateId;
        bytes[3] = (byte)(templateId >> 8);
        bytes[4] = (byte)schemaId;
        bytes[5] = (byte)(schemaId >> 8);
        bytes[6] = (byte)version;
        bytes[7] = (byte)(version >> 8);
        for (int i = 8; i < bytes.Length; i++)
        {
            bytes[i] = (byte)i;
        }

        return bytes;
    }

    public static TheoryData<string, byte[], SbeDecodeStatus, int, int, string> Cases => new()
    {
        { "empty", [], SbeDecodeStatus.InsufficientData, 29, 0, "Insufficient data: expected 29 bytes, got 0" },
        { "header cut", [0x15, 0x00, 0x01, 0x00, 0x01], SbeDecodeStatus.InsufficientData, 29, 5, "Insufficient data: expected 29 bytes, got 5" },
        { "header only", Message(21, 1, 1, 0, 0), SbeDecodeStatus.InsufficientData, 29, 8, "Insufficient data: expected 29 bytes, got 8" },
        { "body cut", Message(21, 1, 1, 0, 12), SbeDecodeStatus.InsufficientData, 29, 20, "Insufficient data: expected 29 bytes, got 20" },
        { "one byte short", Message(21, 1, 1, 0, 20), SbeDecodeStatus.InsufficientData, 29, 28, "Insufficient data: expected 29 bytes, got 28" },
        { "extended body cut", Message(25, 1, 1, 1, 21), SbeDecodeStatus.InsufficientData, 33, 29, "Insufficient data: expected 33 bytes, got 29" },
        { "wrong template", Message(21, 7, 1, 0, 21), SbeDecodeStatus.UnknownTemplateId, 1, 7, "Unknown template id: expected 1, got 7" },
        { "wrong schema", Message(21, 1, 9, 0, 21), SbeDecodeStatus.UnknownSchemaId, 1, 9, "Unknown schema id: expected 1, got 9" },
        { "schema checked first", Message(21, 7, 0xFFFF, 0, 21), SbeDecodeStatus.UnknownSchemaId, 1, 65535, "Unknown schema id: expected 1, got 65535" },
        { "block too small", Message(13, 1, 1, 0, 21), SbeDecodeStatus.BlockLengthTooSmall, 21, 13, "Block length too small: expected at least 21, got 13" },
        { "block zero", Message(0, 1, 1, 0, 0), SbeDecodeStatus.BlockLengthTooSmall, 21, 0, "Block length too small: expected at least 21, got 0" },
        { "wrong template in short input", Message(21, 2, 1, 0, 4), SbeDecodeStatus.UnknownTemplateId, 1, 2, "Unknown template id: expected 1, got 2" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void TryDecode_returns_false_with_the_reason(string name, byte[] input, SbeDecodeStatus status, int expected, int actual, string message)
    {
        _ = name;
        Assert.False(Trade.TryDecode(input, out Trade trade, out int consumed, out SbeDecodeError error));
        Assert.Equal(default, trade);
        Assert.Equal(0, consumed);
        Assert.True(error.IsError);
        Assert.Equal(status, error.Status);
        Assert.Equal(expected, error.Expected);
        Assert.Equal(actual, error.Actual);
        Assert.Equal(message, error.ToString());
        Assert.Equal(message, error.Message);
        Assert.False(Trade.TryDecode(input, out _));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Decode_throws_SbeDecodeException_with_the_reason(string name, byte[] input, SbeDecodeStatus status, int expected, int actual, string message)
    {
        _ = name;
        SbeDecodeException ex = Assert.Throws<SbeDecodeException>(() => Trade.Decode(input));
        Assert.Equal(message, ex.Message);
        Assert.Equal(status, ex.Status);
        Assert.Equal(expected, ex.Expected);
        Assert.Equal(actual, ex.Actual);
        Assert.Equal(new SbeDecodeError(status, expected, actual), ex.Error);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Flyweight_WrapAndApplyHeader_refuses_with_the_same_reason(string name, byte[] input, SbeDecodeStatus status, int expected, int actual, string message)
    {
        _ = name;
        SbeDecodeException ex = Assert.Throws<SbeDecodeException>(() => { new TradeDecoder().WrapAndApplyHeader(input, 0); });
        Assert.Equal(message, ex.Message);
        Assert.Equal(status, ex.Status);
        Assert.Equal(expected, ex.Expected);
        Assert.Equal(actual, ex.Actual);
    }

    [Fact]
    public void TryFormat_renders_without_allocating_a_string_and_reports_a_short_destination()
    {
        var error = new SbeDecodeError(SbeDecodeStatus.InsufficientData, 29, 20);
        Span<char> buffer = stackalloc char[64];
        Assert.True(error.TryFormat(buffer, out int written));
        Assert.Equal("Insufficient data: expected 29 bytes, got 20", buffer[..written].ToString());

        Assert.False(error.TryFormat(buffer[..10], out _));
    }

    [Fact]
    public void Default_error_is_no_error()
    {
        SbeDecodeError error = default;
        Assert.False(error.IsError);
        Assert.Equal(SbeDecodeStatus.None, error.Status);
        Assert.Equal("No error", error.ToString());
    }

    [Fact]
    public void Extended_block_decodes_the_known_fields_and_consumes_8_plus_blockLength()
    {
        // Version 1 of the schema appended 4 bytes (say a uint32 venue) after quantity: blockLength 25.
        byte[] input =
        [
            0x19, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00, // blockLength 25, templateId 1, schemaId 1, version 1
            0x39, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // tradeId 12345
            0x42,                                           // 'B'
            0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x59, 0x40, // 100.5
            0xE8, 0x03, 0x00, 0x00,                         // 1000
            0xDE, 0xC0, 0xAD, 0x0B,                         // unknown appended field
            0x15, 0x00,                                     // start of whatever follows
        ];

        Assert.True(Trade.TryDecode(input, out Trade trade, out int consumed, out SbeDecodeError error));
        Assert.Equal(new Trade(12345, (byte)'B', 100.5, 1000), trade);
        Assert.Equal(33, consumed);
        Assert.False(error.IsError);
        Assert.Equal(trade, Trade.Decode(input));

        var decoder = new TradeDecoder().WrapAndApplyHeader(input, 0);
        Assert.Equal(trade, decoder.ToTrade());
        Assert.Equal(33, decoder.Limit);
        Assert.Equal(25, decoder.EncodedLength);
        Assert.Equal(1, decoder.ActingVersion);
    }

    [Fact]
    public void MessageHeader_Read_refuses_fewer_than_8_bytes()
    {
        Assert.False(MessageHeader.TryRead(new byte[7], out MessageHeader header));
        Assert.Equal(default, header);
        SbeDecodeException ex = Assert.Throws<SbeDecodeException>(() => MessageHeader.Read(new byte[7]));
        Assert.Equal("Insufficient data: expected 8 bytes, got 7", ex.Message);
    }

    [Fact]
    public void Encode_into_a_short_destination_names_both_sizes()
    {
        var trade = new Trade(1, (byte)'A', 1, 1);
        ArgumentException ex = Assert.Throws<ArgumentException>(() => trade.Encode(new byte[20]));
        Assert.Equal("destination", ex.ParamName);
        Assert.StartsWith("Destination too small: expected 29 bytes, got 20", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EncodeToBuffer_into_a_short_destination_names_both_sizes_and_writes_nothing()
    {
        var trades = new Trade[10];
        var destination = new byte[289];
        ArgumentException ex = Assert.Throws<ArgumentException>(() => Trade.EncodeToBuffer(trades, destination));
        Assert.StartsWith("Destination too small: expected 290 bytes, got 289", ex.Message, StringComparison.Ordinal);
        Assert.All(destination, b => Assert.Equal(0, b));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(30)]
    public void DecodeFromBuffer_refuses_an_offset_outside_the_buffer(int offset)
    {
        var buffer = new byte[29];
        ArgumentOutOfRangeException ex = Assert.Throws<ArgumentOutOfRangeException>(() => Trade.DecodeFromBuffer(buffer, offset));
        Assert.Equal("offset", ex.ParamName);
    }

    [Fact]
    public void DecodeFromBuffer_at_the_end_is_insufficient_data()
    {
        SbeDecodeException ex = Assert.Throws<SbeDecodeException>(() => Trade.DecodeFromBuffer(new byte[29], 29));
        Assert.Equal("Insufficient data: expected 29 bytes, got 0", ex.Message);
    }

    [Fact]
    public void Flyweight_wrap_checks_block_length_and_buffer_size()
    {
        var buffer = new byte[40];
        SbeDecodeException small = Assert.Throws<SbeDecodeException>(() => { new TradeDecoder().WrapForDecode(buffer, 8, 13, 0); });
        Assert.Equal("Block length too small: expected at least 21, got 13", small.Message);

        SbeDecodeException cut = Assert.Throws<SbeDecodeException>(() => { new TradeDecoder().WrapForDecode(buffer, 30, 21, 0); });
        Assert.Equal("Insufficient data: expected 21 bytes, got 10", cut.Message);

        Assert.Throws<ArgumentOutOfRangeException>(() => { new TradeDecoder().WrapForDecode(buffer, 41, 21, 0); });
        Assert.Throws<ArgumentOutOfRangeException>(() => { new TradeEncoder().WrapForEncode(buffer, -1); });

        ArgumentException enc = Assert.Throws<ArgumentException>(() => { new TradeEncoder().WrapAndApplyHeader(buffer, 12); });
        Assert.StartsWith("Destination too small: expected 41 bytes, got 40", enc.Message, StringComparison.Ordinal);
    }
}
