using System.Buffers.Binary;
using WsGateway.Sbe.Generator.Tests.Infrastructure;

namespace WsGateway.Sbe.Schema.Tests;

/// <summary>What <see cref="SbeJsonEncoder"/> writes for JSON written by hand (schemas/trading.xml and the Car), and
/// the one-line errors for JSON it cannot encode: each names the message, the path to the value and what was
/// expected.</summary>
public sealed class EncodeRulesTests
{
    private static readonly Lazy<SbeJsonEncoder> s_trading = new(() => new SbeJsonEncoder(SbeSchema.Load(Path.Combine(SbeData.RepoRoot, "schemas", "trading.xml"))));
    private static readonly Lazy<SbeJsonEncoder> s_car = new(() => new SbeJsonEncoder(SbeSchema.Load(SbeData.Path("reallogic", "samples", "example-schema.xml"))));

    private const string LimitOrder = """{"$message":"Order","orderId":7,"symbol":"A","side":"Buy","orderType":"Limit","price":101.25,"quantity":300,"timestamp":1700000000000000001}""";

    [Fact]
    public void An_order_written_by_hand_is_the_bytes_of_the_schema()
    {
        Assert.True(s_trading.Value.TryEncode(LimitOrder, out byte[] bytes, out string? error), error);

        Assert.Equal(8 + 31, bytes.Length);
        Assert.Equal((31, 2, 2, 0), (Read16(bytes, 0), Read16(bytes, 2), Read16(bytes, 4), Read16(bytes, 6))); // the header, filled in
        Assert.Equal(7UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(8)));
        Assert.Equal((byte)'A', bytes[16]);
        Assert.Equal((byte)'B', bytes[17]); // Side.Buy is the char B
        Assert.Equal(1, bytes[18]); // OrderType.Limit
        Assert.Equal(101.25, BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(19)));
        Assert.Equal(300U, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(27)));
        Assert.Equal(1_700_000_000_000_000_001UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(31)));
    }

    [Fact]
    public void Null_for_an_optional_price_is_the_quiet_NaN_and_a_group_is_written_with_its_dimension()
    {
        Assert.True(s_trading.Value.TryEncode("""{"$message":"Order","orderId":8,"symbol":"B","side":"Sell","orderType":"Market","price":null,"quantity":5,"timestamp":2}""", out byte[] market, out string? error), error);
        Assert.Equal(0x7FF8000000000000, BinaryPrimitives.ReadInt64LittleEndian(market.AsSpan(19)));

        Assert.True(s_trading.Value.TryEncode(
            """{"$message":"Position","account":42,"symbol":"Z","netQuantity":-150,"averagePrice":99.75,"realizedPnl":-12.5,"fills":[{"venue":"X","quantity":-100,"price":99.5},{"venue":"Y","quantity":-50,"price":100.25}]}""",
            out byte[] position,
            out error),
            error);
        Assert.Equal(8 + 29 + 4 + (2 * 17), position.Length);
        Assert.Equal((17, 2), (Read16(position, 37), Read16(position, 39))); // groupSizeEncoding: blockLength, numInGroup
        Assert.Equal((byte)'Y', position[41 + 17]);
        Assert.Equal(-50L, BinaryPrimitives.ReadInt64LittleEndian(position.AsSpan(41 + 17 + 1)));
    }

    [Fact]
    public void The_header_may_be_given_and_a_smaller_block_length_leaves_the_fields_after_it_out()
    {
        Assert.True(s_trading.Value.TryEncode(
            """{"$message":"Trade","$header":{"blockLength":17,"templateId":1,"schemaId":2,"version":0},"tradeId":1,"symbol":"C","price":1.5,"quantity":null}""",
            out byte[] bytes,
            out string? error),
            error);

        Assert.Equal(8 + 17, bytes.Length);
        Assert.Equal(17, Read16(bytes, 0));
    }

    [Theory]
    [InlineData("""{"$message":"Order","orderId":7,"symbol":"A","side":"Buy","orderType":"Limit","price":"abc","quantity":300,"timestamp":1}""", """Order.price: expected a number, got "abc" """)]
    [InlineData("""{"$message":"Order","orderId":-1,"symbol":"A","side":"Buy","orderType":"Limit","price":1,"quantity":300,"timestamp":1}""", "Order.orderId: -1 is out of the range of uint64 (0 to 18446744073709551615)")]
    [InlineData("""{"$message":"Order","orderId":1.5,"symbol":"A","side":"Buy","orderType":"Limit","price":1,"quantity":300,"timestamp":1}""", "Order.orderId: expected an integer (uint64), got 1.5")]
    [InlineData("""{"$message":"Order","orderId":1,"symbol":"AB","side":"Buy","orderType":"Limit","price":1,"quantity":300,"timestamp":1}""", """Order.symbol: expected a string of one character, got "AB" """)]
    [InlineData("""{"$message":"Order","orderId":1,"symbol":"A","side":"Hold","orderType":"Limit","price":1,"quantity":300,"timestamp":1}""", """Order.side: expected a value of Side (Buy, Sell) or null, got "Hold" """)]
    [InlineData("""{"$message":"Order","orderId":1,"symbol":"A","side":"Buy","orderType":"Limit","price":1,"timestamp":1}""", "Order.quantity: missing; expected a number (uint32)")]
    [InlineData("""{"$message":"Order","orderId":1,"symbol":"A","side":"Buy","orderType":"Limit","price":1,"quantity":null,"timestamp":1}""", "Order.quantity: null for a required field; expected a number (uint32)")]
    [InlineData("""{"$message":"Order","orderId":1,"symbol":"A","side":"Buy","orderType":"Limit","price":1,"quantity":4294967296,"timestamp":1}""", "Order.quantity: 4294967296 is out of the range of uint32 (0 to 4294967295)")]
    [InlineData("""{"$message":"Order","orderID":1}""", "Order.orderID: no such field; Order has orderId, symbol, side, orderType, price, quantity, timestamp")]
    [InlineData("""{"$message":"Order","orderId":1,"orderId":2}""", "Order.orderId: given twice")]
    [InlineData("""{"$message":"Cancel"}""", """$message: no message "Cancel" in schema WsGateway.Trading (id 2); it has Trade, Order, Position""")]
    [InlineData("""{"orderId":1}""", "expected \"$message\": the message name, one of Trade, Order, Position")]
    [InlineData("""[1,2]""", "expected a JSON object with \"$message\" (the message name), got [1,2]")]
    [InlineData("""{"$message":"Trade","$header":{"templateId":2},"tradeId":1,"symbol":"C","price":1.5,"quantity":1}""", "Trade.$header.templateId: Trade has template id 1, got 2")]
    [InlineData("""{"$message":"Trade","$header":{"schemaId":1},"tradeId":1,"symbol":"C","price":1.5,"quantity":1}""", "Trade.$header.schemaId: the schema's id is 2 (package WsGateway.Trading), got 1")]
    [InlineData("""{"$message":"Trade","$header":{"blockLength":17},"tradeId":1,"symbol":"C","price":1.5,"quantity":1}""", "Trade.quantity: the block length 17 ends before the field (offset 17, 4 bytes); expected null, or a larger $header.blockLength")]
    [InlineData("""{"$message":"Position","account":1,"symbol":"P","netQuantity":1,"averagePrice":1,"realizedPnl":1,"fills":{"venue":"X"}}""", """Position.fills: expected an array of entries (a group), got {"venue":"X"}""")]
    [InlineData("""{"$message":"Position","account":1,"symbol":"P","netQuantity":1,"averagePrice":1,"realizedPnl":1,"fills":[{"venue":"X","quantity":1,"price":"x"}]}""", """Position.fills[0].price: expected a number, got "x" """)]
    [InlineData("""{"$message":"Position","account":1,"symbol":"P","netQuantity":1,"averagePrice":1,"realizedPnl":1,"fills":[{"venue":"X","qty":1}]}""", "Position.fills[0].qty: no such field; Position.fills[0] has venue, quantity, price")]
    [InlineData("""{"$message":"Order",""", "not JSON: ")]
    [InlineData("""{"$message":"Trade"} {"$message":"Trade"}""", "not JSON: '{' is invalid after a single JSON value")]
    public void Json_it_cannot_encode_is_one_line_naming_the_field_and_what_was_expected(string json, string expected)
    {
        Assert.False(s_trading.Value.TryEncode(json, out byte[] bytes, out string? error));

        Assert.Empty(bytes);
        Assert.NotNull(error);
        Assert.DoesNotContain('\n', error);
        Assert.StartsWith(expected.TrimEnd(' '), error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"extras\":[\"sportsPack\",\"turbo\"]", "Car.extras: expected a choice of OptionalExtras (sunRoof, sportsPack, cruiseControl), got \"turbo\"")]
    [InlineData("\"vehicleCode\":\"abcdefg\"", "Car.vehicleCode: expected a string of at most 6 bytes, got 7 bytes: \"abcdefg\"")]
    [InlineData("\"someNumbers\":[1,2,3]", "Car.someNumbers: expected an array of 4 uint32 values, got [1,2,3]")]
    [InlineData("\"discountedModel\":\"A\"", "Car.discountedModel: the field is the constant \"C\", got \"A\"")]
    [InlineData("\"engine\":{\"capacity\":70000}", "Car.engine.capacity: 70000 is out of the range of uint16 (0 to 65535)")]
    [InlineData("\"vehicleCode\":\"ab€\"", "Car.vehicleCode: \"€\" cannot be written in ASCII")]
    public void Car_errors_name_sets_char_arrays_arrays_constants_composites_and_encodings(string replacement, string expected)
    {
        string json = BaselineCar();
        string name = replacement[1..replacement.IndexOf('"', 1)];
        int start = json.IndexOf($"\"{name}\":", StringComparison.Ordinal);
        int end = EndOfValue(json, start + name.Length + 3);
        string changed = json[..start] + replacement + json[end..];

        Assert.False(s_car.Value.TryEncode(changed, out _, out string? error));

        Assert.StartsWith(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_base64_in_var_data_without_an_encoding_is_an_error()
    {
        var encoder = new SbeJsonEncoder(SbeSchema.Load(SbeData.Path("fix-spec", "v1.0", "Examples.xml")));
        var decoder = new SbeJsonDecoder(encoder.Schema);
        Assert.True(decoder.TryDecodeToJson(SbeData.Bytes("vectors", "fix-spec", "fixspec_BusinessMessageReject_sofh_64.bin")[6..], out string json, out _, out _));
        string bad = System.Text.RegularExpressions.Regex.Replace(json, "\"Text\":\"[^\"]*\"", "\"Text\":\"not base64!\"");

        Assert.False(encoder.TryEncode(bad, out _, out string? error));

        Assert.Equal("BusinessMessageReject.Text: expected base64 (the var data has no characterEncoding), got \"not base64!\"", error);
    }

    private static string BaselineCar()
    {
        var decoder = new SbeJsonDecoder(s_car.Value.Schema);
        Assert.True(decoder.TryDecodeToJson(SbeData.Bytes("vectors", "car", "car_baseline_le_207.sbe"), out string json, out _, out _));
        Assert.True(s_car.Value.TryEncode(json, out _, out string? error), error); // unchanged, it encodes
        return json;
    }

    /// <summary>The end of the JSON value starting at <paramref name="start"/> (a string, number, array or object).</summary>
    private static int EndOfValue(string json, int start)
    {
        var reader = new System.Text.Json.Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(json[start..]));
        reader.Read();
        reader.Skip();
        return start + (int)reader.BytesConsumed;
    }

    private static int Read16(byte[] bytes, int offset) => BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(offset));
}
