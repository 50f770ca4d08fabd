using Microsoft.CodeAnalysis;
using WsGateway.Sbe.Generator.Tests.Infrastructure;
using Xunit.Abstractions;

namespace WsGateway.Sbe.Generator.Tests;

/// <summary>Every valid schema in shared/sbe generates code that compiles with no warning; invalid ones give WSGW diagnostics.</summary>
public sealed class CompileAllSchemasTests(ITestOutputHelper output)
{
    /// <summary>Schemas that sbe-tool itself rejects; they must give WSGW errors and no code.</summary>
    private static readonly string[] s_invalid =
    [
        "error-handler-dup-message-schema.xml",
        "error-handler-enum-violates-min-max-value-range.xml",
        "error-handler-group-dimensions-schema.xml",
        "error-handler-invalid-composite-offsets-schema.xml",
        "error-handler-invalid-composite.xml",
        "error-handler-invalid-name.xml",
        "error-handler-message-schema.xml",
        "error-handler-since-version.xml",
        "error-handler-types-dup-schema.xml",
        "error-handler-types-schema.xml",
        "cyclic-refs-schema.xml",
    ];

    public static TheoryData<string> ValidSchemas()
    {
        var data = new TheoryData<string>();
        foreach (string path in AllSchemas().Where(p => !s_invalid.Contains(System.IO.Path.GetFileName(p))))
        {
            data.Add(System.IO.Path.GetRelativePath(SharedData.SbeRoot, path));
        }

        return data;
    }

    public static TheoryData<string> InvalidSchemas()
    {
        var data = new TheoryData<string>();
        foreach (string name in s_invalid)
        {
            data.Add(name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ValidSchemas))]
    public void Valid_schema_generates_code_that_compiles_without_warnings(string relativePath)
    {
        // With the gateway API in the compilation, so the dispatcher and the gateway adapter are compiled too.
        GeneratorOutcome outcome = GeneratorRunner.Run(InputsFor(SharedData.Path(relativePath)), GatewayStub.Source);

        foreach (Diagnostic d in outcome.GeneratorDiagnostics.Concat(outcome.CompilationProblems).Take(30))
        {
            output.WriteLine(d.ToString());
        }

        Assert.Empty(outcome.GeneratorDiagnostics);
        Assert.Equal(2, outcome.RunResult.GeneratedTrees.Length); // the flyweights and the dispatch
        Assert.Contains("GatewayHandler : global::WsGateway.IRawMessageHandler", outcome.GeneratedSource, StringComparison.Ordinal);
        Assert.Empty(outcome.CompilationProblems);
    }

    [Theory]
    [MemberData(nameof(InvalidSchemas))]
    public void Invalid_schema_gives_WSGW_errors_and_no_code(string name)
    {
        string path = SharedData.Path("reallogic", "test-resources", name);
        GeneratorOutcome outcome = GeneratorRunner.Run(InputsFor(path));

        foreach (Diagnostic d in outcome.GeneratorDiagnostics)
        {
            output.WriteLine(d.ToString());
        }

        Assert.NotEmpty(outcome.GeneratorDiagnostics);
        Assert.All(outcome.GeneratorDiagnostics, d =>
        {
            Assert.StartsWith("WSGW", d.Id, StringComparison.Ordinal);
            Assert.NotEqual("WSGW099", d.Id);
            Assert.Equal(DiagnosticSeverity.Error, d.Severity);
            Assert.Equal(path.Replace('\\', '/'), d.Location.GetLineSpan().Path);
        });
        Assert.Empty(outcome.RunResult.GeneratedTrees);
    }

    private static IEnumerable<string> AllSchemas()
        => Directory.EnumerateFiles(SharedData.SbeRoot, "*.xml", SearchOption.AllDirectories)
            .Where(p => File.ReadAllText(p).Contains("messageSchema", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);

    /// <summary>The schema plus every XML file beside it or below (candidates for xi:include).</summary>
    private static IEnumerable<InputFile> InputsFor(string schemaPath)
    {
        yield return InputFile.FromDisk(schemaPath);
        string directory = System.IO.Path.GetDirectoryName(schemaPath)!;
        foreach (string other in Directory.EnumerateFiles(directory, "*.xml", SearchOption.AllDirectories))
        {
            if (other != schemaPath && !File.ReadAllText(other).Contains("messageSchema", StringComparison.Ordinal))
            {
                yield return InputFile.FromDisk(other);
            }
        }
    }
}
