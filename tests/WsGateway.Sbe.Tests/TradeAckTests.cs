namespace WsGateway.Sbe.Tests;

/// <summary>The acknowledgement message of schemas/trade.xml: its bytes, written out by hand from the schema, in
/// version 1 (with <c>duplicates</c>) and as a version 0 gateway sends it.</summary>
public sealed class TradeAckTests
{
    // Version 1: header (blockLength 24, templateId 2, schemaId 1, version 1), lastTradeId 0x0102030405060708,
    // count 300, duplicates 7.
    private static readonly byte[] s_golden =
    [
        0x18, 0x00, 0x02, 0x00, 0x01, 0x00, 0x01, 0x00,
        0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
        0x2C, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    // Version 0, as a gateway before the duplicates field sends it: header (16, 2, 1, 0), lastTradeId, count 300.
    private static readonly byte[] s_version0 =
    [
        0x10, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00,
        0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
        0x2C, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    [Fact]
    public void Encodes_the_bytes_the_schema_describes()
    {
        var buffer = new byte[TradeAck.EncodedSize];
        new TradeAck(0x0102030405060708, 300, 7).Encode(buffer);
        Assert.Equal(32, TradeAck.EncodedSize);
        Assert.Equal(s_golden, buffer);
    }

    [Fact]
    public void Unknown_duplicates_are_the_null_value_on_the_wire_and_null_again_when_read()
    {
        var buffer = new byte[TradeAck.EncodedSize];
        new TradeAck(5, 6, null).Encode(buffer);
        Assert.Equal(Enumerable.Repeat((byte)0xFF, 8), buffer[24..]);
        Assert.True(TradeAck.TryDecode(buffer, out TradeAck ack));
        Assert.Equal(new TradeAck(5, 6, null), ack);

        new TradeAck(5, 6, 0).Encode(buffer);
        Assert.True(TradeAck.TryDecode(buffer, out ack));
        Assert.Equal(0UL, ack.Duplicates);
    }

    [Fact]
    public void Decodes_version_1_and_a_newer_version_with_a_longer_block()
    {
        Assert.True(TradeAck.TryDecode(s_golden, out TradeAck ack));
        Assert.Equal(new TradeAck(0x0102030405060708, 300, 7), ack);

        byte[] newer = [0x1C, 0x00, 0x02, 0x00, 0x01, 0x00, 0x02, 0x00, .. s_golden.AsSpan(8), 0xFF, 0xFF, 0xFF, 0xFF];
        Assert.True(TradeAck.TryDecode(newer, out ack));
        Assert.Equal(new TradeAck(0x0102030405060708, 300, 7), ack);
    }

    [Fact]
    public void An_old_gateways_version_0_ack_decodes_with_duplicates_unknown_without_reading_past_its_block()
    {
        // Exactly 24 bytes: a reader that looked for duplicates at offset 24 would run past the message.
        Assert.True(TradeAck.TryDecode(s_version0, out TradeAck ack));
        Assert.Equal(new TradeAck(0x0102030405060708, 300, null), ack);

        // Version 0 with bytes following in the same buffer: they are not the duplicates field.
        byte[] followed = [.. s_version0, 0x01, 0, 0, 0, 0, 0, 0, 0];
        Assert.True(TradeAck.TryDecode(followed, out ack));
        Assert.Null(ack.Duplicates);

        // A header that claims version 1 with the version 0 block length has no room for it either.
        byte[] claims = [.. s_version0, 0x01, 0, 0, 0, 0, 0, 0, 0];
        claims[6] = 1;
        Assert.True(TradeAck.TryDecode(claims, out ack));
        Assert.Null(ack.Duplicates);
    }

    [Fact]
    public void A_version_0_reader_reads_a_version_1_ack_by_its_block_length()
    {
        // The version 0 decoder's rule (any version, blockLength >= 16, fields at offsets 0 and 8 of the block),
        // applied to the version 1 bytes: the same lastTradeId and count.
        ushort blockLength = System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(s_golden);
        Assert.True(blockLength >= 16);
        Assert.Equal(0x0102030405060708UL, System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(s_golden.AsSpan(8)));
        Assert.Equal(300UL, System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(s_golden.AsSpan(16)));
        Assert.Equal(8 + blockLength, s_golden.Length);
    }

    [Fact]
    public void Refuses_a_trade_a_short_message_and_another_schema()
    {
        var trade = new byte[Trade.EncodedSize];
        new Trade(1, (byte)'A', 1.5, 2).Encode(trade);
        Assert.False(TradeAck.TryDecode(trade, out _));
        Assert.False(TradeAck.TryDecode(s_version0.AsSpan(0, 23), out _));
        Assert.False(TradeAck.TryDecode(s_golden.AsSpan(0, 31), out _));
        byte[] otherSchema = [.. s_golden];
        otherSchema[4] = 2;
        Assert.False(TradeAck.TryDecode(otherSchema, out _));
        byte[] shortBlock = [.. s_version0];
        shortBlock[0] = 15;
        Assert.False(TradeAck.TryDecode(shortBlock, out _));
    }
}
