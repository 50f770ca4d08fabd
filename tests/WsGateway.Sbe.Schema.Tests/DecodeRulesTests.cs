using System.Buffers.Binary;
using System.Text.Json;

using WsGateway.Sbe.Generator.Tests.Infrastructure;

namespace WsGateway.Sbe.Schema.Tests;

/// <summary>Decode rules on a small schema written here and hand-built bytes: nulls, unknown enum values, versions,
/// block lengths, var data, and the errors.</summary>
public sealed class DecodeRulesTests
{
    private const string OrderSchema = """
        <?xml version="1.0" encoding="UTF-8"?>
        <sbe:messageSchema xmlns:sbe="http://fixprotocol.io/2016/sbe" package="test.orders" id="7" version="2" byteOrder="littleEndian">
          <types>
            <composite name="messageHeader">
              <type name="blockLength" primitiveType="uint16"/>
              <type name="templateId" primitiveType="uint16"/>
              <type name="schemaId" primitiveType="uint16"/>
              <type name="version" primitiveType="uint16"/>
            </composite>
            <composite name="groupSizeEncoding">
              <type name="blockLength" primitiveType="uint16"/>
              <type name="numInGroup" primitiveType="uint16"/>
            </composite>
            <composite name="varDataEncoding">
              <type name="length" primitiveType="uint8"/>
              <type name="varData" primitiveType="uint8" length="0"/>
            </composite>
            <enum name="Side" encodingType="uint8">
              <validValue name="Buy">1</validValue>
              <validValue name="Sell">2</validValue>
            </enum>
            <type name="OptPrice" primitiveType="int64" presence="optional"/>
            <type name="Tag" primitiveType="char" length="4" presence="optional"/>
            <type name="Ratio" primitiveType="double" presence="optional"/>
          </types>
          <sbe:message name="Order" id="3">
            <field name="side" id="1" type="Side"/>
            <field name="price" id="2" type="OptPrice"/>
            <field name="tag" id="3" type="Tag"/>
            <field name="ratio" id="4" type="Ratio"/>
            <field name="qty" id="5" type="uint64"/>
            <field name="extra" id="6" type="int32" sinceVersion="2"/>
            <data name="blob" id="7" type="varDataEncoding"/>
          </sbe:message>
          <sbe:message name="Cancel" id="4">
            <field name="orderId" id="1" type="uint32"/>
          </sbe:message>
        </sbe:messageSchema>
        """;

    private static readonly Lazy<SbeJsonDecoder> s_orders = new(() => new SbeJsonDecoder(SbeSchema.Parse(OrderSchema, "orders.xml")));
    private static readonly Lazy<SbeJsonDecoder> s_car = new(() => new SbeJsonDecoder(SbeSchema.Load(SbeData.Path("reallogic", "samples", "example-schema.xml"))));

    [Fact]
    public void Null_values_unknown_enum_values_and_fields_newer_than_the_message()
    {
        byte[] bytes = Order(version: 1, side: 9, price: long.MinValue, tag: [0, 0, 0, 0], ratio: double.NaN, qty: ulong.MaxValue, extra: 77, blob: [1, 2, 3]);

        Assert.True(s_orders.Value.TryDecodeToJson(bytes, out string json, out int consumed, out string? error), error);

        Assert.Equal(bytes.Length, consumed);
        Assert.Equal(
            """{"$message":"Order","$header":{"blockLength":33,"templateId":3,"schemaId":7,"version":1},"side":9,"price":null,"tag":null,"ratio":null,"qty":18446744073709551615,"extra":null,"blob":"AQID"}""",
            json);
    }

    [Fact]
    public void Values_of_the_current_version()
    {
        byte[] bytes = Order(version: 2, side: 2, price: 12345, tag: "AB\0\0"u8.ToArray(), ratio: 0.5, qty: 10, extra: -5, blob: []);

        Assert.True(s_orders.Value.TryDecodeToJson(bytes, out string json, out int consumed, out _));

        Assert.Equal(bytes.Length, consumed);
        Assert.Equal(
            """{"$message":"Order","$header":{"blockLength":33,"templateId":3,"schemaId":7,"version":2},"side":"Sell","price":12345,"tag":"AB","ratio":0.5,"qty":10,"extra":-5,"blob":""}""",
            json);
    }

    [Fact]
    public void A_longer_block_from_a_newer_schema_is_skipped_by_the_header_block_length()
    {
        byte[] car = SbeData.Bytes("vectors", "car", "car_baseline_le_207.sbe");
        byte[] longer = [.. car[..53], 0xEE, 0xEE, .. car[53..]]; // two unknown bytes appended to the root block
        BinaryPrimitives.WriteUInt16LittleEndian(longer, 47);

        Assert.True(s_car.Value.TryDecodeToJson(longer, out string json, out int consumed, out string? error), error);

        Assert.Equal(209, consumed);
        using JsonDocument document = JsonDocument.Parse(json);
        Assert.Equal(3, document.RootElement.GetProperty("fuelFigures").GetArrayLength());
        Assert.Equal("abcdef", document.RootElement.GetProperty("activationCode").GetString());
    }

    [Fact]
    public void A_shorter_block_leaves_the_missing_fields_null()
    {
        byte[] car = SbeData.Bytes("vectors", "car", "car_baseline_le_207.sbe");
        byte[] shorter = [.. car[..43], .. car[53..]]; // no engine (10 bytes at block offset 35)
        BinaryPrimitives.WriteUInt16LittleEndian(shorter, 35);

        Assert.True(s_car.Value.TryDecodeToJson(shorter, out string json, out int consumed, out string? error), error);

        Assert.Equal(197, consumed);
        using JsonDocument document = JsonDocument.Parse(json);
        Assert.Equal(JsonValueKind.Null, document.RootElement.GetProperty("engine").ValueKind);
        Assert.Equal("abcdef", document.RootElement.GetProperty("vehicleCode").GetString());
        Assert.Equal("Honda", document.RootElement.GetProperty("manufacturer").GetString());
    }

