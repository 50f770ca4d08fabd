using WsGateway.Sbe.Generator.Tests.Infrastructure;

namespace WsGateway.Sbe.Generator.Tests;

/// <summary>
/// The shapes of the reference suite's Binance and CME captures (see <see cref="RealCaptureTests"/>) on the project's
/// own schema, tests/data/sbe/wsgateway/exchange-shapes.xml, and its hand-written vectors: code generated and compiled
/// at test time decodes each vector to the values written beside its bytes and ends exactly at its last byte, and the
/// generated encoders write the same bytes again.
/// </summary>
public sealed class ShapeCaptureTests
{
    private const string Walker = """
        public static class Walker
        {
            public static string Trades(byte[] buffer)
            {
                var e = new Shapes.TradesStreamEventDecoder().WrapAndApplyHeader(buffer, 0);
                string text = $"{e.EventTime}|{e.TransactTime}|{e.PriceExponent}|{e.QtyExponent}|";
                var trades = e.Trades;
                text += trades.Count + ":";
                while (trades.HasNext)
                {
                    trades.Next();
                    text += $"{trades.Id}/{trades.Price}/{trades.Qty}/{trades.IsBuyerMaker}/{trades.IsBestMatch};";
                }

                return text + "|" + e.GetSymbol() + "|" + e.Limit;
            }

            public static string Response(byte[] buffer)
            {
                var response = new Shapes.ResponseDecoder().WrapAndApplyHeader(buffer, 0);
                string limits = "";
                var rateLimits = response.RateLimits;
                while (rateLimits.HasNext)
                {
                    rateLimits.Next();
                    limits += $"{rateLimits.RateLimitType}/{rateLimits.Interval}/{rateLimits.IntervalNum}/{rateLimits.RateLimit}/{rateLimits.Current};";
                }

                string id = response.GetId();
                System.ReadOnlySpan<byte> result = response.GetResultBytes();
                var inner = new Shapes.BookTickerDecoder().WrapAndApplyHeader(result, 0);
                string ticker = $"{inner.PriceExponent}|{inner.QtyExponent}|{inner.BidPrice}|{inner.BidQty}|{inner.AskPrice}|{inner.AskQty}|{inner.GetSymbol()}|{inner.Limit}=={result.Length}";
                return $"{response.Status}|{limits}|{id}|{ticker}|{response.Limit}";
            }

            public static string AccountPosition(byte[] buffer)
            {
                var e = new Shapes.AccountPositionDecoder().WrapAndApplyHeader(buffer, 0);
                string text = $"{e.ActingVersion}|{e.ActingBlockLength}|{e.EventTime}|{e.UpdateTime}|{e.SubscriptionId}|";
                var balances = e.Balances;
                while (balances.HasNext)
                {
                    balances.Next();
                    long free = balances.Free;
                    long locked = balances.Locked;
                    text += $"{balances.GetAsset()}:{free}e{balances.Exponent}:{locked};";
                }

                return text + "|" + e.Limit;
            }

            public static string BookRefresh(byte[] buffer)
            {
                var m = new Shapes.BookRefreshDecoder().WrapAndApplyHeader(buffer, 0);
                string text = $"{m.TransactTime}|{(byte)m.MatchEventIndicator:x2}|";
                var entries = m.Entries;
                while (entries.HasNext)
                {
                    entries.Next();
                    text += $"{entries.Price.Mantissa}e{entries.Price.Exponent}/{entries.Size}/{entries.SecurityId}/{entries.RptSeq}/{entries.NumberOfOrders}/{entries.PriceLevel}/{entries.UpdateAction}/{entries.EntryType};";
                }

                text += "|";
                var orders = m.Orders;
                while (orders.HasNext)
                {
                    orders.Next();
                    text += $"{orders.OrderId}/{orders.OrderPriority}/{orders.DisplayQty}/{orders.ReferenceId}/{orders.OrderUpdateAction};";
                }

                return text + "|" + m.Limit;
            }

            /// <summary>The Response vector's values, encoded; returns the bytes written.</summary>
            public static byte[] EncodeResponse()
            {
                byte[] inner = new byte[64];
                var ticker = new Shapes.BookTickerEncoder().WrapAndApplyHeader(inner, 0);
                ticker.PriceExponent = -2;
                ticker.QtyExponent = -5;
                ticker.BidPrice = 6889999;
                ticker.BidQty = 83374;
                ticker.AskPrice = 6890000;
                ticker.AskQty = 609203;
                ticker.SetSymbol("BTCUSDT");
                int innerLength = Shapes.MessageHeaderEncoder.EncodedLength + ticker.EncodedLength;

                byte[] buffer = new byte[256];
                var response = new Shapes.ResponseEncoder().WrapAndApplyHeader(buffer, 0);
                response.Status = 200;
                var limits = response.RateLimitsCount(2);
                limits.Next();
                limits.RateLimitType = Shapes.RateLimitType.RequestWeight;
                limits.Interval = Shapes.Interval.Minute;
                limits.IntervalNum = 1;
                limits.RateLimit = 6000;
                limits.Current = 4;
                limits.Next();
                limits.RateLimitType = Shapes.RateLimitType.Orders;
                limits.Interval = Shapes.Interval.Day;
                limits.IntervalNum = 1;
                limits.RateLimit = 160000;
                limits.Current = 1;
                response.SetId("req-7");
                response.SetResult(new System.ReadOnlySpan<byte>(inner, 0, innerLength));
                return buffer[..(Shapes.MessageHeaderEncoder.EncodedLength + response.EncodedLength)];
            }

            /// <summary>The AccountPosition vector's values, encoded; returns the bytes written.</summary>
            public static byte[] EncodeAccountPosition()
            {
                byte[] buffer = new byte[256];
                var e = new Shapes.AccountPositionEncoder().WrapAndApplyHeader(buffer, 0);
                e.EventTime = 1700000000000000;
                e.UpdateTime = 1700000000000001;
                e.SubscriptionId = Shapes.AccountPositionEncoder.SubscriptionIdNullValue;
                var balances = e.BalancesCount(3);
                foreach ((long free, long locked, string asset) in new[] { (100000000L, 0L, "BTC"), (28L, 0L, "BNB"), (5000000000000L, 250000000L, "USDT") })
                {
                    balances.Next();
                    balances.Exponent = -8;
                    balances.Free = free;
                    balances.Locked = locked;
                    balances.SetAsset(asset);
                }

                return buffer[..(Shapes.MessageHeaderEncoder.EncodedLength + e.EncodedLength)];
            }
        }
        """;

