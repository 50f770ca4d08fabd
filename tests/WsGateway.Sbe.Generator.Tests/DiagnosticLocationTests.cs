using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using WsGateway.Sbe.Generator.Tests.Infrastructure;

namespace WsGateway.Sbe.Generator.Tests;

/// <summary>
/// The generator's diagnostics as a user sees them: id, severity, message, file, line and column span and text span.
/// Expected positions are counted in the schema text here, with CRLF line ends so that a line's start offset is not
/// its line number times a fixed width.
/// </summary>
public sealed class DiagnosticLocationTests
{
    private const string Path = "/schemas/diag.xml";

    private static readonly string[] s_lines =
    [
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
        "<sbe:messageSchema xmlns:sbe=\"http://fixprotocol.io/2016/sbe\" package=\"diag\" id=\"1\" version=\"0\">",
        "  <types>",
        "    <composite name=\"messageHeader\">",
        "      <type name=\"blockLength\" primitiveType=\"uint16\"/>",
        "      <type name=\"templateId\" primitiveType=\"uint16\"/>",
        "      <type name=\"schemaId\" primitiveType=\"uint16\"/>",
        "      <type name=\"version\" primitiveType=\"uint16\"/>",
        "    </composite>",
        "    <type name=\"Bad\" primitiveType=\"int8\" nullValue=\"300\"/>",
        "  </types>",
        "  <sbe:message name=\"M\" id=\"x\">",
        "    <field name=\"a\" id=\"1\" type=\"Missing\"/>",
        "  </sbe:message>",
        "</sbe:messageSchema>",
    ];

    [Fact]
    public void Each_error_names_its_id_message_and_the_element_it_is_at()
    {
        string text = string.Join("\r\n", s_lines);
        GeneratorOutcome outcome = GeneratorRunner.Run([new InputFile(Path, text)]);

        Assert.Empty(outcome.RunResult.GeneratedTrees);
        Assert.Collection(
            outcome.GeneratorDiagnostics,
            d => AssertAt(d, "WSGW007", "nullValue '300' of type 'Bad' is not a valid int8", text, line: 9, "type"),
            d => AssertAt(d, "WSGW006", "'id' of 'M' is not an integer: 'x'", text, line: 11, "sbe:message"),
            d => AssertAt(d, "WSGW002", "Unknown type 'Missing' referenced by 'M.a'", text, line: 12, "field"));
    }

    [Fact]
    public void Xml_that_is_not_well_formed_is_WSGW001_at_the_parser_position()
    {
        string text = "<messageSchema id=\"1\">\r\n  <types>\r\n  </typos>\r\n</messageSchema>";
        GeneratorOutcome outcome = GeneratorRunner.Run([new InputFile(Path, text)]);

        Diagnostic d = Assert.Single(outcome.GeneratorDiagnostics);
        Assert.Equal("WSGW001", d.Id);
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.StartsWith("SBE schema is not valid XML: ", d.GetMessage(), StringComparison.Ordinal);
        FileLinePositionSpan span = d.Location.GetLineSpan();
        Assert.Equal(Path, span.Path);
        Assert.Equal(2, span.StartLinePosition.Line); // the third line: "  </typos>"
        Assert.Equal(span.StartLinePosition.Line, span.EndLinePosition.Line);
        Assert.Equal(span.StartLinePosition.Character + 1, span.EndLinePosition.Character);
        int lineStart = text.IndexOf("  </typos>", StringComparison.Ordinal);
        Assert.Equal(lineStart + span.StartLinePosition.Character, d.Location.SourceSpan.Start);
        Assert.Equal(1, d.Location.SourceSpan.Length);
    }

    /// <summary>The diagnostic is at the element name (prefix included) on 0-based <paramref name="line"/>.</summary>
    private static void AssertAt(Diagnostic d, string id, string message, string text, int line, string elementName)
    {
        Assert.Equal(id, d.Id);
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Equal(message, d.GetMessage(System.Globalization.CultureInfo.InvariantCulture));

        int column = s_lines[line].IndexOf("<" + elementName, StringComparison.Ordinal) + 1;
        Assert.True(column > 0, $"'{elementName}' is on line {line}");
        FileLinePositionSpan span = d.Location.GetLineSpan();
        Assert.Equal(Path, span.Path);
        Assert.Equal(new LinePosition(line, column), span.StartLinePosition);
        Assert.Equal(new LinePosition(line, column + elementName.Length), span.EndLinePosition);

        int lineStart = 0;
        for (int i = 0; i < line; i++)
        {
            lineStart += s_lines[i].Length + 2; // CRLF
        }

        Assert.Equal(new TextSpan(lineStart + column, elementName.Length), d.Location.SourceSpan);
        Assert.Equal(elementName, text.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length));
    }
}
