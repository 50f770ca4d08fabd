namespace WsGateway.Sbe.Schema.Tests;

/// <summary>The run-time decoder ships with wsgw: it must not bring the source generator or Roslyn with it.</summary>
public sealed class DependencyTests
{
    private const string MinimalSchema = """
        <messageSchema package="min" id="1" version="0">
          <types>
            <composite name="messageHeader">
              <type name="blockLength" primitiveType="uint16"/>
              <type name="templateId" primitiveType="uint16"/>
              <type name="schemaId" primitiveType="uint16"/>
              <type name="version" primitiveType="uint16"/>
            </composite>
          </types>
          <message name="Empty" id="1"/>
        </messageSchema>
        """;

    [Fact]
    public void The_schema_assembly_references_neither_Roslyn_nor_the_generator()
    {
        string[] references = [.. typeof(SbeSchema).Assembly.GetReferencedAssemblies().Select(a => a.Name ?? string.Empty)];

        Assert.DoesNotContain(references, name => name.StartsWith("Microsoft.CodeAnalysis", StringComparison.Ordinal));
        Assert.DoesNotContain("WsGateway.Sbe.Generator", references);
    }

    [Fact]
    public void Parsing_a_schema_and_decoding_a_message_load_no_Roslyn_assembly()
    {
        var decoder = new SbeJsonDecoder(SbeSchema.Parse(MinimalSchema, "min.xml"));
        Assert.Throws<SbeSchemaException>(() => SbeSchema.Parse("<messageSchema/>", "bad.xml")); // diagnostics too

        Assert.True(decoder.TryDecodeToJson([0, 0, 1, 0, 1, 0, 0, 0], out string json, out _, out string? error), error);
        Assert.Equal("""{"$message":"Empty","$header":{"blockLength":0,"templateId":1,"schemaId":1,"version":0}}""", json);
        Assert.DoesNotContain(
            AppDomain.CurrentDomain.GetAssemblies(),
            a => a.GetName().Name is { } name && (name.StartsWith("Microsoft.CodeAnalysis", StringComparison.Ordinal) || name == "WsGateway.Sbe.Generator"));
    }
}