    private static readonly Lazy<Type> s_shapes = new(() => RealCaptureTests.Compile(SbeData.Path("wsgateway", "exchange-shapes.xml"), "Shapes", Walker));

    [Fact]
    public void Trades_with_a_uint32_count_and_a_constant_in_the_group_decode_to_their_end()
    {
        Assert.Equal(
            "1700000000123|1700000000120|-2|-8|2:1001/6500012/150000000/True/True;1002/6500013/2500000/False/True;|BTCUSDT|90",
            Invoke("Trades", Vector("trades-stream-event.hex")));
    }

    [Fact]
    public void Response_with_a_nested_book_ticker_decodes_to_its_end()
    {
        Assert.Equal(
            "200|RequestWeight/Minute/1/6000/4;Orders/Day/1/160000/1;|req-7|-2|-5|6889999|83374|6890000|609203|BTCUSDT|50==50|112",
            Invoke("Response", Vector("response-with-book-ticker.hex")));
    }

    [Fact]
    public void Account_position_with_var_data_in_each_entry_decodes_to_its_end()
    {
        Assert.Equal(
            "2|18|1700000000000000|1700000000000001|65535|BTC:100000000e-8:0;BNB:28e-8:0;USDT:5000000000000e-8:250000000;|96",
            Invoke("AccountPosition", Vector("account-position.hex")));
    }

    [Fact]
    public void Version_0_account_position_reads_its_group_after_its_own_block_length()
    {
        // subscriptionId is newer than the message: the decoder gives its null value, 65535.
        Assert.Equal(
            "0|16|1600000000000000|1600000000000002|65535|€UR:12345e-2:-1;|53",
            Invoke("AccountPosition", Vector("account-position-v0.hex")));
    }

    [Fact]
    public void Book_refresh_skips_padding_and_reads_the_count_at_offset_7()
    {
        Assert.Equal(
            "1536000000123456789|81|2800250000000e-9/5/12345/1001/3/1/1/Bid;2800500000000e-9/7/12345/1002/2/2/0/Offer;|987654321/42/5/1/0;|118",
            Invoke("BookRefresh", Vector("book-refresh.hex")));
    }

    [Theory]
    [InlineData("EncodeResponse", "response-with-book-ticker.hex")]
    [InlineData("EncodeAccountPosition", "account-position.hex")]
    public void Generated_encoders_write_the_hand_written_bytes(string method, string vector)
    {
        byte[] encoded = (byte[])s_shapes.Value.GetMethod(method)!.Invoke(null, null)!;

        Assert.Equal(Vector(vector), encoded);
    }

    private static string Invoke(string method, byte[] bytes) => (string)s_shapes.Value.GetMethod(method)!.Invoke(null, [bytes])!;

    private static byte[] Vector(string name) => SbeData.Hex("wsgateway", "vectors", name);
}
