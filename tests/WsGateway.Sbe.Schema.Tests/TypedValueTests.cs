using System.Buffers.Binary;
using System.Text.Json;

namespace WsGateway.Sbe.Schema.Tests;

/// <summary>
/// Constants, null values and enum value references come from the schema model as typed values: the decoder writes
/// each as the schema means it (a float null value compared as a float, a constant string with quotes and
/// backslashes, a valueRef to a char enum value as that character).
/// </summary>
public sealed class TypedValueTests
{
    private const string Schema = """
        <?xml version="1.0" encoding="UTF-8"?>
        <sbe:messageSchema xmlns:sbe="http://fixprotocol.io/2016/sbe" package="test.values" id="9" version="0" byteOrder="littleEndian">
          <types>
            <composite name="messageHeader">
              <type name="blockLength" primitiveType="uint16"/>
              <type name="templateId" primitiveType="uint16"/>
              <type name="schemaId" primitiveType="uint16"/>
              <type name="version" primitiveType="uint16"/>
            </composite>
            <enum name="Side" encodingType="char">
              <validValue name="Buy">B</validValue>
              <validValue name="Sell">S</validValue>
            </enum>
            <enum name="Kind" encodingType="uint8">
              <validValue name="class">1</validValue>
              <validValue name="other">2</validValue>
            </enum>
            <type name="Ratio" primitiveType="float" presence="optional" nullValue="0.1"/>
            <type name="Score" primitiveType="int16" presence="optional" nullValue="-7"/>
            <type name="Venue" primitiveType="char" length="6" presence="constant">X"Y\Z</type>
            <type name="Letter" primitiveType="char" presence="constant">A</type>
            <type name="Ten" primitiveType="int32" presence="constant">-10</type>
            <type name="Tenth" primitiveType="float" presence="constant">0.1</type>
            <type name="Huge" primitiveType="uint64" presence="constant">18446744073709551615</type>
            <type name="Missing" primitiveType="double" presence="constant">NaN</type>
          </types>
          <sbe:message name="Quote" id="1">
            <field name="ratio" id="1" type="Ratio"/>
            <field name="score" id="2" type="Score"/>
            <field name="side" id="3" type="Side"/>
            <field name="venue" id="4" type="Venue"/>
            <field name="letter" id="5" type="Letter"/>
            <field name="ten" id="6" type="Ten"/>
            <field name="tenth" id="7" type="Tenth"/>
            <field name="huge" id="8" type="Huge"/>
            <field name="missing" id="9" type="Missing"/>
            <field name="sideChar" id="10" type="char" presence="constant" valueRef="Side.Sell"/>
            <field name="kind" id="11" type="Kind" presence="constant" valueRef="Kind.class"/>
            <field name="kindNumber" id="12" type="uint8" presence="constant" valueRef="Kind.other"/>
          </sbe:message>
        </sbe:messageSchema>
        """;

    private static readonly Lazy<SbeJsonDecoder> s_decoder = new(() => new SbeJsonDecoder(SbeSchema.Parse(Schema, "values.xml")));

    [Fact]
    public void A_float_equal_to_its_null_value_is_null_though_the_null_value_has_no_exact_binary_form()
    {
        JsonElement quote = Decode(ratio: 0.1f, score: 3, side: (byte)'B');
        Assert.Equal(JsonValueKind.Null, quote.GetProperty("ratio").ValueKind);

        JsonElement other = Decode(ratio: 0.25f, score: 3, side: (byte)'B');
        Assert.Equal(0.25, other.GetProperty("ratio").GetDouble());
    }

    [Fact]
    public void An_integer_equal_to_its_schema_null_value_is_null()
    {
        Assert.Equal(JsonValueKind.Null, Decode(ratio: 1f, score: -7, side: (byte)'S').GetProperty("score").ValueKind);
        Assert.Equal(-8, Decode(ratio: 1f, score: -8, side: (byte)'S').GetProperty("score").GetInt32());
    }

    [Fact]
    public void Constants_are_written_as_their_schema_values()
    {
        JsonElement quote = Decode(ratio: 1f, score: 0, side: (byte)'S');

        Assert.Equal("Sell", quote.GetProperty("side").GetString());
        Assert.Equal("X\"Y\\Z", quote.GetProperty("venue").GetString());
        Assert.Equal("A", quote.GetProperty("letter").GetString());
        Assert.Equal(-10, quote.GetProperty("ten").GetInt32());
        Assert.Equal("0.1", quote.GetProperty("tenth").GetRawText());
        Assert.Equal(ulong.MaxValue, quote.GetProperty("huge").GetUInt64());
        Assert.Equal(JsonValueKind.Null, quote.GetProperty("missing").ValueKind);
        Assert.Equal("S", quote.GetProperty("sideChar").GetString());
        Assert.Equal("class", quote.GetProperty("kind").GetString());
        Assert.Equal(2, quote.GetProperty("kindNumber").GetInt32());
    }

    /// <summary>A Quote: 8-byte header, then ratio (float), score (int16), side (char): a 7-byte block.</summary>
    private static JsonElement Decode(float ratio, short score, byte side)
    {
        byte[] bytes = new byte[8 + 7];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, 7);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4), 9);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(6), 0);
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(8), ratio);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(12), score);
        bytes[14] = side;

        Assert.True(s_decoder.Value.TryDecodeToJson(bytes, out string json, out int consumed, out string? error), error);
        Assert.Equal(bytes.Length, consumed);
        using JsonDocument document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}
