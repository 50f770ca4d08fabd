using System.Globalization;
using System.Xml.Linq;

namespace WsGateway.Sbe.Tests;

/// <summary>The hand-written codec and schemas/trade.xml describe the same message.</summary>
public class SchemaTests
{
    private static readonly XNamespace s_sbe = "http://fixprotocol.io/2016/sbe";

    private static XElement LoadSchema()
        => XDocument.Load(Path.Combine(AppContext.BaseDirectory, "schemas", "trade.xml")).Root!;

    private static int Attr(XElement e, string name) => int.Parse(e.Attribute(name)!.Value, CultureInfo.InvariantCulture);

    [Fact]
    public void Schema_ids_and_byte_order_match_the_codec()
    {
        XElement schema = LoadSchema();
        Assert.Equal(s_sbe + "messageSchema", schema.Name);
        Assert.Equal("WsGateway.Sbe", schema.Attribute("package")!.Value);
        Assert.Equal(Trade.SchemaId, Attr(schema, "id"));
        Assert.Equal(TradeDecoder.SbeSchemaVersion, Attr(schema, "version"));
        Assert.Equal(1, Attr(schema, "version")); // version 1 added TradeAck.duplicates; Trade is written as version 0
        Assert.Equal("littleEndian", schema.Attribute("byteOrder")!.Value);

        XElement header = schema.Element("types")!.Elements("composite").Single(c => c.Attribute("name")!.Value == "messageHeader");
        Assert.Equal(
            ["blockLength:uint16", "templateId:uint16", "schemaId:uint16", "version:uint16"],
            header.Elements("type").Select(t => $"{t.Attribute("name")!.Value}:{t.Attribute("primitiveType")!.Value}"));
    }

    [Fact]
    public void Trade_message_fields_ids_types_and_offsets_match_the_codec()
    {
        XElement message = LoadSchema().Elements(s_sbe + "message").Single(m => m.Attribute("name")!.Value == "Trade");
        Assert.Equal("Trade", message.Attribute("name")!.Value);
        Assert.Equal(Trade.TemplateId, Attr(message, "id"));
        Assert.Equal(Trade.BlockLength, Attr(message, "blockLength"));

        var sizes = new Dictionary<string, int> { ["uint64"] = 8, ["char"] = 1, ["uint8"] = 1, ["double"] = 8, ["uint32"] = 4 };
        (string Name, int Id, int Offset)[] expected =
        [
            ("tradeId", TradeDecoder.TradeIdId, TradeDecoder.TradeIdOffset),
            ("symbol", TradeDecoder.SymbolId, TradeDecoder.SymbolOffset),
            ("price", TradeDecoder.PriceId, TradeDecoder.PriceOffset),
            ("quantity", TradeDecoder.QuantityId, TradeDecoder.QuantityOffset),
        ];

        XElement[] fields = [.. message.Elements("field")];
        Assert.Equal(expected.Length, fields.Length);
        int offset = 0;
        for (int i = 0; i < fields.Length; i++)
        {
            Assert.Equal(expected[i].Name, fields[i].Attribute("name")!.Value);
            Assert.Equal(expected[i].Id, Attr(fields[i], "id"));
            Assert.Equal(expected[i].Offset, Attr(fields[i], "offset"));
            Assert.Equal(offset, expected[i].Offset); // packed: no padding between fields
            offset += sizes[fields[i].Attribute("type")!.Value];
        }

        Assert.Equal(Trade.BlockLength, offset);
    }
}
