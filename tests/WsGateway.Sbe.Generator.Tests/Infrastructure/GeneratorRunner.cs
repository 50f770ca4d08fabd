using System.Collections.Immutable;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace WsGateway.Sbe.Generator.Tests.Infrastructure;

/// <summary>An XML file handed to the generator as an AdditionalFile, optionally with the SbeNamespace, SbeHandlerName and
/// SbeDispatch metadata.</summary>
internal sealed record InputFile(string Path, string Text, string? Namespace = null, string? HandlerName = null, string? Dispatch = null)
{
    public static InputFile FromDisk(string path, string? ns = null) => new(path, File.ReadAllText(path), ns);
}

/// <summary>Runs <see cref="SbeGenerator"/> with a plain <see cref="CSharpGeneratorDriver"/> and compiles its output.</summary>
internal static class GeneratorRunner
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest, DocumentationMode.Diagnose);

    private static readonly Lazy<ImmutableArray<MetadataReference>> s_references = new(() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToImmutableArray());

    public static CSharpCompilation CreateCompilation(params string[] sources)
        => CSharpCompilation.Create(
            "Generated" + Guid.NewGuid().ToString("N"),
            sources.Select(s => CSharpSyntaxTree.ParseText(s, ParseOptions)),
            s_references.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, optimizationLevel: OptimizationLevel.Release));

    public static GeneratorDriver CreateDriver(IEnumerable<InputFile> files, bool trackSteps = false)
        => CreateDriver(files.Select(f => (AdditionalText)new InMemoryAdditionalText(f.Path, f.Text)), files, trackSteps);

    public static GeneratorDriver CreateDriver(IEnumerable<AdditionalText> texts, IEnumerable<InputFile> files, bool trackSteps)
        => CSharpGeneratorDriver.Create(
            [new SbeGenerator().AsSourceGenerator()],
            texts,
            ParseOptions,
            new OptionsProvider(files.ToDictionary(f => f.Path)),
            new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: trackSteps));

    /// <summary>Runs the generator over <paramref name="files"/> and compiles its output together with <paramref name="extraSources"/>.</summary>
    public static GeneratorOutcome Run(IEnumerable<InputFile> files, params string[] extraSources)
    {
        CSharpCompilation input = CreateCompilation(extraSources);
        GeneratorDriver driver = CreateDriver(files).RunGeneratorsAndUpdateCompilation(input, out Compilation output, out ImmutableArray<Diagnostic> generatorDiagnostics);
        return new GeneratorOutcome(driver.GetRunResult(), output, generatorDiagnostics);
    }

    public static Assembly Load(Compilation compilation)
    {
        using var stream = new MemoryStream();
        var result = compilation.Emit(stream);
        if (!result.Success)
        {
            throw new InvalidOperationException(string.Join(Environment.NewLine, result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        }

        return Assembly.Load(stream.ToArray());
    }

    private sealed class OptionsProvider(Dictionary<string, InputFile> files) : AnalyzerConfigOptionsProvider
    {
        public override AnalyzerConfigOptions GlobalOptions { get; } = new Options(null);

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => new Options(null);

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => new Options(files.GetValueOrDefault(textFile.Path));
    }

    private sealed class Options(InputFile? file) : AnalyzerConfigOptions
    {
        public override bool TryGetValue(string key, out string value)
        {
            string? found = key switch
            {
                "build_metadata.AdditionalFiles.SbeNamespace" => file?.Namespace,
                "build_metadata.AdditionalFiles.SbeHandlerName" => file?.HandlerName,
                "build_metadata.AdditionalFiles.SbeDispatch" => file?.Dispatch,
                _ => null,
            };
            value = found ?? string.Empty;
            return found is not null;
        }
    }
}

internal sealed class InMemoryAdditionalText(string path, string text) : AdditionalText
{
    private readonly SourceText _text = SourceText.From(text);

    public override string Path { get; } = path;

    public override SourceText GetText(CancellationToken cancellationToken = default) => _text;
}

internal sealed record GeneratorOutcome(GeneratorDriverRunResult RunResult, Compilation Output, ImmutableArray<Diagnostic> GeneratorDiagnostics)
{
    /// <summary>Compiler diagnostics of warning severity or higher (generator diagnostics excluded).</summary>
    public ImmutableArray<Diagnostic> CompilationProblems
        => Output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToImmutableArray();

    public string GeneratedSource => string.Join("\n", RunResult.GeneratedTrees.Select(t => t.ToString()));
}