    [Fact]
    public void Unknown_template_id_lists_the_schemas_messages()
    {
        byte[] bytes = Order(version: 2, side: 1, price: 1, tag: [0, 0, 0, 0], ratio: 1, qty: 1, extra: 1, blob: []);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2), 99);

        AssertError(s_orders.Value, bytes, "Unknown template id 99: the schema defines 3 (Order), 4 (Cancel)");
    }

    [Fact]
    public void Unknown_schema_id_names_the_expected_one()
    {
        byte[] bytes = SbeData.Bytes("vectors", "car", "car_baseline_le_207.sbe");
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4), 5);

        AssertError(s_car.Value, bytes, "Unknown schema id 5: expected 1 (package baseline); template id 1, version 0");
    }

    [Theory]
    [InlineData(3, "Insufficient data: the message header (MessageHeader) needs 8 bytes, got 3")]
    [InlineData(20, "Insufficient data: message Car needs at least 53 bytes (8-byte header + 45-byte block), got 20")]
    [InlineData(55, "Insufficient data: group Car.fuelFigures needs its 4-byte GroupSizeEncoding at offset 53, got 2 bytes")]
    [InlineData(70, "Insufficient data: group Car.fuelFigures at offset 53 declares 3 entries of 6 bytes (18 bytes), got 13")]
    [InlineData(75, "Insufficient data: var data Car.fuelFigures[0].usageDescription at offset 63 declares 11 bytes, got 8")]
    [InlineData(200, "Insufficient data: var data Car.activationCode needs its 4-byte length at offset 197, got 3 bytes")]
    [InlineData(203, "Insufficient data: var data Car.activationCode at offset 197 declares 6 bytes, got 2")]
    public void Cut_messages_say_what_was_missing(int length, string expected)
    {
        AssertError(s_car.Value, SbeData.Bytes("vectors", "car", "car_baseline_le_207.sbe")[..length], expected);
    }

    [Fact]
    public void A_group_count_beyond_the_data_is_refused_before_reading_entries()
    {
        byte[] bytes = SbeData.Bytes("vectors", "car", "car_baseline_le_207.sbe");
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(55), 200);

        AssertError(s_car.Value, bytes, "Insufficient data: group Car.fuelFigures at offset 53 declares 200 entries of 6 bytes (1200 bytes), got 150");
    }

    [Fact]
    public void A_schema_with_errors_lists_each_WSGW_diagnostic_with_file_and_line()
    {
        string xml = OrderSchema.Replace("type=\"OptPrice\"", "type=\"NoSuchType\"", StringComparison.Ordinal);

        SbeSchemaException e = Assert.Throws<SbeSchemaException>(() => SbeSchema.Parse(xml, "/tmp/broken.xml"));

        string line = Assert.Single(e.Diagnostics);
        Assert.Equal("/tmp/broken.xml:28:6: error WSGW002: Unknown type 'NoSuchType' referenced by 'Order.price'", line);
        Assert.Contains(line, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Xml_that_is_not_well_formed_is_a_WSGW001()
    {
        SbeSchemaException e = Assert.Throws<SbeSchemaException>(() => SbeSchema.Parse("<messageSchema id=\"1\">\n<types>", "/tmp/bad.xml"));

        Assert.StartsWith("/tmp/bad.xml:2:", Assert.Single(e.Diagnostics), StringComparison.Ordinal);
        Assert.Contains("error WSGW001", e.Diagnostics[0], StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_schema_file_is_named()
    {
        FileNotFoundException e = Assert.Throws<FileNotFoundException>(() => SbeSchema.Load("/nonexistent/schema.xml"));
        Assert.Equal("SBE schema not found: /nonexistent/schema.xml", e.Message);
    }

    private static void AssertError(SbeJsonDecoder decoder, byte[] bytes, string expected)
    {
        Assert.False(decoder.TryDecodeToJson(bytes, out string json, out int consumed, out string? error));
        Assert.Equal(expected, error);
        Assert.Equal(string.Empty, json);
        Assert.Equal(0, consumed);
    }

    private static byte[] Order(int version, byte side, long price, byte[] tag, double ratio, ulong qty, int extra, byte[] blob)
    {
        byte[] bytes = new byte[8 + 33 + 1 + blob.Length];
        Span<byte> s = bytes;
        BinaryPrimitives.WriteUInt16LittleEndian(s, 33);
        BinaryPrimitives.WriteUInt16LittleEndian(s[2..], 3);
        BinaryPrimitives.WriteUInt16LittleEndian(s[4..], 7);
        BinaryPrimitives.WriteUInt16LittleEndian(s[6..], (ushort)version);
        s[8] = side;
        BinaryPrimitives.WriteInt64LittleEndian(s[9..], price);
        tag.CopyTo(s[17..]);
        BinaryPrimitives.WriteDoubleLittleEndian(s[21..], ratio);
        BinaryPrimitives.WriteUInt64LittleEndian(s[29..], qty);
        BinaryPrimitives.WriteInt32LittleEndian(s[37..], extra);
        s[41] = (byte)blob.Length;
        blob.CopyTo(s[42..]);
        return bytes;
    }
}
