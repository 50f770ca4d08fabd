using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using WsGateway.Sbe.Generator.Tests.Infrastructure;

namespace WsGateway.Sbe.Generator.Tests;

/// <summary>Golden output for schemas/trade.xml and the typed dispatch of schemas/trading.xml, and incremental caching of the pipeline steps.</summary>
public sealed class GoldenAndIncrementalTests
{
    private static readonly string s_tradeSchema = Path.Combine(AppContext.BaseDirectory, "Golden", "trade.xml");
    private static readonly string s_tradingSchema = Path.Combine(AppContext.BaseDirectory, "Golden", "trading.xml");

    /// <summary>
    /// Compares the generated code for trade.xml with the reviewed Golden/trade.g.cs. After an intended change of the
    /// generator, regenerate with <c>SBE_UPDATE_GOLDEN=1 dotnet test --filter Golden</c>, review the diff, commit.
    /// </summary>
    [Fact]
    public void Trade_schema_generates_the_golden_file()
    {
        GeneratorOutcome outcome = GeneratorRunner.Run([new InputFile("/schemas/trade.xml", File.ReadAllText(s_tradeSchema))]);
        Assert.Empty(outcome.GeneratorDiagnostics);
        Assert.Empty(outcome.CompilationProblems);
        Assert.Equal(
            ["WsGateway.Sbe.trade.Dispatch.g.cs", "WsGateway.Sbe.trade.g.cs"],
            outcome.RunResult.GeneratedTrees.Select(t => Path.GetFileName(t.FilePath)).Order(StringComparer.Ordinal));
        string actual = outcome.RunResult.GeneratedTrees.Single(t => t.FilePath.EndsWith("trade.g.cs", StringComparison.Ordinal)).ToString();
        AssertGolden("trade.g.cs", actual);

        // No gateway in this compilation: handler interface and dispatcher, no adapter.
        string dispatch = outcome.RunResult.GeneratedTrees.Single(t => t.FilePath.EndsWith("trade.Dispatch.g.cs", StringComparison.Ordinal)).ToString();
        Assert.Contains("public interface ISbeMessageHandler", dispatch, StringComparison.Ordinal);
        Assert.Contains("void OnTrade(global::WsGateway.Sbe.TradeDecoder trade);", dispatch, StringComparison.Ordinal);
        Assert.Contains("public static class SbeMessageDispatcher", dispatch, StringComparison.Ordinal);
        Assert.DoesNotContain("GatewayHandler", dispatch, StringComparison.Ordinal);
    }

    /// <summary>
    /// The typed dispatch of trading.xml in a compilation that references the gateway (handler interface, dispatcher
    /// with the group walker of Position, result types, adapter) is the reviewed Golden/trading.Dispatch.g.cs.
    /// </summary>
    [Fact]
    public void Trading_schema_with_the_gateway_generates_the_golden_dispatch_file()
    {
        GeneratorOutcome outcome = GeneratorRunner.Run([new InputFile("/schemas/trading.xml", File.ReadAllText(s_tradingSchema))], GatewayStub.Source);
        Assert.Empty(outcome.GeneratorDiagnostics);
        Assert.Empty(outcome.CompilationProblems);
        string actual = outcome.RunResult.GeneratedTrees.Single(t => t.FilePath.EndsWith("WsGateway.Trading.trading.Dispatch.g.cs", StringComparison.Ordinal)).ToString();
        AssertGolden("trading.Dispatch.g.cs", actual);
        Assert.Contains("public interface ITradingMessageHandler", actual, StringComparison.Ordinal);
        Assert.Contains("public sealed class TradingGatewayHandler : global::WsGateway.IRawMessageHandler", actual, StringComparison.Ordinal);
    }

