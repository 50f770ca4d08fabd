namespace WsGateway.Sbe.Tests;

/// <summary>The acknowledgement message of schemas/trade.xml: its bytes, written out by hand from the schema.</summary>
public sealed class TradeAckTests
{
    // header (blockLength 16, templateId 2, schemaId 1, version 0), lastTradeId 0x0102030405060708, count 300
    private static readonly byte[] s_golden =
    [
        0x10, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00,
        0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
        0x2C, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    [Fact]
    public void Encodes_the_bytes_the_schema_describes()
    {
        var buffer = new byte[TradeAck.EncodedSize];
        new TradeAck(0x0102030405060708, 300).Encode(buffer);
        Assert.Equal(s_golden, buffer);
    }

    [Fact]
    public void Decodes_the_golden_bytes_and_a_newer_version_with_a_longer_block()
    {
        Assert.True(TradeAck.TryDecode(s_golden, out TradeAck ack));
        Assert.Equal(new TradeAck(0x0102030405060708, 300), ack);

        byte[] newer = [0x14, 0x00, 0x02, 0x00, 0x01, 0x00, 0x01, 0x00, .. s_golden.AsSpan(8), 0xFF, 0xFF, 0xFF, 0xFF];
        Assert.True(TradeAck.TryDecode(newer, out ack));
        Assert.Equal(300UL, ack.Count);
    }

    [Fact]
    public void Refuses_a_trade_a_short_message_and_another_schema()
    {
        var trade = new byte[Trade.EncodedSize];
        new Trade(1, (byte)'A', 1.5, 2).Encode(trade);
        Assert.False(TradeAck.TryDecode(trade, out _));
        Assert.False(TradeAck.TryDecode(s_golden.AsSpan(0, 23), out _));
        byte[] otherSchema = [.. s_golden];
        otherSchema[4] = 2;
        Assert.False(TradeAck.TryDecode(otherSchema, out _));
    }
}
