using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using WsGateway.Sbe.Schema.Model;

namespace WsGateway.Sbe.Generator;

/// <summary>
/// The generator's Roslyn diagnostics: one <see cref="DiagnosticDescriptor"/> per <see cref="SchemaDiagnostics"/> kind
/// (same ids, titles and messages), and the conversion of the model's plain <see cref="DiagnosticInfo"/> at the edge.
/// </summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "SbeGenerator";

    public static readonly DiagnosticDescriptor InvalidXml = Create(SchemaDiagnostics.Ids.InvalidXml, SchemaDiagnostics.InvalidXml);

    public static readonly DiagnosticDescriptor UnknownType = Create(SchemaDiagnostics.Ids.UnknownType, SchemaDiagnostics.UnknownType);

    public static readonly DiagnosticDescriptor Duplicate = Create(SchemaDiagnostics.Ids.Duplicate, SchemaDiagnostics.Duplicate);

    public static readonly DiagnosticDescriptor InvalidOffset = Create(SchemaDiagnostics.Ids.InvalidOffset, SchemaDiagnostics.InvalidOffset);

    public static readonly DiagnosticDescriptor InvalidSinceVersion = Create(SchemaDiagnostics.Ids.InvalidSinceVersion, SchemaDiagnostics.InvalidSinceVersion);

    public static readonly DiagnosticDescriptor InvalidAttribute = Create(SchemaDiagnostics.Ids.InvalidAttribute, SchemaDiagnostics.InvalidAttribute);

    public static readonly DiagnosticDescriptor InvalidValue = Create(SchemaDiagnostics.Ids.InvalidValue, SchemaDiagnostics.InvalidValue);

    public static readonly DiagnosticDescriptor InvalidName = Create(SchemaDiagnostics.Ids.InvalidName, SchemaDiagnostics.InvalidName);

    public static readonly DiagnosticDescriptor IncludeNotFound = Create(SchemaDiagnostics.Ids.IncludeNotFound, SchemaDiagnostics.IncludeNotFound);

    public static readonly DiagnosticDescriptor InvalidComposite = Create(SchemaDiagnostics.Ids.InvalidComposite, SchemaDiagnostics.InvalidComposite);

    public static readonly DiagnosticDescriptor InvalidOrder = Create(SchemaDiagnostics.Ids.InvalidOrder, SchemaDiagnostics.InvalidOrder);

    public static readonly DiagnosticDescriptor CyclicType = Create(SchemaDiagnostics.Ids.CyclicType, SchemaDiagnostics.CyclicType);

    public static readonly DiagnosticDescriptor DuplicateOutput = Create(SchemaDiagnostics.Ids.DuplicateOutput, SchemaDiagnostics.DuplicateOutput);

    public static readonly DiagnosticDescriptor InternalError = Create(SchemaDiagnostics.Ids.InternalError, SchemaDiagnostics.InternalError);

    private static readonly Dictionary<string, DiagnosticDescriptor> s_byId = new(StringComparer.Ordinal)
    {
        [SchemaDiagnostics.Ids.InvalidXml] = InvalidXml,
        [SchemaDiagnostics.Ids.UnknownType] = UnknownType,
        [SchemaDiagnostics.Ids.Duplicate] = Duplicate,
        [SchemaDiagnostics.Ids.InvalidOffset] = InvalidOffset,
        [SchemaDiagnostics.Ids.InvalidSinceVersion] = InvalidSinceVersion,
        [SchemaDiagnostics.Ids.InvalidAttribute] = InvalidAttribute,
        [SchemaDiagnostics.Ids.InvalidValue] = InvalidValue,
        [SchemaDiagnostics.Ids.InvalidName] = InvalidName,
        [SchemaDiagnostics.Ids.IncludeNotFound] = IncludeNotFound,
        [SchemaDiagnostics.Ids.InvalidComposite] = InvalidComposite,
        [SchemaDiagnostics.Ids.InvalidOrder] = InvalidOrder,
        [SchemaDiagnostics.Ids.CyclicType] = CyclicType,
        [SchemaDiagnostics.Ids.DuplicateOutput] = DuplicateOutput,
        [SchemaDiagnostics.Ids.InternalError] = InternalError,
    };

    /// <summary>The descriptor of the diagnostic kind with <paramref name="id"/>.</summary>
    public static DiagnosticDescriptor For(string id) => s_byId[id];

    /// <summary>The Roslyn diagnostic for <paramref name="info"/>, at its file, span and line span.</summary>
    public static Diagnostic ToDiagnostic(this DiagnosticInfo info)
    {
        var span = new TextSpan(info.SpanStart, info.SpanLength);
        var lines = new LinePositionSpan(new LinePosition(info.Line, info.StartColumn), new LinePosition(info.Line, info.EndColumn));
        object?[] arguments = new object?[info.Arguments.Count];
        for (int i = 0; i < arguments.Length; i++)
        {
            arguments[i] = info.Arguments[i];
        }

        DiagnosticSeverity severity = info.Severity == SchemaDiagnosticSeverity.Error ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning;
        return Diagnostic.Create(For(info.Id), Location.Create(info.Path, span, lines), severity, additionalLocations: null, properties: null, arguments);
    }

    /// <summary>A descriptor with the kind's id (a constant at each call, for release tracking), title and message.</summary>
    private static DiagnosticDescriptor Create(string id, SchemaDiagnostic kind)
        => new(id, kind.Title, kind.MessageFormat, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
}
