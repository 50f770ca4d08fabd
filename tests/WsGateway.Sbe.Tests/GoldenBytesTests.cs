
namespace WsGateway.Sbe.Tests;

/// <summary>
/// Byte-for-byte checks against messages written out by hand from the wire format
/// (docs/sbe.md). 100.5 = 1.5703125 × 2^6 → sign 0, exponent 0x405, fraction 0x9200000000000
/// → 0x4059200000000000 → little-endian 00 00 00 00 00 20 59 40.
/// </summary>
public class GoldenBytesTests
{
    // Trade(12345, 'B', 100.5, 1000)
    private static readonly byte[] s_golden =
    [
        0x15, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, // header: blockLength 21, templateId 1, schemaId 1, version 0
        0x39, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // tradeId 12345 = 0x3039
        0x42,                                           // symbol 'B'
        0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x59, 0x40, // price 100.5
        0xE8, 0x03, 0x00, 0x00,                         // quantity 1000 = 0x3E8
    ];

    // Trade(0x0102030405060708, '~', -2.0, 0xDEADBEEF): every byte of every field distinct, sign bit set.
    private static readonly byte[] s_goldenDistinctBytes =
    [
        0x15, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00,
        0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
        0x7E,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0, // -2.0 = 0xC000000000000000
        0xEF, 0xBE, 0xAD, 0xDE,
    ];

    [Fact]
    public void Constants_match_the_wire_format()
    {
        Assert.Equal(29, Trade.EncodedSize);
        Assert.Equal(21, Trade.BlockLength);
        Assert.Equal(1, Trade.TemplateId);
        Assert.Equal(1, Trade.SchemaId);
        Assert.Equal(0, Trade.SchemaVersion);
        Assert.Equal(8, MessageHeader.EncodedLength);
    }

    [Fact]
    public void Encode_writes_the_golden_bytes()
    {
        var trade = new Trade(12345, (byte)'B', 100.5, 1000);

        Assert.Equal(s_golden, trade.Encode());

        Span<byte> destination = stackalloc byte[40];
        destination.Fill(0xAA);
        Assert.Equal(29, trade.Encode(destination));
        Assert.Equal(s_golden, destination[..29].ToArray());
        Assert.True(destination[29..].ToArray().All(b => b == 0xAA), "Encode wrote past 29 bytes");
    }

    [Fact]
    public void Encode_writes_each_field_at_its_offset_little_endian()
    {
        var trade = new Trade(0x0102030405060708, (byte)'~', -2.0, 0xDEADBEEF);
        Assert.Equal(s_goldenDistinctBytes, trade.Encode());
    }

    [Fact]
    public void Decode_reads_the_golden_bytes()
    {
        Trade trade = Trade.Decode(s_golden);

        Assert.Equal(12345UL, trade.TradeId);
        Assert.Equal((byte)'B', trade.Symbol);
        Assert.Equal('B', trade.SymbolChar);
        Assert.Equal(100.5, trade.Price);
        Assert.Equal(1000U, trade.Quantity);
    }

    [Fact]
    public void Decode_reads_each_field_at_its_offset()
    {
        Trade trade = Trade.Decode(s_goldenDistinctBytes);

        Assert.Equal(0x0102030405060708UL, trade.TradeId);
        Assert.Equal((byte)'~', trade.Symbol);
        Assert.Equal(-2.0, trade.Price);
        Assert.Equal(0xDEADBEEFU, trade.Quantity);
    }

    [Fact]
    public void TryDecode_reports_29_bytes_consumed_and_no_error()
    {
        Assert.True(Trade.TryDecode(s_golden, out Trade trade, out int consumed, out SbeDecodeError error));
        Assert.Equal(new Trade(12345, (byte)'B', 100.5, 1000), trade);
        Assert.Equal(29, consumed);
        Assert.Equal(SbeDecodeStatus.None, error.Status);
        Assert.False(error.IsError);
    }

    [Fact]
    public void Decode_ignores_bytes_after_the_message_and_says_how_many_it_used()
    {
        byte[] longer = [.. s_golden, 0xFF, 0xFF, 0xFF];

        Assert.True(Trade.TryDecode(longer, out Trade trade, out int consumed, out _));
        Assert.Equal(12345UL, trade.TradeId);
        Assert.Equal(29, consumed);
    }

    [Fact]
    public void Decode_accepts_a_newer_version_number_with_the_same_block_length()
    {
        byte[] version3 = (byte[])s_golden.Clone();
        version3[6] = 0x03;

        Assert.Equal(12345UL, Trade.Decode(version3).TradeId);
    }

    [Fact]
    public void MessageHeader_reads_and_writes_the_golden_header()
    {
        MessageHeader header = MessageHeader.Read(s_golden);
        Assert.Equal(new MessageHeader(21, 1, 1, 0), header);
        Assert.Equal((ushort)21, header.BlockLength);
        Assert.Equal((ushort)1, header.TemplateId);
        Assert.Equal((ushort)1, header.SchemaId);
        Assert.Equal((ushort)0, header.Version);

        var written = new byte[8];
        Assert.Equal(8, new MessageHeader(0x0201, 0x0403, 0x0605, 0x0807).Write(written));
        Assert.Equal(new byte[] { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 }, written);
    }

    [Fact]
    public void Flyweight_encoder_writes_the_golden_bytes()
    {
        var buffer = new byte[29];
        var encoder = new TradeEncoder().WrapAndApplyHeader(buffer, 0);
        encoder.TradeId = 12345;
        encoder.Symbol = (byte)'B';
        encoder.Price = 100.5;
        encoder.Quantity = 1000;

        // The generated flyweight writes the schema's version, 1, where Trade.Encode writes 0: the rest is the same.
        byte[] version1 = [.. s_golden];
        version1[MessageHeader.VersionOffset] = 1;
        Assert.Equal(version1, buffer);
        Assert.Equal(8, encoder.Offset);
        Assert.Equal(29, encoder.Limit);
        Assert.Equal(21, encoder.EncodedLength);
    }

    [Fact]
    public void Flyweight_decoder_reads_the_golden_bytes()
    {
        var decoder = new TradeDecoder().WrapAndApplyHeader(s_golden, 0);

        Assert.Equal(12345UL, decoder.TradeId);
        Assert.Equal((byte)'B', decoder.Symbol);
        Assert.Equal(100.5, decoder.Price);
        Assert.Equal(1000U, decoder.Quantity);
        Assert.Equal(8, decoder.Offset);
        Assert.Equal(29, decoder.Limit);
        Assert.Equal(21, decoder.EncodedLength);
        Assert.Equal(0, decoder.ActingVersion);
    }
}
