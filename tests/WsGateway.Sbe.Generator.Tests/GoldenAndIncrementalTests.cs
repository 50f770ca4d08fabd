using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using WsGateway.Sbe.Generator.Tests.Infrastructure;

namespace WsGateway.Sbe.Generator.Tests;

/// <summary>Golden output for schemas/trade.xml, and incremental caching of the pipeline steps.</summary>
public sealed class GoldenAndIncrementalTests
{
    private static readonly string s_tradeSchema = Path.Combine(AppContext.BaseDirectory, "Golden", "trade.xml");

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
        string actual = outcome.GeneratedSource;
        Assert.Equal("WsGateway.Sbe.trade.g.cs", Path.GetFileName(outcome.RunResult.GeneratedTrees.Single().FilePath));

        string golden = Path.Combine(SharedData.RepoRoot, "tests", "WsGateway.Sbe.Generator.Tests", "Golden", "trade.g.cs");
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
        foreach (string step in new[] { "SbeFiles", "SbeParse", "SbeEmit" })
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
    }
}
