using System.Text.Json;

using WsGateway.Sbe.Generator.Tests.Infrastructure;

namespace WsGateway.Sbe.Schema.Tests;

/// <summary>
/// The project's own schema of exchange shapes (tests/data/sbe/wsgateway/exchange-shapes.xml) and its hand-written
/// vectors, decoded at run time: the Binance and CME shapes of the reference suite (uint32 and uint8 group counts, a
/// count at offset 7, padding in blocks, uint8 var lengths, a constant in a group, var data in group entries, a message
/// nested in var data, an optional field newer than the message) in the default suite. Expected values are those
/// written beside each byte in the .hex files.
/// </summary>
public sealed class ShapeDecodeTests
{
    private static readonly Lazy<SbeJsonDecoder> s_shapes = new(() => new SbeJsonDecoder(SbeSchema.Load(SbeData.Path("wsgateway", "exchange-shapes.xml"))));

    [Fact]
    public void Schema_lists_its_five_messages()
    {
        SbeSchema schema = s_shapes.Value.Schema;

        Assert.Equal((40, 2, false, 8), (schema.Id, schema.Version, schema.IsBigEndian, schema.HeaderSize));
        Assert.Equal(
            [new("TradesStreamEvent", 10, 18, 0), new("BookTicker", 11, 34, 0), new("AccountPosition", 12, 18, 0), new("BookRefresh", 46, 11, 0), new SbeMessageInfo("Response", 50, 2, 0)],
            schema.Messages);
    }

    [Fact]
    public void Trades_with_a_uint32_count_and_a_constant_in_the_group()
    {
        byte[] bytes = Vector("trades-stream-event.hex");
        Assert.Equal(90, bytes.Length);

        Assert.True(s_shapes.Value.TryDecodeToJson(bytes, out string json, out int consumed, out string? error), error);

        Assert.Equal(90, consumed);
        Assert.Equal(
            ("{'$message':'TradesStreamEvent','$header':{'blockLength':18,'templateId':10,'schemaId':40,'version':2},"
            + "'eventTime':1700000000123,'transactTime':1700000000120,'priceExponent':-2,'qtyExponent':-8,"
            + "'trades':[{'id':1001,'price':6500012,'qty':150000000,'isBuyerMaker':'True','isBestMatch':'True'},"
            + "{'id':1002,'price':6500013,'qty':2500000,'isBuyerMaker':'False','isBestMatch':'True'}],"
            + "'symbol':'BTCUSDT'}").Replace('\'', '"'),
            json);
    }

    [Fact]
    public void Response_with_a_uint16_count_and_a_complete_message_in_its_var_data()
    {
        JsonElement response = CarDecodeTests.Decode(s_shapes.Value, Vector("response-with-book-ticker.hex"), 112);

        Assert.Equal("Response", response.GetProperty("$message").GetString());
        Assert.Equal(200, response.GetProperty("status").GetInt32());
        string[] limits = [.. response.GetProperty("rateLimits").EnumerateArray().Select(l =>
            $"{l.GetProperty("rateLimitType").GetString()}/{l.GetProperty("interval").GetString()}/{l.GetProperty("intervalNum").GetInt32()}/{l.GetProperty("rateLimit").GetInt64()}/{l.GetProperty("current").GetInt64()}")];
        Assert.Equal(["RequestWeight/Minute/1/6000/4", "Orders/Day/1/160000/1"], limits);
        Assert.Equal("req-7", response.GetProperty("id").GetString());

        // The result has no character encoding: its bytes come out as base64, and they are a whole BookTicker.
        byte[] result = response.GetProperty("result").GetBytesFromBase64();
        Assert.Equal(50, result.Length);
        Assert.True(s_shapes.Value.TryDecodeToJson(result, out string ticker, out int consumed, out string? error), error);
        Assert.Equal(50, consumed);
        Assert.Equal(
            ("{'$message':'BookTicker','$header':{'blockLength':34,'templateId':11,'schemaId':40,'version':2},"
            + "'priceExponent':-2,'qtyExponent':-5,'bidPrice':6889999,'bidQty':83374,'askPrice':6890000,'askQty':609203,'symbol':'BTCUSDT'}").Replace('\'', '"'),
            ticker);
    }

