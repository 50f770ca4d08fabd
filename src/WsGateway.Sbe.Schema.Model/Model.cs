namespace WsGateway.Sbe.Schema.Model;

// The equatable model of an SBE schema: what the Parser produces, what the source generator's emitters and the
// run-time decoder (WsGateway.Sbe.Schema) read. Everything here compares by value (records and EquatableArray), so an
// unchanged schema yields an equal model and the generator's emit step is cached. No Roslyn type and no C# expression
// is held here: values are typed (SbeValue), diagnostics are plain data; the generator alone turns them into C# and
// Roslyn diagnostics. Names are the one C#-shaped part: type names are those of the generated types (Names.Type, so
// that the parser can find two schema names that would clash) and Namespace is the C# namespace; the run-time decoder
// uses them only as keys.

/// <summary>An XML additional file: normalised path, text, optional namespace override, optional handler name
/// (<c>SbeHandlerName</c>) and whether to emit the typed dispatch (<c>SbeDispatch</c>, on unless "false").</summary>
internal sealed record SchemaFile(string Path, string Text, string? NamespaceOverride, string? HandlerName = null, bool Dispatch = true);

/// <summary>
/// A problem in a schema, as plain data: the id of its <see cref="SchemaDiagnostics"/> kind, the arguments of that
/// kind's message, the file, and where in it (0-based line and columns as Roslyn counts them, and the character span).
/// The generator turns it into a Roslyn diagnostic; the run-time schema reader into a <c>file:line:column</c> line.
/// </summary>
internal sealed record DiagnosticInfo(
    string Id,
    SchemaDiagnosticSeverity Severity,
    string Path,
    int SpanStart,
    int SpanLength,
    int Line,
    int StartColumn,
    int EndColumn,
    EquatableArray<string> Arguments)
{
    /// <summary>A diagnostic with no position in the file (it names the file only).</summary>
    public static DiagnosticInfo InFile(SchemaDiagnostic kind, string path, params string[] arguments)
        => new(kind.Id, kind.Severity, path, 0, 0, 0, 0, 0, new EquatableArray<string>(arguments));

    /// <summary>The message: the kind's format with <see cref="Arguments"/>.</summary>
    public string Message => SchemaDiagnostics.Get(Id).FormatMessage(Arguments);
}

/// <summary>How serious a <see cref="DiagnosticInfo"/> is (every SBE schema problem today is an error).</summary>
internal enum SchemaDiagnosticSeverity
{
    Warning,
    Error,
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
/// A fixed-size field of a message or group, or a member of a composite. Its values are typed:
/// <see cref="NullValue"/>, <see cref="MinValue"/> and <see cref="MaxValue"/> of a primitive field are integers
/// (<see cref="SignedValue"/>, <see cref="UnsignedValue"/>, chars as their byte) or <see cref="FloatingValue"/>s, the
/// schema's or SBE's default; an enum field's <see cref="NullValue"/> is its enum's null value, and it has no min or max;
/// sets and composites have none of them. <see cref="ConstantValue"/> (constants only) is a typed value, a
/// <see cref="TextValue"/> for a constant char array, or an <see cref="EnumValueReference"/> (an enum field, or a
/// <c>valueRef</c>).
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
    SbeValue? ConstantValue,
    SbeValue? NullValue,
    SbeValue? MinValue,
    SbeValue? MaxValue,
    string? TypeName,
    string? CharacterEncoding,
    int SinceVersion,
    int? Deprecated,
    string? Description,
    string? SemanticType);

internal abstract record NamedTypeModel(string Name, string? Description);

/// <summary>A valid value of an enum: its value is a <see cref="SignedValue"/> or <see cref="UnsignedValue"/> of the encoding.</summary>
internal sealed record EnumValueModel(string Name, SbeValue Value, string? Description, int SinceVersion);

/// <summary>An enum; <see cref="NullValue"/> is the encoding's null value (the schema's or SBE's default).</summary>
internal sealed record EnumModel(string Name, string? Description, PrimitiveKind Encoding, SbeValue NullValue, EquatableArray<EnumValueModel> Values)
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
    ulong NumInGroupMax);

/// <summary>A var data field: length prefix then bytes.</summary>
internal sealed record DataModel(
    string Name,
    int Id,
    string TypeName,
    int LengthOffset,
    PrimitiveKind LengthPrimitive,
    int HeaderSize,
    ulong LengthMax,
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

/// <summary>
/// A value from a schema (a nullValue, minValue, maxValue, constant or enum value), typed. Never target-language text:
/// the generator's emitter writes it as C#, the run-time decoder compares with it and writes it as JSON.
/// </summary>
internal abstract record SbeValue;

/// <summary>A value of a signed integer type (int8 to int64).</summary>
internal sealed record SignedValue(long Value) : SbeValue;

/// <summary>A value of an unsigned integer type (uint8 to uint64), or of a char (its byte).</summary>
internal sealed record UnsignedValue(ulong Value) : SbeValue;

/// <summary>
/// A float or double value, NaN and infinities included. A float's value is held as the double of the nearest float,
/// so it compares equal to the float read from the wire.
/// </summary>
internal sealed record FloatingValue(double Value) : SbeValue;

/// <summary>The value of a constant char array (a constant string).</summary>
internal sealed record TextValue(string Value) : SbeValue;

/// <summary>
/// A value given by naming an enum value (a constant enum field, or a <c>valueRef</c>): the enum's type name as in
/// the <see cref="EnumModel"/>'s name, the value's schema name, and the value itself.
/// </summary>
internal sealed record EnumValueReference(string EnumName, string ValueName, SbeValue Value) : SbeValue;
