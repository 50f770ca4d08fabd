using System.Reflection;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using WsGateway.Sbe.Generator.Tests.Infrastructure;

namespace WsGateway.Sbe.Generator.Tests;

/// <summary>
/// Property tests on code generated from a schema of Binance's shape: random TradesStreamEvent messages — uint32 group
/// counts, a constant field in the group, UTF-8 var data with a uint8 length — round-trip through the generated
/// encoder and decoder, and the decoder ends exactly where the encoder did. Run on the project's own
/// tests/data/sbe/wsgateway/exchange-shapes.xml, and in the reference suite on Binance's own
/// exchanges/binance/stream_1_0.xml (no licence to redistribute, so not in the repository).
/// </summary>
public sealed class BinanceRoundTripTests
{
    // Compiled once with the generated code: ref structs cannot cross reflection, so the round trip runs inside.
    // "Spot_stream." is replaced by the namespace the schema is generated into.
    private const string Harness = """
        using System;
        public static class Harness
        {
            public static string? RoundTrip(long eventTime, long transactTime, sbyte priceExponent, sbyte qtyExponent, long[] ids, long[] prices, long[] qtys, bool[] makers, string symbol)
            {
                byte[] buffer = new byte[64 * 1024];
                var encoder = new Spot_stream.TradesStreamEventEncoder().WrapAndApplyHeader(buffer, 0);
                encoder.EventTime = eventTime;
                encoder.TransactTime = transactTime;
                encoder.PriceExponent = priceExponent;
                encoder.QtyExponent = qtyExponent;
                var trades = encoder.TradesCount(ids.Length);
                for (int i = 0; i < ids.Length; i++)
                {
                    trades.Next();
                    trades.Id = ids[i];
                    trades.Price = prices[i];
                    trades.Qty = qtys[i];
                    trades.IsBuyerMaker = makers[i] ? Spot_stream.BoolEnum.True : Spot_stream.BoolEnum.False;
                }

                encoder.SetSymbol(symbol);
                int length = Spot_stream.MessageHeaderEncoder.EncodedLength + encoder.EncodedLength;

                var decoder = new Spot_stream.TradesStreamEventDecoder().WrapAndApplyHeader(buffer.AsSpan(0, length), 0);
                if (decoder.EventTime != eventTime || decoder.TransactTime != transactTime || decoder.PriceExponent != priceExponent || decoder.QtyExponent != qtyExponent)
                {
                    return "root block differs";
                }

                var group = decoder.Trades;
                if (group.Count != ids.Length)
                {
                    return $"group count {group.Count}, expected {ids.Length}";
                }

                for (int i = 0; group.HasNext; i++)
                {
                    group.Next();
                    if (group.Id != ids[i] || group.Price != prices[i] || group.Qty != qtys[i]
                        || group.IsBuyerMaker != (makers[i] ? Spot_stream.BoolEnum.True : Spot_stream.BoolEnum.False)
                        || group.IsBestMatch != Spot_stream.BoolEnum.True)
                    {
                        return $"trade {i} differs";
                    }
                }

                string decodedSymbol = decoder.GetSymbol();
                if (decodedSymbol != symbol)
                {
                    return $"symbol '{decodedSymbol}', expected '{symbol}'";
                }

                int end = Spot_stream.MessageHeaderDecoder.EncodedLength + decoder.EncodedLength;
                return end == length ? null : $"decoder ended at {end}, encoder at {length}";
            }
        }
        """;

    private static readonly Lazy<MethodInfo> s_shapes = new(() => Compile(SbeData.Path("wsgateway", "exchange-shapes.xml"), "Shapes"));
    private static readonly Lazy<MethodInfo> s_binance = new(() => Compile(ReferenceData.Path("exchanges", "binance", "stream_1_0.xml"), "Spot_stream"));

    [Property(MaxTest = 200)]
    public Property Random_trade_stream_events_round_trip() => RoundTrips(s_shapes);

    [Trait("Category", "Reference")]
    [Property(MaxTest = 200)]
    public Property Random_binance_trade_stream_events_round_trip() => RoundTrips(s_binance);

    private static MethodInfo Compile(string schema, string ns)
    {
        GeneratorOutcome outcome = GeneratorRunner.Run([InputFile.FromDisk(schema, ns)], Harness.Replace("Spot_stream.", ns + ".", StringComparison.Ordinal));
        Assert.Empty(outcome.GeneratorDiagnostics);
        Assembly assembly = GeneratorRunner.Load(outcome.Output);
        return assembly.GetType("Harness")!.GetMethod("RoundTrip")!;
    }

    private static Property RoundTrips(Lazy<MethodInfo> roundTrip)
    {
        Gen<(long, long, sbyte, sbyte, (long Id, long Price, long Qty, bool Maker)[], string)> events =
            from eventTime in ArbMap.Default.GeneratorFor<long>()
            from transactTime in ArbMap.Default.GeneratorFor<long>()
            from priceExponent in ArbMap.Default.GeneratorFor<sbyte>()
            from qtyExponent in ArbMap.Default.GeneratorFor<sbyte>()
            from trades in Gen.ArrayOf(
                from id in ArbMap.Default.GeneratorFor<long>()
                from price in ArbMap.Default.GeneratorFor<long>()
                from qty in ArbMap.Default.GeneratorFor<long>()
                from maker in ArbMap.Default.GeneratorFor<bool>()
                select (id, price, qty, maker))
            from symbol in Gen.Elements("BTCUSDT", "ETHBTC", "€URO", string.Empty, "SOLUSDC")
            select (eventTime, transactTime, priceExponent, qtyExponent, trades, symbol);

        return Prop.ForAll(events.ToArbitrary(), e =>
        {
            (long eventTime, long transactTime, sbyte pe, sbyte qe, var trades, string symbol) = e;
            object? problem = roundTrip.Value.Invoke(null, [
                eventTime, transactTime, pe, qe,
                trades.Select(t => t.Id).ToArray(), trades.Select(t => t.Price).ToArray(),
                trades.Select(t => t.Qty).ToArray(), trades.Select(t => t.Maker).ToArray(), symbol]);
            return (problem is null).Label(problem as string ?? "ok");
        });
    }
}