    [Fact]
    public void SbeHandlerName_sets_the_prefix_of_the_dispatch_types()
    {
        GeneratorOutcome outcome = GeneratorRunner.Run(
            [new InputFile("/schemas/trading.xml", File.ReadAllText(s_tradingSchema), HandlerName: "Desk")],
            GatewayStub.Source);
        Assert.Empty(outcome.GeneratorDiagnostics);
        Assert.Empty(outcome.CompilationProblems);
        string source = outcome.GeneratedSource;
        Assert.Contains("public interface IDeskMessageHandler", source, StringComparison.Ordinal);
        Assert.Contains("public static class DeskMessageDispatcher", source, StringComparison.Ordinal);
        Assert.Contains("public interface IDeskConnectionEvents", source, StringComparison.Ordinal);
        Assert.Contains("public sealed class DeskGatewayHandler", source, StringComparison.Ordinal);
        Assert.DoesNotContain("ITradingMessageHandler", source, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("false", false)]
    [InlineData(" FALSE ", false)]
    [InlineData("true", true)]
    [InlineData(null, true)]
    public void SbeDispatch_false_leaves_out_the_dispatch_file_and_keeps_the_codecs(string? dispatch, bool expected)
    {
        GeneratorOutcome outcome = GeneratorRunner.Run(
            [new InputFile("/schemas/trading.xml", File.ReadAllText(s_tradingSchema), Dispatch: dispatch)],
            GatewayStub.Source);
        Assert.Empty(outcome.GeneratorDiagnostics);
        Assert.Empty(outcome.CompilationProblems);
        string[] files = outcome.RunResult.GeneratedTrees.Select(t => Path.GetFileName(t.FilePath)).ToArray();
        Assert.Contains("WsGateway.Trading.trading.g.cs", files);
        Assert.Equal(expected, files.Contains("WsGateway.Trading.trading.Dispatch.g.cs"));
        Assert.Equal(expected, outcome.GeneratedSource.Contains("ITradingMessageHandler", StringComparison.Ordinal));
        Assert.Contains("public ref partial struct OrderDecoder", outcome.GeneratedSource, StringComparison.Ordinal);
    }

    [Fact]
    public void Referencing_the_gateway_re_emits_only_the_dispatch_file_with_the_adapter()
    {
        var files = new[] { new InputFile("/schemas/trading.xml", File.ReadAllText(s_tradingSchema)) };
        CSharpCompilation compilation = GeneratorRunner.CreateCompilation("class A { }");
        GeneratorDriver driver = GeneratorRunner.CreateDriver(files, trackSteps: true).RunGenerators(compilation);
        Assert.DoesNotContain("TradingGatewayHandler", string.Join("\n", driver.GetRunResult().GeneratedTrees), StringComparison.Ordinal);

        driver = driver.RunGenerators(compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText(GatewayStub.Source, GeneratorRunner.ParseOptions)));

        GeneratorRunResult result = driver.GetRunResult().Results.Single();
        Assert.Contains(result.TrackedSteps["SbeGateway"].SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.All(result.TrackedSteps["SbeEmit"].SelectMany(s => s.Outputs), o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
        Assert.All(result.TrackedSteps["SbeDispatch"].SelectMany(s => s.Outputs), o => Assert.Equal(IncrementalStepRunReason.Modified, o.Reason));
        Assert.Contains(result.GeneratedSources, s => s.SourceText.ToString().Contains("public sealed class TradingGatewayHandler", StringComparison.Ordinal));
    }

    private static void AssertGolden(string name, string actual)
    {
        string golden = Path.Combine(SbeData.RepoRoot, "tests", "WsGateway.Sbe.Generator.Tests", "Golden", name);
        if (Environment.GetEnvironmentVariable("SBE_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(golden, actual);
        }

        Assert.Equal(File.ReadAllText(golden).ReplaceLineEndings("\n"), actual);
    }

    [Fact]
    public void Unrelated_change_leaves_every_tracked_step_cached()
    {
        var files = new[] { new InputFile("/schemas/trade.xml", File.ReadAllText(s_tradeSchema)) };
        CSharpCompilation compilation = GeneratorRunner.CreateCompilation("class A { }");
        GeneratorDriver driver = GeneratorRunner.CreateDriver(files, trackSteps: true).RunGenerators(compilation);

        driver = driver.RunGenerators(compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("class B { }", GeneratorRunner.ParseOptions)));

        GeneratorRunResult result = driver.GetRunResult().Results.Single();
        foreach (string step in new[] { "SbeFiles", "SbeParse", "SbeEmit", "SbeGateway", "SbeDispatch" })
        {
            Assert.True(result.TrackedSteps.ContainsKey(step), step + " is not tracked");
            Assert.All(
                result.TrackedSteps[step].SelectMany(s => s.Outputs),
                o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{step}: {o.Reason}"));
        }

        Assert.All(result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs), o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
    }

    [Fact]
    public void Comment_only_schema_change_re_parses_to_an_equal_model_and_the_emit_step_stays_cached()
    {
        string text = File.ReadAllText(s_tradeSchema);
        var original = new InMemoryAdditionalText("/schemas/trade.xml", text);
        InputFile[] files = [new InputFile(original.Path, text)];
        CSharpCompilation compilation = GeneratorRunner.CreateCompilation("class A { }");
        GeneratorDriver driver = GeneratorRunner.CreateDriver([original], files, trackSteps: true).RunGenerators(compilation);

        driver = driver.ReplaceAdditionalText(original, new InMemoryAdditionalText(original.Path, text.Replace("<types>", "<!-- a comment --><types>", StringComparison.Ordinal)));
        driver = driver.RunGenerators(compilation);

        GeneratorRunResult result = driver.GetRunResult().Results.Single();
        Assert.Contains(result.TrackedSteps["SbeFiles"].SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.All(result.TrackedSteps["SbeParse"].SelectMany(s => s.Outputs), o => Assert.Equal(IncrementalStepRunReason.Unchanged, o.Reason));
        Assert.All(result.TrackedSteps["SbeEmit"].SelectMany(s => s.Outputs), o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
        Assert.All(result.TrackedSteps["SbeDispatch"].SelectMany(s => s.Outputs), o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
    }
}
