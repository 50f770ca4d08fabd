using Microsoft.CodeAnalysis;
using WsGateway.Sbe.Generator.Tests.Infrastructure;
using Xunit.Abstractions;

namespace WsGateway.Sbe.Generator.Tests;

/// <summary>
/// Every valid schema in tests/data/sbe (Real Logic's test and sample schemas, the FIX examples, the project's own) and,
/// in the reference suite, every exchange schema of the reference folder generates code that compiles with no
/// warning; invalid ones give WSGW diagnostics.
/// </summary>
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
            data.Add(System.IO.Path.GetRelativePath(SbeData.Root, path));
        }

        return data;
    }

    /// <summary>The exchange schemas of the reference folder, named here so that listing the tests needs no folder.</summary>
    public static TheoryData<string> ExchangeSchemas() =>
    [
        "exchanges/b3/B3.Equities.BinaryEntryPoint.Sbe.v8.4.xml",
        "exchanges/b3/B3.Equities.BinaryUmdf.Sbe.v2.2.xml",
        "exchanges/binance/spot-fixsbe-1_0.xml",
        "exchanges/binance/spot-fixsbe-1_1.xml",
        "exchanges/binance/spot_1_0.xml",
        "exchanges/binance/spot_2_0.xml",
        "exchanges/binance/spot_2_1.xml",
        "exchanges/binance/spot_3_0.xml",
        "exchanges/binance/spot_3_1.xml",
        "exchanges/binance/spot_3_2.xml",
        "exchanges/binance/spot_3_3.xml",
        "exchanges/binance/spot_3_4.xml",
        "exchanges/binance/spot_3_5.xml",
        "exchanges/binance/stream_1_0.xml",
        "exchanges/cme/Cme.Futures.Mdp3.Sbe.v1.13.xml",
        "exchanges/cme/Cme.Futures.iLink3.Sbe.v8.9.xml",
        "exchanges/coinbase/Coinbase.Deribit.MarketDataApi.Sbe.v1.0.xml",
        "exchanges/coinbase/Coinbase.Derivatives.MarketDataApi.Sbe.v1.7.xml",
        "exchanges/memx-24x/24X.Equities.MemoirDepthFeed.Sbe.v1.3.xml",
    ];

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
        => GeneratesCodeThatCompiles(SbeData.Path(relativePath));

    [Trait("Category", "Reference")]
    [Theory]
    [MemberData(nameof(ExchangeSchemas))]
    public void Exchange_schema_generates_code_that_compiles_without_warnings(string relativePath)
        => GeneratesCodeThatCompiles(ReferenceData.Path(relativePath.Split('/')));

    private void GeneratesCodeThatCompiles(string path)
    {
        // With the gateway API in the compilation, so the dispatcher and the gateway adapter are compiled too.
        GeneratorOutcome outcome = GeneratorRunner.Run(InputsFor(path), GatewayStub.Source);

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
        string path = SbeData.Path("reallogic", "test-resources", name);
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
        => Directory.EnumerateFiles(SbeData.Root, "*.xml", SearchOption.AllDirectories)
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
