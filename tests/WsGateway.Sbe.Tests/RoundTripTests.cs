using FsCheck.Xunit;

namespace WsGateway.Sbe.Tests;

/// <summary>Encode then decode gives back the same bits, for every field value.</summary>
public class RoundTripTests
{
    [Property(MaxTest = 1000)]
    public bool Any_values_round_trip(ulong tradeId, byte symbol, double price, uint quantity)
    {
        var trade = new Trade(tradeId, symbol, price, quantity);
        return Trade.Decode(trade.Encode()) == trade;
    }

    [Property(MaxTest = 1000)]
    public void Any_price_bit_pattern_round_trips_bit_for_bit(long priceBits, ulong tradeId)
    {
        var trade = new Trade(tradeId, (byte)'X', BitConverter.Int64BitsToDouble(priceBits), 7);
        Span<byte> buffer = stackalloc byte[Trade.EncodedSize];
        trade.Encode(buffer);

        Assert.True(Trade.TryDecode(buffer, out Trade decoded));
        Assert.Equal(priceBits, BitConverter.DoubleToInt64Bits(decoded.Price));
        Assert.Equal(trade, decoded);
    }

    public static TheoryData<long> SpecialPrices => new()
    {
        0x7FF8_0000_0000_0000,                      // positive quiet NaN (double.NaN itself is 0xFFF8… on x64)
        0x7FF8_0000_0000_0001,                      // quiet NaN with a payload
        0x7FF0_0000_0000_0001,                      // signalling NaN
        unchecked((long)0xFFF8_0000_0000_0000),     // negative NaN
        BitConverter.DoubleToInt64Bits(double.PositiveInfinity),
        BitConverter.DoubleToInt64Bits(double.NegativeInfinity),
        BitConverter.DoubleToInt64Bits(-0.0),
        BitConverter.DoubleToInt64Bits(0.0),
        BitConverter.DoubleToInt64Bits(double.Epsilon),
        BitConverter.DoubleToInt64Bits(double.MaxValue),
        BitConverter.DoubleToInt64Bits(double.MinValue),
    };

    [Theory]
    [MemberData(nameof(SpecialPrices))]
    public void Special_prices_round_trip_bit_for_bit(long priceBits)
    {
        double price = BitConverter.Int64BitsToDouble(priceBits);
        var trade = new Trade(ulong.MaxValue, 0xFF, price, uint.MaxValue);

        byte[] bytes = trade.Encode();
        Assert.Equal(priceBits, BitConverter.ToInt64(bytes, 17));

        Trade decoded = Trade.Decode(bytes);
        Assert.Equal(priceBits, BitConverter.DoubleToInt64Bits(decoded.Price));
        Assert.Equal(trade, decoded);
        Assert.Equal(trade.GetHashCode(), decoded.GetHashCode());
    }

    [Theory]
    [InlineData(0UL, (byte)0, 0U)]
    [InlineData(ulong.MaxValue, (byte)0xFF, uint.MaxValue)]
    [InlineData(1UL, (byte)0x7F, 1U)]
    [InlineData(0x8000_0000_0000_0000UL, (byte)0x80, 0x8000_0000U)]
    public void Integer_extremes_round_trip(ulong tradeId, byte symbol, uint quantity)
    {
        var trade = new Trade(tradeId, symbol, 1.0, quantity);
        Trade decoded = Trade.Decode(trade.Encode());
        Assert.Equal(tradeId, decoded.TradeId);
        Assert.Equal(symbol, decoded.Symbol);
        Assert.Equal(quantity, decoded.Quantity);
    }

    [Property(MaxTest = 300)]
    public bool Decoding_at_a_non_zero_offset_gives_the_same_trade(ulong tradeId, byte symbol, double price, uint quantity, byte offset)
    {
        var trade = new Trade(tradeId, symbol, price, quantity);
        var buffer = new byte[offset + Trade.EncodedSize + 3];
        trade.Encode(buffer.AsSpan(offset));

        return Trade.DecodeFromBuffer(buffer, offset) == trade
            && Trade.Decode(buffer.AsSpan(offset)) == trade
            && new TradeDecoder().WrapAndApplyHeader(buffer, offset).ToTrade() == trade;
    }

    [Property(MaxTest = 300)]
    public bool Flyweights_agree_with_the_Trade_struct(ulong tradeId, byte symbol, double price, uint quantity, byte offset)
    {
        var trade = new Trade(tradeId, symbol, price, quantity);

        var viaFlyweight = new byte[offset + Trade.EncodedSize];
        var encoder = new TradeEncoder().WrapAndApplyHeader(viaFlyweight, offset);
        encoder.TradeId = tradeId;
        encoder.Symbol = symbol;
        encoder.Price = price;
        encoder.Quantity = quantity;

        var viaStruct = new byte[offset + Trade.EncodedSize];
        trade.Encode(viaStruct.AsSpan(offset));

        var viaSet = new byte[offset + Trade.EncodedSize];
        new TradeEncoder().WrapAndApplyHeader(viaSet, offset).Set(trade);

        MessageHeader header = MessageHeader.Read(viaStruct.AsSpan(offset));
        var decoder = new TradeDecoder().WrapForDecode(viaStruct, offset + MessageHeader.EncodedLength, header.BlockLength, header.Version);

        // The flyweight writes the schema's version (1) into the header, the struct version 0 (Trade.SchemaVersion):
        // the same message otherwise.
        return MessageHeader.Read(viaFlyweight.AsSpan(offset)).Version == 1 && header.Version == 0
            && viaFlyweight.AsSpan(offset + MessageHeader.EncodedLength).SequenceEqual(viaStruct.AsSpan(offset + MessageHeader.EncodedLength))
            && viaFlyweight.AsSpan(0, offset + MessageHeader.VersionOffset).SequenceEqual(viaStruct.AsSpan(0, offset + MessageHeader.VersionOffset))
            && viaSet.AsSpan().SequenceEqual(viaFlyweight)
            && encoder.Limit == offset + Trade.EncodedSize
            && decoder.TradeId == tradeId
            && decoder.Symbol == symbol
            && BitConverter.DoubleToInt64Bits(decoder.Price) == BitConverter.DoubleToInt64Bits(price)
            && decoder.Quantity == quantity
            && decoder.ToTrade() == trade
            && decoder.Limit == offset + Trade.EncodedSize;
    }
}
