using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using WsGateway.Sbe.Schema.Model;

namespace WsGateway.Sbe.Generator;

/// <summary>
/// Generates SBE flyweight encoders and decoders (<c>ref struct</c>s named as Real Logic's sbe-tool
/// names them) from the SBE XML schemas given as <c>AdditionalFiles</c>.
/// </summary>
/// <remarks>
/// Pipeline: every <c>.xml</c> additional file → <see cref="SchemaFile"/> (tracked as
/// <see cref="TrackingNames.Files"/>); each file that looks like a schema, with all files at hand for
/// <c>xi:include</c>, → <see cref="ParseResult"/> (<see cref="TrackingNames.Parse"/>); → generated
/// source (<see cref="TrackingNames.Emit"/>). Each parsed schema, with whether the compilation references the
/// gateway (<see cref="TrackingNames.Gateway"/>, a bool), → the typed dispatch file (<see cref="TrackingNames.Dispatch"/>,
/// <see cref="DispatchEmitter"/>). Every step's output compares by value, so an edit that does not change a schema
/// leaves the later steps cached.
/// </remarks>
[Generator(LanguageNames.CSharp)]
public sealed class SbeGenerator : IIncrementalGenerator
{
    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<SchemaFile> files = context.AdditionalTextsProvider
            .Where(static text => text.Path.EndsWith(".xml", StringComparison.OrdinalIgnoreCase))
            .Combine(context.AnalyzerConfigOptionsProvider)
            .Select(static (pair, cancellationToken) =>
            {
                var options = pair.Right.GetOptions(pair.Left);
                options.TryGetValue("build_metadata.AdditionalFiles.SbeNamespace", out string? ns);
                options.TryGetValue("build_metadata.AdditionalFiles.SbeHandlerName", out string? handlerName);
                options.TryGetValue("build_metadata.AdditionalFiles.SbeDispatch", out string? dispatch);
                string text = pair.Left.GetText(cancellationToken)?.ToString() ?? string.Empty;
                return new SchemaFile(
                    Paths.Normalize(pair.Left.Path),
                    text,
                    string.IsNullOrWhiteSpace(ns) ? null : ns!.Trim(),
                    string.IsNullOrWhiteSpace(handlerName) ? null : handlerName!.Trim(),
                    !string.Equals(dispatch?.Trim(), "false", StringComparison.OrdinalIgnoreCase));
            })
            .WithTrackingName(TrackingNames.Files);

        IncrementalValueProvider<ImmutableArray<SchemaFile>> allFiles = files.Collect();

        IncrementalValuesProvider<ParseResult> parsed = files
            .Where(static file => Parser.LooksLikeSchema(file))
            .Combine(allFiles)
            .Select(static (pair, cancellationToken) =>
            {
                ParseResult result = Parser.Parse(pair.Left, pair.Right, cancellationToken);
                return result.Schema is { } schema
                    ? result with { Schema = schema with { HandlerName = pair.Left.HandlerName, Dispatch = pair.Left.Dispatch } }
                    : result;
            })
            .WithTrackingName(TrackingNames.Parse);

        IncrementalValuesProvider<EmitResult> emitted = parsed
            .Select(static (result, cancellationToken) => Emitter.Emit(result, cancellationToken))
            .WithTrackingName(TrackingNames.Emit);

        // Whether the compilation references the gateway (the adapter is emitted only then). A bool, so a new
        // compilation that still references it leaves the dispatch step cached.
        IncrementalValueProvider<bool> gateway = context.CompilationProvider
            .Select(static (compilation, _) => compilation.GetTypeByMetadataName(DispatchEmitter.GatewayHandlerMetadataName) is not null)
            .WithTrackingName(TrackingNames.Gateway);

        IncrementalValuesProvider<EmitResult> dispatch = parsed
            .Combine(gateway)
            .Select(static (pair, cancellationToken) => DispatchEmitter.Emit(pair.Left, pair.Right, cancellationToken))
            .WithTrackingName(TrackingNames.Dispatch);

        context.RegisterSourceOutput(emitted, AddOutput);
        context.RegisterSourceOutput(dispatch, AddOutput);
    }

    private static void AddOutput(SourceProductionContext context, EmitResult result)
    {
        foreach (DiagnosticInfo diagnostic in result.Diagnostics)
        {
            context.ReportDiagnostic(diagnostic.ToDiagnostic());
        }

        if (result.HintName is null || result.Source is null)
        {
            return;
        }

        try
        {
            context.AddSource(result.HintName, SourceText.From(result.Source, System.Text.Encoding.UTF8));
        }
        catch (ArgumentException)
        {
            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.DuplicateOutput,
                Location.Create(result.FilePath, default, default),
                result.FilePath,
                result.HintName));
        }
    }
}

/// <summary>Names of the tracked pipeline steps (for incremental-caching tests).</summary>
internal static class TrackingNames
{
    public const string Files = "SbeFiles";
    public const string Parse = "SbeParse";
    public const string Emit = "SbeEmit";
    public const string Gateway = "SbeGateway";
    public const string Dispatch = "SbeDispatch";
}
