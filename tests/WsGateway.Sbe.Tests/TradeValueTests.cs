using System.Globalization;

namespace WsGateway.Sbe.Tests;

public class TradeValueTests
{
    [Fact]
    public void Equality_is_bitwise_on_the_price()
    {
        Assert.Equal(new Trade(1, 65, double.NaN, 1), new Trade(1, 65, double.NaN, 1));
        Assert.NotEqual(new Trade(1, 65, 0.0, 1), new Trade(1, 65, -0.0, 1));
        Assert.NotEqual(
            new Trade(1, 65, BitConverter.Int64BitsToDouble(0x7FF8_0000_0000_0001), 1),
            new Trade(1, 65, BitConverter.Int64BitsToDouble(0x7FF8_0000_0000_0002), 1));
        Assert.True(new Trade(1, 65, 2.5, 1) == new Trade(1, 65, 2.5, 1));
        Assert.True(new Trade(1, 65, 2.5, 1) != new Trade(2, 65, 2.5, 1));
        Assert.True(new Trade(1, 65, 2.5, 1) != new Trade(1, 66, 2.5, 1));
        Assert.True(new Trade(1, 65, 2.5, 1) != new Trade(1, 65, 2.5, 2));
        Assert.False(new Trade(1, 65, 2.5, 1).Equals("not a trade"));
        Assert.True(new Trade(1, 65, 2.5, 1).Equals((object)new Trade(1, 65, 2.5, 1)));
    }

    [Fact]
    public void ToString_shows_the_fields_culture_invariant()
    {
        CultureInfo saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = new CultureInfo("de-DE");
            Assert.Equal("Trade { TradeId = 12345, Symbol = 'B', Price = 100.5, Quantity = 1000 }", new Trade(12345, (byte)'B', 100.5, 1000).ToString());
            Assert.Equal("Trade { TradeId = 1, Symbol = 0x07, Price = NaN, Quantity = 0 }", new Trade(1, 7, double.NaN, 0).ToString());
            Assert.Equal("Trade { TradeId = 1, Symbol = 'x', Price = 0.1, Quantity = 0 }", new Trade(1, (byte)'x', 0.1, 0).ToString());
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }

    [Fact]
    public void SymbolChar_is_the_symbol_byte_as_a_char()
    {
        Assert.Equal('Z', new Trade(0, (byte)'Z', 0, 0).SymbolChar);
    }

    [Fact]
    public void Trade_is_a_small_value()
    {
        Assert.Equal(24, System.Runtime.CompilerServices.Unsafe.SizeOf<Trade>());
    }

    [Fact]
    public void Null_and_range_constants_follow_sbe_tool()
    {
        Assert.Equal(ulong.MaxValue, TradeDecoder.TradeIdNullValue);
        Assert.Equal(ulong.MaxValue - 1, TradeDecoder.TradeIdMaxValue);
        Assert.Equal(0UL, TradeDecoder.TradeIdMinValue);
        Assert.Equal(0, TradeDecoder.SymbolNullValue);
        Assert.Equal(0x20, TradeDecoder.SymbolMinValue);
        Assert.Equal(0x7E, TradeDecoder.SymbolMaxValue);
        Assert.True(double.IsNaN(TradeDecoder.PriceNullValue));
        Assert.Equal(uint.MaxValue, TradeEncoder.QuantityNullValue);
        Assert.Equal(uint.MaxValue - 1, TradeEncoder.QuantityMaxValue);
        Assert.Equal(21, TradeEncoder.SbeBlockLength);
        Assert.Equal(1, TradeDecoder.TemplateId);
        Assert.Equal(1, TradeDecoder.SchemaId);
        Assert.Equal(1, TradeDecoder.SchemaVersion);
        Assert.Equal(0, Trade.SchemaVersion); // Trade is unchanged in version 1: clients keep writing version 0
    }

    [Fact]
    public void Encode_and_decode_do_not_allocate()
    {
        var trade = new Trade(12345, (byte)'B', 100.5, 1000);
        var buffer = new byte[29 * 64];
        var trades = new Trade[64];

        // Warm up (JIT, tiering) before measuring.
        for (int i = 0; i < 100; i++)
        {
            Run();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        ulong sum = Run();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.NotEqual(0UL, sum);

        ulong Run()
        {
            ulong total = 0;
            trade.Encode(buffer);
            total += Trade.Decode(buffer).Quantity;
            _ = Trade.TryDecode(buffer, out Trade t, out _, out SbeDecodeError error);
            total += t.Quantity + (ulong)error.Status;
            Trade.EncodeToBuffer(trades, buffer);
            foreach (Trade each in new TradeBatchReader(buffer))
            {
                total += each.Quantity + 1;
            }

            total += new TradeDecoder().WrapAndApplyHeader(buffer, 29).TradeId;
            _ = Trade.TryDecode(buffer.AsSpan(0, 20), out _, out _, out error);
            total += (ulong)error.Actual;
            return total;
        }
    }
}
