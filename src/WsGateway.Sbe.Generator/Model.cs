using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace WsGateway.Sbe.Generator;

// The equatable model between Parser and Emitter. Everything here compares by value (records and
// EquatableArray), so an unchanged schema yields an equal model and the emit step is cached.

/// <summary>An XML additional file: normalised path, text, optional namespace override, optional handler name
/// (<c>SbeHandlerName</c>) and whether to emit the typed dispatch (<c>SbeDispatch</c>, on unless "false").</summary>
internal sealed record SchemaFile(string Path, string Text, string? NamespaceOverride, string? HandlerName = null, bool Dispatch = true);

/// <summary>A diagnostic as plain data (no Location objects), rebuilt when reported.</summary>
internal sealed record DiagnosticInfo(DiagnosticDescriptor Descriptor, string Path, TextSpan Span, LinePositionSpan LineSpan, EquatableArray<string> Arguments)
{
    public Diagnostic ToDiagnostic()
        => Diagnostic.Create(Descriptor, Location.Create(Path, Span, LineSpan), Arguments.Select(a => (object?)a).ToArray());
}

internal enum PrimitiveKind
{
    Char,
    Int8,
    UInt8,
    Int16,
    UInt16,
    Int32,
    UInt32,
    Int64,
    UInt64,
    Float,
    Double,
}

internal enum Presence
{
    Required,
    Optional,
    Constant,
}

internal enum FieldKind
{
    Primitive,
    Enum,
    Set,
    Composite,
}

/// <summary>
/// A fixed-size field of a message or group, or a member of a composite.
/// Literal values (<see cref="NullValue"/>, <see cref="ConstantValue"/>, ...) are C# expressions of the field's type.
/// </summary>
internal sealed record FieldModel(
    string Name,
    int Id,
    FieldKind Kind,
    PrimitiveKind Primitive,
    int Length,
    int Offset,
    int Size,
    Presence Presence,
    string? ConstantValue,
    string NullValue,
    string MinValue,
    string MaxValue,
    string? TypeName,
    string? CharacterEncoding,
    int SinceVersion,
    int? Deprecated,
    string? Description,
    string? SemanticType);

internal abstract record NamedTypeModel(string Name, string? Description);

internal sealed record EnumValueModel(string Name, string Value, string? Description, int SinceVersion);

internal sealed record EnumModel(string Name, string? Description, PrimitiveKind Encoding, string NullValue, EquatableArray<EnumValueModel> Values)
    : NamedTypeModel(Name, Description);

internal sealed record ChoiceModel(string Name, int Bit, string? Description, int SinceVersion);

internal sealed record SetModel(string Name, string? Description, PrimitiveKind Encoding, EquatableArray<ChoiceModel> Choices)
    : NamedTypeModel(Name, Description);

internal sealed record CompositeModel(string Name, string? Description, int Size, EquatableArray<FieldModel> Members)
    : NamedTypeModel(Name, Description);

/// <summary>The dimension composite of a group (blockLength and numInGroup).</summary>
internal sealed record DimensionModel(
    string TypeName,
    int Size,
    int BlockLengthOffset,
    PrimitiveKind BlockLengthPrimitive,
    int NumInGroupOffset,
    PrimitiveKind NumInGroupPrimitive,
    decimal NumInGroupMax);

/// <summary>A var data field: length prefix then bytes.</summary>
internal sealed record DataModel(
    string Name,
    int Id,
    string TypeName,
    int LengthOffset,
    PrimitiveKind LengthPrimitive,
    int HeaderSize,
    decimal LengthMax,
    string? CharacterEncoding,
    int SinceVersion,
    int? Deprecated,
    string? Description);

internal sealed record GroupModel(
    string Name,
    int Id,
    int BlockLength,
    DimensionModel Dimension,
    int SinceVersion,
    int? Deprecated,
    string? Description,
    EquatableArray<FieldModel> Fields,
    EquatableArray<GroupModel> Groups,
    EquatableArray<DataModel> Data);

internal sealed record MessageModel(
    string Name,
    int Id,
    int BlockLength,
    int SinceVersion,
    int? Deprecated,
    string? Description,
    string? SemanticType,
    EquatableArray<FieldModel> Fields,
    EquatableArray<GroupModel> Groups,
    EquatableArray<DataModel> Data);

/// <summary>The header composite and the types of its four standard members.</summary>
internal sealed record HeaderModel(string TypeName, int Size, PrimitiveKind BlockLength, PrimitiveKind TemplateId, PrimitiveKind SchemaId, PrimitiveKind Version);

internal sealed record SchemaModel(
    string FilePath,
    string Namespace,
    string Package,
    int Id,
    int Version,
    string? SemanticVersion,
    string? Description,
    bool BigEndian,
    HeaderModel Header,
    EquatableArray<NamedTypeModel> Types,
    EquatableArray<MessageModel> Messages,
    string? HandlerName = null,
    bool Dispatch = true);

/// <summary>What the parse step produces for one schema file: a model (null when there were errors) and diagnostics.</summary>
internal sealed record ParseResult(string FilePath, SchemaModel? Schema, EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>What the emit step produces: the source to add (null when none) and diagnostics.</summary>
internal sealed record EmitResult(string FilePath, string? HintName, string? Source, EquatableArray<DiagnosticInfo> Diagnostics);