    [Fact]
    public void Account_position_with_a_null_optional_field_and_var_data_in_each_entry()
    {
        JsonElement e = CarDecodeTests.Decode(s_shapes.Value, Vector("account-position.hex"), 96);

        Assert.Equal(2, e.GetProperty("$header").GetProperty("version").GetInt32());
        Assert.Equal(1700000000000000, e.GetProperty("eventTime").GetInt64());
        Assert.Equal(1700000000000001, e.GetProperty("updateTime").GetInt64());
        Assert.Equal(JsonValueKind.Null, e.GetProperty("subscriptionId").ValueKind); // 65535 = uint16 null
        Assert.Equal(["BTC:100000000e-8:0", "BNB:28e-8:0", "USDT:5000000000000e-8:250000000"], Balances(e));
    }

    [Fact]
    public void Version_0_account_position_has_no_subscription_id_and_its_group_after_16_bytes()
    {
        JsonElement e = CarDecodeTests.Decode(s_shapes.Value, Vector("account-position-v0.hex"), 53);

        Assert.Equal(0, e.GetProperty("$header").GetProperty("version").GetInt32());
        Assert.Equal(16, e.GetProperty("$header").GetProperty("blockLength").GetInt32());
        Assert.Equal(1600000000000000, e.GetProperty("eventTime").GetInt64());
        Assert.Equal(1600000000000002, e.GetProperty("updateTime").GetInt64());
        Assert.Equal(JsonValueKind.Null, e.GetProperty("subscriptionId").ValueKind); // since version 1
        Assert.Equal(["€UR:12345e-2:-1"], Balances(e));
    }

    [Fact]
    public void Book_refresh_skips_padding_and_reads_the_count_at_offset_7()
    {
        byte[] bytes = Vector("book-refresh.hex");

        Assert.True(s_shapes.Value.TryDecodeToJson(bytes, out string json, out int consumed, out string? error), error);

        Assert.Equal(118, consumed);
        Assert.Equal(
            ("{'$message':'BookRefresh','$header':{'blockLength':11,'templateId':46,'schemaId':40,'version':2},"
            + "'transactTime':1536000000123456789,'matchEventIndicator':['LastTradeMsg','EndOfEvent'],"
            + "'entries':[{'price':{'mantissa':2800250000000,'exponent':-9},'size':5,'securityId':12345,'rptSeq':1001,'numberOfOrders':3,'priceLevel':1,'updateAction':1,'entryType':'Bid'},"
            + "{'price':{'mantissa':2800500000000,'exponent':-9},'size':7,'securityId':12345,'rptSeq':1002,'numberOfOrders':2,'priceLevel':2,'updateAction':0,'entryType':'Offer'}],"
            + "'orders':[{'orderId':987654321,'orderPriority':42,'displayQty':5,'referenceId':1,'orderUpdateAction':0}]}").Replace('\'', '"'),
            json);
    }

    [Fact]
    public void Vectors_back_to_back_decode_one_after_the_other()
    {
        string[] names = ["trades-stream-event.hex", "response-with-book-ticker.hex", "account-position.hex", "account-position-v0.hex", "book-refresh.hex"];
        byte[] all = [.. names.SelectMany(Vector)];

        var messages = new List<string?>();
        int position = 0;
        while (position < all.Length)
        {
            Assert.True(s_shapes.Value.TryDecodeToJson(all.AsSpan(position), out string json, out int consumed, out string? error), error);
            messages.Add(JsonDocument.Parse(json).RootElement.GetProperty("$message").GetString());
            position += consumed;
        }

        Assert.Equal(90 + 112 + 96 + 53 + 118, position);
        Assert.Equal(["TradesStreamEvent", "Response", "AccountPosition", "AccountPosition", "BookRefresh"], messages);
    }

    [Theory]
    [InlineData("trades-stream-event.hex")]
    [InlineData("response-with-book-ticker.hex")]
    [InlineData("account-position.hex")]
    [InlineData("book-refresh.hex")]
    public void Every_cut_of_a_vector_is_refused_with_a_reason(string name)
    {
        byte[] bytes = Vector(name);
        for (int length = 0; length < bytes.Length; length++)
        {
            Assert.False(s_shapes.Value.TryDecodeToJson(bytes.AsSpan(0, length), out _, out _, out string? error), $"{length} of {bytes.Length} bytes decoded");
            Assert.False(string.IsNullOrEmpty(error));
        }
    }

    private static byte[] Vector(string name) => SbeData.Hex("wsgateway", "vectors", name);

    private static string[] Balances(JsonElement e)
        => [.. e.GetProperty("balances").EnumerateArray().Select(b =>
            $"{b.GetProperty("asset").GetString()}:{b.GetProperty("free").GetInt64()}e{b.GetProperty("exponent").GetInt32()}:{b.GetProperty("locked").GetInt64()}")];
}
