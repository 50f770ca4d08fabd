using System.Collections.Immutable;
using System.Globalization;
using System.Xml;
using System.Xml.Linq;

namespace WsGateway.Sbe.Schema.Model;

/// <summary>
/// Reads one SBE XML schema (with its xi:included files) into the equatable <see cref="SchemaModel"/>:
/// resolves type references, computes offsets and block lengths, and reports every problem as a
/// diagnostic that names the file and line. Never throws (except on cancellation).
/// </summary>
/// <remarks>
/// Shared by the source generator (netstandard2.0, in the compiler) and the run-time decoder (WsGateway.Sbe.Schema), so
/// it uses neither Roslyn nor the file system: included files come in <c>allFiles</c>.
/// </remarks>
internal sealed class Parser
{
    private const string XIncludeNamespace = "http://www.w3.org/2001/XInclude";

    private readonly SchemaFile _file;
    private readonly ImmutableArray<SchemaFile> _allFiles;
    private readonly CancellationToken _cancellationToken;
    private readonly List<DiagnosticInfo> _diagnostics = [];
    private readonly Dictionary<XDocument, (string Path, LineMap Lines)> _documents = [];
    private readonly Dictionary<string, XElement> _typeElements = new(StringComparer.Ordinal);
    private readonly Dictionary<XElement, ResolvedType?> _resolved = [];
    private readonly HashSet<XElement> _resolving = [];
    private readonly List<NamedTypeModel> _namedTypes = [];
    private readonly Dictionary<string, NamedTypeModel> _namedTypesByName = new(StringComparer.Ordinal);
    private readonly HashSet<string> _includedPaths = new(StringComparer.Ordinal);
    private readonly HashSet<string> _topLevelNames = new(StringComparer.Ordinal);
    private int _schemaVersion;

    private Parser(SchemaFile file, ImmutableArray<SchemaFile> allFiles, CancellationToken cancellationToken)
    {
        _file = file;
        _allFiles = allFiles;
        _cancellationToken = cancellationToken;
    }

    /// <summary>Cheap test whether an XML file is worth parsing as an SBE schema.</summary>
    public static bool LooksLikeSchema(SchemaFile file) => file.Text.IndexOf("messageSchema", StringComparison.Ordinal) >= 0;

    public static ParseResult Parse(SchemaFile file, ImmutableArray<SchemaFile> allFiles, CancellationToken cancellationToken)
    {
        var parser = new Parser(file, allFiles, cancellationToken);
        SchemaModel? schema;
        try
        {
            schema = parser.ParseSchema();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            parser.ReportAt(SchemaDiagnostics.InternalError, file.Path, null, 0, 0, 0, e.GetType().Name + ": " + e.Message);
            schema = null;
        }

        if (parser._diagnostics.Count > 0)
        {
            schema = null;
        }

        return new ParseResult(file.Path, schema, new EquatableArray<DiagnosticInfo>(parser._diagnostics));
    }

    private SchemaModel? ParseSchema()
    {
        XDocument? document = Load(_file.Path, _file.Text);
        if (document?.Root is not { } root || root.Name.LocalName != "messageSchema")
        {
            return null;
        }

        string package = Attribute(root, "package") ?? string.Empty;
        if (package.Length == 0)
        {
            Report(SchemaDiagnostics.InvalidAttribute, root, "messageSchema has no 'package' attribute");
        }

        int id = RequiredInt(root, "id", "messageSchema");
        _schemaVersion = OptionalInt(root, "version", 0);
        string byteOrder = Attribute(root, "byteOrder") ?? "littleEndian";
        bool bigEndian = byteOrder == "bigEndian";
        if (!bigEndian && byteOrder != "littleEndian")
        {
            Report(SchemaDiagnostics.InvalidAttribute, root, $"byteOrder '{byteOrder}' is neither littleEndian nor bigEndian");
        }

        string headerTypeName = Attribute(root, "headerType") ?? "messageHeader";
        string ns = _file.NamespaceOverride is { Length: > 0 } over ? over : Names.Namespace(package.Length == 0 ? "Sbe" : package);

        foreach (XElement definition in TypeDefinitions(root))
        {
            string? name = Attribute(definition, "name");
            if (name is null)
            {
                Report(SchemaDiagnostics.InvalidAttribute, definition, $"<{definition.Name.LocalName}> has no 'name' attribute");
                continue;
            }

            if (_typeElements.ContainsKey(name))
            {
                Report(SchemaDiagnostics.Duplicate, definition, "type", name, "types");
                continue;
            }

            _typeElements.Add(name, definition);
            _topLevelNames.Add(Names.Type(name));
        }

        // Resolve every type, used or not, so that all of them are checked and generated (as sbe-tool does).
        foreach (XElement definition in _typeElements.Values)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            ResolveElement(definition);
        }

        HeaderModel? header = ResolveHeader(root, headerTypeName);

        var messages = new List<MessageModel>();
        var messageIds = new HashSet<int>();
        var messageNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (XElement element in root.Elements().Where(e => e.Name.LocalName == "message"))
        {
            _cancellationToken.ThrowIfCancellationRequested();
            MessageModel? message = ParseMessage(element, header);
            if (message is null)
            {
                continue;
            }

            if (!messageIds.Add(message.Id))
            {
                Report(SchemaDiagnostics.Duplicate, element, "message id", message.Id.ToString(CultureInfo.InvariantCulture), "messageSchema");
            }

            if (!messageNames.Add(Names.Type(message.Name)))
            {
                Report(SchemaDiagnostics.Duplicate, element, "message name", message.Name, "messageSchema");
            }

            messages.Add(message);
        }

        if (header is null)
        {
            return null;
        }

        return new SchemaModel(
            _file.Path,
            ns,
            package,
            id,
            _schemaVersion,
            Attribute(root, "semanticVersion"),
            Attribute(root, "description"),
            bigEndian,
            header,
            new EquatableArray<NamedTypeModel>(_namedTypes),
            new EquatableArray<MessageModel>(messages));
    }

    // ---------------------------------------------------------------- documents and includes

    private XDocument? Load(string path, string text)
    {
        try
        {
            XDocument document = XDocument.Parse(text, LoadOptions.SetLineInfo);
            _documents[document] = (path, new LineMap(text));
            return document;
        }
        catch (XmlException e)
        {
            ReportAt(SchemaDiagnostics.InvalidXml, path, new LineMap(text), e.LineNumber, e.LinePosition, 1, e.Message);
            return null;
        }
    }

    /// <summary>The children of every <c>types</c> element, following <c>xi:include</c> into other additional files.</summary>
    private IEnumerable<XElement> TypeDefinitions(XElement root)
    {
        foreach (XElement child in root.Elements())
        {
            if (IsInclude(child))
            {
                foreach (XElement definition in IncludedDefinitions(child))
                {
                    yield return definition;
                }
            }
            else if (child.Name.LocalName == "types")
            {
                foreach (XElement definition in TypesChildren(child))
                {
                    yield return definition;
                }
            }
        }
    }

    private IEnumerable<XElement> TypesChildren(XElement types)
    {
        foreach (XElement definition in types.Elements())
        {
            if (IsInclude(definition))
            {
                foreach (XElement included in IncludedDefinitions(definition))
                {
                    yield return included;
                }
            }
            else
            {
                yield return definition;
            }
        }
    }

    private static bool IsInclude(XElement element)
        => element.Name.LocalName == "include" && (element.Name.NamespaceName == XIncludeNamespace || element.Name.NamespaceName.Length == 0);

    private IEnumerable<XElement> IncludedDefinitions(XElement include)
    {
        string? href = Attribute(include, "href");
        if (href is null)
        {
            Report(SchemaDiagnostics.InvalidAttribute, include, "xi:include has no 'href' attribute");
            return [];
        }

        string basePath = include.Document is { } doc && _documents.TryGetValue(doc, out var source) ? source.Path : _file.Path;
        string path = Paths.Combine(Paths.Directory(basePath), href);
        SchemaFile? file = _allFiles.FirstOrDefault(f => string.Equals(f.Path, path, StringComparison.Ordinal))
            ?? _allFiles.FirstOrDefault(f => string.Equals(f.Path, path, StringComparison.OrdinalIgnoreCase));
        if (file is null)
        {
            Report(SchemaDiagnostics.IncludeNotFound, include, href, path);
            return [];
        }

        if (!_includedPaths.Add(file.Path))
        {
            return [];
        }

        XDocument? included = Load(file.Path, file.Text);
        if (included?.Root is not { } root)
        {
            return [];
        }

        return root.Name.LocalName switch
        {
            "types" => TypesChildren(root).ToList(),
            "messageSchema" => TypeDefinitions(root).ToList(),
            _ => [root],
        };
    }

    // ---------------------------------------------------------------- types

    private sealed class ResolvedType
    {
        public FieldKind Kind;
        public string Name = string.Empty;
        public PrimitiveKind Primitive;
        public int Length = 1;
        public Presence Presence;
        public string? NullRaw;
        public string? MinRaw;
        public string? MaxRaw;
        public string? ConstantRaw;
        public string? ValueRef;
        public string? CharacterEncoding;
        public string? Description;
        public string? SemanticType;
        public int SinceVersion;
        public int? Deprecated;
        public int Size;
        public string? TypeName;
        public EnumModel? Enum;
        public CompositeModel? Composite;
        public XElement? Element;
    }

    private ResolvedType? ResolveName(string name, XObject at, string referencedBy)
    {
        if (Primitives.TryParse(name, out PrimitiveKind primitive))
        {
            return new ResolvedType { Kind = FieldKind.Primitive, Name = name, Primitive = primitive, Size = Primitives.Size(primitive) };
        }

        if (!_typeElements.TryGetValue(name, out XElement? element))
        {
            Report(SchemaDiagnostics.UnknownType, at, name, referencedBy);
            return null;
        }

        return ResolveElement(element);
    }

    private ResolvedType? ResolveElement(XElement element)
    {
        if (_resolved.TryGetValue(element, out ResolvedType? done))
        {
            return done;
        }

        if (!_resolving.Add(element))
        {
            Report(SchemaDiagnostics.CyclicType, element, Attribute(element, "name") ?? element.Name.LocalName);
            _resolved[element] = null;
            return null;
        }

        ResolvedType? resolved = element.Name.LocalName switch
        {
            "type" => ResolveEncoded(element),
            "enum" => ResolveEnum(element),
            "set" => ResolveSet(element),
            "composite" => ResolveComposite(element),
            _ => Unsupported(element),
        };
        _resolving.Remove(element);
        _resolved[element] = resolved;
        return resolved;
    }

    private ResolvedType? Unsupported(XElement element)
    {
        Report(SchemaDiagnostics.InvalidComposite, element, $"<{element.Name.LocalName}> is not allowed here (types hold type, composite, enum and set)");
        return null;
    }

    private ResolvedType? ResolveEncoded(XElement element)
    {
        string name = Attribute(element, "name") ?? string.Empty;
        if (!CheckName(name, element))
        {
            return null;
        }

        string? primitiveName = Attribute(element, "primitiveType");
        if (primitiveName is null || !Primitives.TryParse(primitiveName, out PrimitiveKind primitive))
        {
            Report(SchemaDiagnostics.InvalidAttribute, element, $"type '{name}' has a missing or unknown primitiveType '{primitiveName}'");
            return null;
        }

        int length = OptionalInt(element, "length", 1);
        if (length < 0)
        {
            Report(SchemaDiagnostics.InvalidAttribute, element, $"type '{name}' has a negative length");
            return null;
        }

        if (Attribute(element, "variableLength") == "true")
        {
            Report(SchemaDiagnostics.InvalidComposite, element, $"type '{name}': variableLength types are not SBE 1.0; use a var data composite (length + varData)");
            return null;
        }

        Presence presence = ParsePresence(element);
        var type = new ResolvedType
        {
            Kind = FieldKind.Primitive,
            Name = name,
            Primitive = primitive,
            Length = length,
            Presence = presence,
            NullRaw = Attribute(element, "nullValue"),
            MinRaw = Attribute(element, "minValue"),
            MaxRaw = Attribute(element, "maxValue"),
            ValueRef = Attribute(element, "valueRef"),
            CharacterEncoding = Attribute(element, "characterEncoding"),
            Description = Attribute(element, "description"),
            SemanticType = Attribute(element, "semanticType"),
            SinceVersion = SinceVersion(element, name),
            Deprecated = OptionalNullableInt(element, "deprecated"),
            Element = element,
        };

        if (presence == Presence.Constant)
        {
            type.ConstantRaw = element.Value.Trim();
            if (type.ConstantRaw.Length == 0 && type.ValueRef is null)
            {
                Report(SchemaDiagnostics.InvalidValue, element, $"constant type '{name}' has no value");
                return null;
            }

            // A constant char holding several characters is a constant string (sbe-tool: length = its length).
            if (primitive == PrimitiveKind.Char && type.ConstantRaw.Length > 1)
            {
                type.Length = Math.Max(length, type.ConstantRaw.Length);
            }
        }

        type.Size = presence == Presence.Constant ? 0 : Primitives.Size(primitive) * length;

        // Check the literals now, so a bad value is reported once, at the type.
        foreach (string attribute in new[] { "nullValue", "minValue", "maxValue" })
        {
            if (Attribute(element, attribute) is { } raw && SchemaValues.Parse(primitive, raw) is null)
            {
                Report(SchemaDiagnostics.InvalidValue, element, $"{attribute} '{raw}' of type '{name}' is not a valid {Primitives.SbeName(primitive)}");
                return null;
            }
        }

        return type;
    }

    private (PrimitiveKind Primitive, ResolvedType? Encoding)? ResolveEncodingType(XElement element, string name, bool allowChar)
    {
        string? encodingType = Attribute(element, "encodingType");
        if (encodingType is null)
        {
            Report(SchemaDiagnostics.InvalidAttribute, element, $"'{name}' has no encodingType");
            return null;
        }

        PrimitiveKind primitive;
        ResolvedType? encoding = null;
        if (!Primitives.TryParse(encodingType, out primitive))
        {
            encoding = ResolveName(encodingType, element, name);
            if (encoding is null)
            {
                return null;
            }

            if (encoding.Kind != FieldKind.Primitive || encoding.Length != 1)
            {
                Report(SchemaDiagnostics.InvalidAttribute, element, $"encodingType '{encodingType}' of '{name}' is not a single primitive type");
                return null;
            }

            primitive = encoding.Primitive;
        }

        if (primitive is PrimitiveKind.Float or PrimitiveKind.Double || (primitive == PrimitiveKind.Char && !allowChar))
        {
            Report(SchemaDiagnostics.InvalidAttribute, element, $"encodingType '{encodingType}' of '{name}' is not allowed");
            return null;
        }

        return (primitive, encoding);
    }

    private ResolvedType? ResolveEnum(XElement element)
    {
        string name = Attribute(element, "name") ?? string.Empty;
        if (!CheckName(name, element) || ResolveEncodingType(element, name, allowChar: true) is not { } encoding)
        {
            return null;
        }

        PrimitiveKind primitive = encoding.Primitive;
        string? nullRaw = Attribute(element, "nullValue") ?? encoding.Encoding?.NullRaw;
        decimal? nullNumber = nullRaw is null ? null : SchemaValues.Numeric(primitive, nullRaw);
        if (nullRaw is not null && nullNumber is null)
        {
            Report(SchemaDiagnostics.InvalidValue, element, $"nullValue '{nullRaw}' of enum '{name}' is not a valid {Primitives.SbeName(primitive)}");
            return null;
        }

        SbeValue nullValue = nullNumber is { } given ? SchemaValues.Integer(primitive, given) : SchemaValues.Default(primitive, SchemaValues.Bound.Null);
        SchemaValues.TryGetInteger(nullValue, out decimal nullInteger);
        decimal? min = encoding.Encoding?.MinRaw is { } minRaw ? SchemaValues.Numeric(primitive, minRaw) : null;
        decimal? max = encoding.Encoding?.MaxRaw is { } maxRaw ? SchemaValues.Numeric(primitive, maxRaw) : null;

        var values = new List<EnumValueModel>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        bool ok = true;
        foreach (XElement valid in element.Elements().Where(e => e.Name.LocalName == "validValue"))
        {
            string valueName = Attribute(valid, "name") ?? string.Empty;
            if (!CheckName(valueName, valid))
            {
                ok = false;
                continue;
            }

            if (!names.Add(valueName))
            {
                Report(SchemaDiagnostics.Duplicate, valid, "validValue", valueName, name);
                ok = false;
                continue;
            }

            string raw = valid.Value.Trim();
            if (SchemaValues.Numeric(primitive, raw) is not { } number)
            {
                Report(SchemaDiagnostics.InvalidValue, valid, $"value '{raw}' of '{name}.{valueName}' is not a valid {Primitives.SbeName(primitive)}");
                ok = false;
                continue;
            }

            if ((min is { } lo && number < lo) || (max is { } hi && number > hi))
            {
                Report(SchemaDiagnostics.InvalidValue, valid, $"value {raw} of '{name}.{valueName}' is outside the encoding type's range [{min?.ToString(CultureInfo.InvariantCulture) ?? "-"}, {max?.ToString(CultureInfo.InvariantCulture) ?? "-"}]");
                ok = false;
                continue;
            }

            if (number == nullInteger)
            {
                Report(SchemaDiagnostics.InvalidValue, valid, $"value {raw} of '{name}.{valueName}' is the enum's null value");
                ok = false;
                continue;
            }

            values.Add(new EnumValueModel(valueName, SchemaValues.Integer(primitive, number), Attribute(valid, "description"), SinceVersion(valid, name + "." + valueName)));
        }

        if (!ok)
        {
            return null;
        }

        EnumModel model = new EnumModel(Names.Type(name), Attribute(element, "description"), primitive, nullValue, new EquatableArray<EnumValueModel>(values));
        model = AddNamedType(model, element);
        Presence presence = ParsePresence(element);
        return new ResolvedType
        {
            Kind = FieldKind.Enum,
            Name = name,
            Primitive = primitive,
            Presence = presence,
            Description = model.Description,
            SemanticType = Attribute(element, "semanticType"),
            SinceVersion = SinceVersion(element, name),
            Deprecated = OptionalNullableInt(element, "deprecated"),
            Size = presence == Presence.Constant ? 0 : Primitives.Size(primitive),
            TypeName = model.Name,
            Enum = model,
            ConstantRaw = presence == Presence.Constant ? element.Value.Trim() : null,
            ValueRef = Attribute(element, "valueRef"),
            Element = element,
        };
    }

    private ResolvedType? ResolveSet(XElement element)
    {
        string name = Attribute(element, "name") ?? string.Empty;
        if (!CheckName(name, element) || ResolveEncodingType(element, name, allowChar: false) is not { } encoding)
        {
            return null;
        }

        PrimitiveKind primitive = encoding.Primitive;
        int bits = Primitives.Size(primitive) * 8;
        var choices = new List<ChoiceModel>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var positions = new HashSet<int>();
        bool ok = true;
        foreach (XElement choice in element.Elements().Where(e => e.Name.LocalName == "choice"))
        {
            string choiceName = Attribute(choice, "name") ?? string.Empty;
            if (!CheckName(choiceName, choice))
            {
                ok = false;
                continue;
            }

            if (!names.Add(Names.Member(choiceName)))
            {
                Report(SchemaDiagnostics.Duplicate, choice, "choice", choiceName, name);
                ok = false;
                continue;
            }

            if (!int.TryParse(choice.Value.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int bit) || bit < 0 || bit >= bits)
            {
                Report(SchemaDiagnostics.InvalidValue, choice, $"bit '{choice.Value.Trim()}' of '{name}.{choiceName}' is not between 0 and {bits - 1}");
                ok = false;
                continue;
            }

            if (!positions.Add(bit))
            {
                Report(SchemaDiagnostics.Duplicate, choice, "choice bit", bit.ToString(CultureInfo.InvariantCulture), name);
                ok = false;
                continue;
            }

            choices.Add(new ChoiceModel(choiceName, bit, Attribute(choice, "description"), SinceVersion(choice, name + "." + choiceName)));
        }

        if (!ok)
        {
            return null;
        }

        SetModel model = AddNamedType(new SetModel(Names.Type(name), Attribute(element, "description"), primitive, new EquatableArray<ChoiceModel>(choices)), element);
        return new ResolvedType
        {
            Kind = FieldKind.Set,
            Name = name,
            Primitive = primitive,
            Presence = Presence.Required,
            Description = model.Description,
            SemanticType = Attribute(element, "semanticType"),
            SinceVersion = SinceVersion(element, name),
            Deprecated = OptionalNullableInt(element, "deprecated"),
            Size = Primitives.Size(primitive),
            TypeName = model.Name,
            Element = element,
        };
    }

    private ResolvedType? ResolveComposite(XElement element)
    {
        string name = Attribute(element, "name") ?? string.Empty;
        if (!CheckName(name, element))
        {
            return null;
        }

        var members = new List<FieldModel>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        int running = 0;
        bool ok = true;
        foreach (XElement child in element.Elements())
        {
            string local = child.Name.LocalName;
            string memberName = Attribute(child, "name") ?? string.Empty;
            ResolvedType? type;
            switch (local)
            {
                case "type":
                case "enum":
                case "set":
                case "composite":
                    type = ResolveElement(child);
                    break;
                case "ref":
                    string? typeName = Attribute(child, "type");
                    if (typeName is null)
                    {
                        Report(SchemaDiagnostics.InvalidAttribute, child, $"ref '{memberName}' has no 'type' attribute");
                        type = null;
                    }
                    else
                    {
                        type = CheckName(memberName, child) ? ResolveName(typeName, child, name + "." + memberName) : null;
                    }

                    break;
                default:
                    Report(SchemaDiagnostics.InvalidComposite, child, $"composite '{name}' cannot hold <{local}>");
                    ok = false;
                    continue;
            }

            if (type is null)
            {
                ok = false;
                continue;
            }

            if (!names.Add(Names.Member(memberName)))
            {
                Report(SchemaDiagnostics.Duplicate, child, "member", memberName, name);
                ok = false;
                continue;
            }

            int? explicitOffset = OptionalNullableInt(child, "offset");
            int size = type.Size;
            Presence presence = local == "ref" ? ParsePresence(child, type.Presence) : type.Presence;
            if (presence == Presence.Constant)
            {
                size = 0;
            }

            int offset = running;
            if (explicitOffset is { } explicitValue && presence != Presence.Constant)
            {
                if (explicitValue < running)
                {
                    Report(SchemaDiagnostics.InvalidOffset, child, $"offset {explicitValue} of '{name}.{memberName}' overlaps the previous member, which ends at {running}");
                    ok = false;
                    continue;
                }

                offset = explicitValue;
            }

            int since = Math.Max(type.SinceVersion, local == "ref" ? SinceVersion(child, memberName) : 0);
            FieldModel? member = BuildField(child, memberName, 0, type, offset, presence, local == "ref" ? Attribute(child, "valueRef") : null, since, type.Deprecated, Attribute(child, "description") ?? type.Description, type.SemanticType);
            if (member is null)
            {
                ok = false;
                continue;
            }

            members.Add(member);
            running = offset + size;
        }

        if (!ok)
        {
            return null;
        }

        CompositeModel model = AddNamedType(new CompositeModel(Names.Type(name), Attribute(element, "description"), running, new EquatableArray<FieldModel>(members)), element);
        return new ResolvedType
        {
            Kind = FieldKind.Composite,
            Name = name,
            Presence = Presence.Required,
            Description = model.Description,
            SemanticType = Attribute(element, "semanticType"),
            SinceVersion = SinceVersion(element, name),
            Deprecated = OptionalNullableInt(element, "deprecated"),
            Size = running,
            TypeName = model.Name,
            Composite = model,
            Element = element,
        };
    }

    /// <summary>
    /// Registers a type to generate and returns it, renamed to OwnerName when it is defined inside a
    /// composite and its name is taken by a top-level type or a different nested one.
    /// </summary>
    private T AddNamedType<T>(T model, XElement at)
        where T : NamedTypeModel
    {
        string? owner = at.Parent is { } parent && parent.Name.LocalName == "composite" ? Attribute(parent, "name") : null;
        if (owner is not null
            && (_topLevelNames.Contains(model.Name) || (_namedTypesByName.TryGetValue(model.Name, out NamedTypeModel? taken) && !taken.Equals(model))))
        {
            model = (T)(model with { Name = Names.Type(owner) + model.Name });
        }

        if (_namedTypesByName.TryGetValue(model.Name, out NamedTypeModel? existing))
        {
            if (!existing.Equals(model))
            {
                Report(SchemaDiagnostics.Duplicate, at, "type", model.Name, "types (generated C# type names must be unique)");
            }

            return model;
        }

        _namedTypesByName.Add(model.Name, model);
        _namedTypes.Add(model);
        return model;
    }

    /// <summary>A field or composite member from its resolved type and the attributes at the point of use.</summary>
    private FieldModel? BuildField(
        XElement at, string name, int id, ResolvedType type, int offset, Presence presence, string? valueRef, int sinceVersion, int? deprecated, string? description, string? semanticType)
    {
        PrimitiveKind primitive = type.Primitive;
        SbeValue? constant = null;
        SbeValue? nullValue = null;
        SbeValue? minValue = null;
        SbeValue? maxValue = null;
        valueRef ??= type.ValueRef;

        switch (type.Kind)
        {
            case FieldKind.Primitive:
                nullValue = SchemaValues.ParseOrDefault(primitive, type.NullRaw);
                minValue = SchemaValues.ParseOrDefault(primitive, type.MinRaw, SchemaValues.Bound.Min);
                maxValue = SchemaValues.ParseOrDefault(primitive, type.MaxRaw, SchemaValues.Bound.Max);
                if (presence == Presence.Constant)
                {
                    if (valueRef is not null)
                    {
                        if (ResolveValueRef(valueRef, at, name) is not { } enumValue)
                        {
                            return null;
                        }

                        constant = enumValue;
                    }
                    else if (type.ConstantRaw is { } raw)
                    {
                        if (primitive == PrimitiveKind.Char && type.Length > 1)
                        {
                            constant = new TextValue(raw);
                        }
                        else if (SchemaValues.Parse(primitive, raw) is { } parsed)
                        {
                            constant = parsed;
                        }
                        else
                        {
                            Report(SchemaDiagnostics.InvalidValue, at, $"constant '{raw}' of '{name}' is not a valid {Primitives.SbeName(primitive)}");
                            return null;
                        }
                    }
                    else
                    {
                        Report(SchemaDiagnostics.InvalidValue, at, $"constant '{name}' has no value");
                        return null;
                    }
                }

                break;
            case FieldKind.Enum:
                nullValue = type.Enum!.NullValue;
                if (presence == Presence.Constant)
                {
                    if (valueRef is not null)
                    {
                        if (ResolveValueRef(valueRef, at, name) is not { } enumValue)
                        {
                            return null;
                        }

                        constant = enumValue;
                    }
                    else if (type.ConstantRaw is { Length: > 0 } raw && type.Enum!.Values.FirstOrDefault(v => v.Name == raw) is { } member)
                    {
                        constant = new EnumValueReference(type.Enum.Name, member.Name, member.Value);
                    }
                    else
                    {
                        Report(SchemaDiagnostics.InvalidValue, at, $"constant enum field '{name}' needs a valueRef");
                        return null;
                    }
                }

                break;
            case FieldKind.Set:
            case FieldKind.Composite:
                if (presence == Presence.Constant)
                {
                    Report(SchemaDiagnostics.InvalidAttribute, at, $"'{name}': a {type.Kind.ToString().ToLowerInvariant()} cannot be constant");
                    return null;
                }

                break;
        }

        return new FieldModel(
            name,
            id,
            type.Kind,
            primitive,
            type.Kind == FieldKind.Primitive ? type.Length : 1,
            offset,
            presence == Presence.Constant ? 0 : type.Size,
            presence,
            constant,
            nullValue,
            minValue,
            maxValue,
            type.TypeName,
            type.CharacterEncoding,
            sinceVersion,
            deprecated,
            description,
            semanticType);
    }

    /// <summary>Resolves <c>Enum.Value</c> to that enum value.</summary>
    private EnumValueReference? ResolveValueRef(string valueRef, XElement at, string referencedBy)
    {
        int dot = valueRef.IndexOf('.');
        if (dot <= 0)
        {
            Report(SchemaDiagnostics.InvalidValue, at, $"valueRef '{valueRef}' of '{referencedBy}' is not of the form Enum.Value");
            return null;
        }

        string enumName = valueRef.Substring(0, dot);
        string valueName = valueRef.Substring(dot + 1);
        ResolvedType? type = ResolveName(enumName, at, referencedBy);
        if (type is null)
        {
            return null;
        }

        if (type.Enum is not { } model || model.Values.FirstOrDefault(v => v.Name == valueName) is not { } value)
        {
            Report(SchemaDiagnostics.InvalidValue, at, $"valueRef '{valueRef}' of '{referencedBy}' does not name a value of an enum");
            return null;
        }

        return new EnumValueReference(model.Name, valueName, value.Value);
    }

    // ---------------------------------------------------------------- header, messages, groups, data

    private HeaderModel? ResolveHeader(XElement root, string headerTypeName)
    {
        if (!_typeElements.TryGetValue(headerTypeName, out XElement? element))
        {
            Report(SchemaDiagnostics.UnknownType, root, headerTypeName, "messageSchema headerType");
            return null;
        }

        if (ResolveElement(element) is not { Composite: { } composite })
        {
            if (_resolved.TryGetValue(element, out ResolvedType? r) && r is not null)
            {
                Report(SchemaDiagnostics.InvalidComposite, element, $"header type '{headerTypeName}' is not a composite");
            }

            return null;
        }

        PrimitiveKind? Member(string memberName)
        {
            FieldModel? member = composite.Members.FirstOrDefault(m => m.Name == memberName);
            return member is { Kind: FieldKind.Primitive, Length: 1 } && member.Primitive is not (PrimitiveKind.Float or PrimitiveKind.Double or PrimitiveKind.Char)
                ? member.Primitive
                : null;
        }

        PrimitiveKind? blockLength = Member("blockLength");
        PrimitiveKind? templateId = Member("templateId");
        PrimitiveKind? schemaId = Member("schemaId");
        PrimitiveKind? version = Member("version");
        if (blockLength is null || templateId is null || schemaId is null || version is null)
        {
            Report(SchemaDiagnostics.InvalidComposite, element, $"header type '{headerTypeName}' needs integer members blockLength, templateId, schemaId and version");
            return null;
        }

        return new HeaderModel(composite.Name, composite.Size, blockLength.Value, templateId.Value, schemaId.Value, version.Value);
    }

    private MessageModel? ParseMessage(XElement element, HeaderModel? header)
    {
        string name = Attribute(element, "name") ?? string.Empty;
        if (!CheckName(name, element))
        {
            return null;
        }

        int id = RequiredInt(element, "id", name);
        int since = SinceVersion(element, name);
        if (!ParseBody(element, name, out var fields, out var groups, out var data, out int computed))
        {
            return null;
        }

        int blockLength = BlockLength(element, name, computed);
        if (header is not null)
        {
            CheckFits(element, header.TemplateId, id, $"template id of '{name}'");
            CheckFits(element, header.BlockLength, blockLength, $"block length of '{name}'");
        }

        return new MessageModel(
            name,
            id,
            blockLength,
            since,
            OptionalNullableInt(element, "deprecated"),
            Attribute(element, "description"),
            Attribute(element, "semanticType"),
            fields,
            groups,
            data);
    }

    private int BlockLength(XElement element, string name, int computed)
    {
        int? declared = OptionalNullableInt(element, "blockLength");
        if (declared is { } value && value < computed)
        {
            Report(SchemaDiagnostics.InvalidOffset, element, $"blockLength {value} of '{name}' is less than its fields' size {computed}");
        }

        return Math.Max(declared ?? computed, computed);
    }

    private void CheckFits(XElement at, PrimitiveKind primitive, long value, string what)
    {
        if (value > Primitives.MaxUnsigned(primitive))
        {
            Report(SchemaDiagnostics.InvalidValue, at, $"{what} ({value}) does not fit the header's {Primitives.SbeName(primitive)}");
        }
    }

    private bool ParseBody(
        XElement element,
        string owner,
        out EquatableArray<FieldModel> fields,
        out EquatableArray<GroupModel> groups,
        out EquatableArray<DataModel> data,
        out int blockLength)
    {
        var fieldList = new List<FieldModel>();
        var groupList = new List<GroupModel>();
        var dataList = new List<DataModel>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        int running = 0;
        int stage = 0;
        bool ok = true;
        foreach (XElement child in element.Elements())
        {
            string local = child.Name.LocalName;
            string name = Attribute(child, "name") ?? string.Empty;
            if (local is not ("field" or "group" or "data"))
            {
                Report(SchemaDiagnostics.InvalidComposite, child, $"'{owner}' cannot hold <{local}>");
                ok = false;
                continue;
            }

            if (!CheckName(name, child))
            {
                ok = false;
                continue;
            }

            if (!names.Add(Names.Member(name)))
            {
                Report(SchemaDiagnostics.Duplicate, child, local, name, owner);
                ok = false;
                continue;
            }

            int stageOfChild = local == "field" ? 0 : local == "group" ? 1 : 2;
            if (stageOfChild < stage)
            {
                Report(SchemaDiagnostics.InvalidOrder, child, name, owner);
                ok = false;
                continue;
            }

            stage = stageOfChild;
            int id = RequiredInt(child, "id", name);
            switch (local)
            {
                case "field":
                    string? typeName = Attribute(child, "type");
                    if (typeName is null)
                    {
                        Report(SchemaDiagnostics.InvalidAttribute, child, $"field '{name}' has no 'type' attribute");
                        ok = false;
                        continue;
                    }

                    ResolvedType? type = ResolveName(typeName, child, owner + "." + name);
                    if (type is null)
                    {
                        ok = false;
                        continue;
                    }

                    Presence presence = ParsePresence(child, type.Presence);
                    int size = presence == Presence.Constant ? 0 : type.Size;
                    int offset = running;
                    if (OptionalNullableInt(child, "offset") is { } explicitOffset && presence != Presence.Constant)
                    {
                        if (explicitOffset < running)
                        {
                            Report(SchemaDiagnostics.InvalidOffset, child, $"offset {explicitOffset} of '{owner}.{name}' overlaps the previous field, which ends at {running}");
                            ok = false;
                            continue;
                        }

                        offset = explicitOffset;
                    }

                    int since = Math.Max(SinceVersion(child, name), type.SinceVersion);
                    FieldModel? field = BuildField(
                        child, name, id, type, offset, presence, Attribute(child, "valueRef"), since,
                        OptionalNullableInt(child, "deprecated") ?? type.Deprecated, Attribute(child, "description") ?? type.Description, Attribute(child, "semanticType") ?? type.SemanticType);
                    if (field is null)
                    {
                        ok = false;
                        continue;
                    }

                    fieldList.Add(field);
                    running = offset + size;
                    break;
                case "group":
                    GroupModel? group = ParseGroup(child, name, id);
                    if (group is null)
                    {
                        ok = false;
                        continue;
                    }

                    groupList.Add(group);
                    break;
                default:
                    DataModel? dataModel = ParseData(child, name, id);
                    if (dataModel is null)
                    {
                        ok = false;
                        continue;
                    }

                    dataList.Add(dataModel);
                    break;
            }
        }

        fields = new EquatableArray<FieldModel>(fieldList);
        groups = new EquatableArray<GroupModel>(groupList);
        data = new EquatableArray<DataModel>(dataList);
        blockLength = running;
        return ok;
    }

    private GroupModel? ParseGroup(XElement element, string name, int id)
    {
        string dimensionName = Attribute(element, "dimensionType") ?? "groupSizeEncoding";
        ResolvedType? dimensionType = ResolveName(dimensionName, element, name);
        if (dimensionType is null)
        {
            return null;
        }

        FieldModel? blockLengthMember = dimensionType.Composite?.Members.FirstOrDefault(m => m.Name == "blockLength");
        FieldModel? countMember = dimensionType.Composite?.Members.FirstOrDefault(m => m.Name == "numInGroup");
        if (dimensionType.Composite is null || !IsUnsignedScalar(blockLengthMember) || !IsUnsignedScalar(countMember))
        {
            Report(SchemaDiagnostics.InvalidComposite, element, $"dimensionType '{dimensionName}' of group '{name}' must be a composite with unsigned integer members blockLength and numInGroup");
            return null;
        }

        int since = SinceVersion(element, name);
        if (!ParseBody(element, name, out var fields, out var groups, out var data, out int computed))
        {
            return null;
        }

        int blockLength = BlockLength(element, name, computed);
        var dimension = new DimensionModel(
            dimensionType.Composite.Name,
            dimensionType.Composite.Size,
            blockLengthMember!.Offset,
            blockLengthMember.Primitive,
            countMember!.Offset,
            countMember.Primitive,
            MaxOf(countMember));
        CheckFits(element, blockLengthMember.Primitive, blockLength, $"block length of group '{name}'");
        return new GroupModel(name, id, blockLength, dimension, since, OptionalNullableInt(element, "deprecated"), Attribute(element, "description"), fields, groups, data);
    }

    /// <summary>The maxValue of an unsigned integer member (see <see cref="IsUnsignedScalar"/>).</summary>
    private static ulong MaxOf(FieldModel member) => member.MaxValue is UnsignedValue max ? max.Value : 0;

    private static bool IsUnsignedScalar(FieldModel? member)
        => member is { Kind: FieldKind.Primitive, Length: 1, Presence: not Presence.Constant }
            && member.Primitive is PrimitiveKind.UInt8 or PrimitiveKind.UInt16 or PrimitiveKind.UInt32 or PrimitiveKind.UInt64;

    private DataModel? ParseData(XElement element, string name, int id)
    {
        string? typeName = Attribute(element, "type");
        if (typeName is null)
        {
            Report(SchemaDiagnostics.InvalidAttribute, element, $"data '{name}' has no 'type' attribute");
            return null;
        }

        ResolvedType? type = ResolveName(typeName, element, name);
        if (type is null)
        {
            return null;
        }

        FieldModel? length = type.Composite?.Members.FirstOrDefault(m => m.Name == "length");
        FieldModel? varData = type.Composite?.Members.FirstOrDefault(m => m.Name == "varData");
        if (type.Composite is null || !IsUnsignedScalar(length) || varData is not { Kind: FieldKind.Primitive } || varData.Primitive is not (PrimitiveKind.UInt8 or PrimitiveKind.Char))
        {
            Report(SchemaDiagnostics.InvalidComposite, element, $"type '{typeName}' of data '{name}' must be a composite with an unsigned integer 'length' and a uint8 or char 'varData'");
            return null;
        }

        if (length!.Primitive == PrimitiveKind.UInt64)
        {
            Report(SchemaDiagnostics.InvalidComposite, element, $"type '{typeName}' of data '{name}': a uint64 length is not supported");
            return null;
        }

        return new DataModel(
            name,
            id,
            type.Composite.Name,
            length.Offset,
            length.Primitive,
            varData.Offset,
            MaxOf(length),
            varData.CharacterEncoding,
            Math.Max(SinceVersion(element, name), type.SinceVersion),
            OptionalNullableInt(element, "deprecated"),
            Attribute(element, "description"));
    }

    // ---------------------------------------------------------------- attributes

    private static string? Attribute(XElement element, string name)
    {
        XAttribute? attribute = element.Attribute(name);
        if (attribute is null)
        {
            foreach (XAttribute candidate in element.Attributes())
            {
                if (candidate.Name.LocalName == name)
                {
                    attribute = candidate;
                    break;
                }
            }
        }

        return attribute?.Value.Trim();
    }

    private int RequiredInt(XElement element, string attribute, string owner)
    {
        string? raw = Attribute(element, attribute);
        if (raw is null || !int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value))
        {
            Report(SchemaDiagnostics.InvalidAttribute, element, raw is null ? $"'{owner}' has no '{attribute}' attribute" : $"'{attribute}' of '{owner}' is not an integer: '{raw}'");
            return 0;
        }

        return value;
    }

    private int OptionalInt(XElement element, string attribute, int defaultValue) => OptionalNullableInt(element, attribute) ?? defaultValue;

    private int? OptionalNullableInt(XElement element, string attribute)
    {
        string? raw = Attribute(element, attribute);
        if (raw is null)
        {
            return null;
        }

        if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < 0)
        {
            Report(attribute is "offset" or "blockLength" ? SchemaDiagnostics.InvalidOffset : SchemaDiagnostics.InvalidAttribute, element, $"'{attribute}' is not a non-negative integer: '{raw}'");
            return null;
        }

        return value;
    }

    private int SinceVersion(XElement element, string owner)
    {
        int since = OptionalInt(element, "sinceVersion", 0);
        if (since > _schemaVersion)
        {
            Report(SchemaDiagnostics.InvalidSinceVersion, element, owner, since.ToString(CultureInfo.InvariantCulture), _schemaVersion.ToString(CultureInfo.InvariantCulture));
        }

        return since;
    }

    private Presence ParsePresence(XElement element, Presence defaultPresence = Presence.Required)
    {
        switch (Attribute(element, "presence"))
        {
            case null:
                return defaultPresence;
            case "required":
                return Presence.Required;
            case "optional":
                return Presence.Optional;
            case "constant":
                return Presence.Constant;
            case var other:
                Report(SchemaDiagnostics.InvalidAttribute, element, $"presence '{other}' is not required, optional or constant");
                return defaultPresence;
        }
    }

    private bool CheckName(string name, XElement element)
    {
        if (Names.IsValidSbeName(name))
        {
            return true;
        }

        Report(SchemaDiagnostics.InvalidName, element, name);
        return false;
    }

    // ---------------------------------------------------------------- diagnostics

    private void Report(SchemaDiagnostic kind, XObject at, params string[] arguments)
    {
        string path = _file.Path;
        LineMap? text = null;
        if (at.Document is { } document && _documents.TryGetValue(document, out var source))
        {
            path = source.Path;
            text = source.Lines;
        }

        int line = 0;
        int column = 0;
        int length = 0;
        if (at is IXmlLineInfo info && info.HasLineInfo())
        {
            line = info.LineNumber;
            column = info.LinePosition;
            length = at switch
            {
                XElement e => e.Name.LocalName.Length + (e.GetPrefixOfNamespace(e.Name.Namespace) is { Length: > 0 } prefix ? prefix.Length + 1 : 0),
                XAttribute a => a.Name.LocalName.Length,
                _ => 1,
            };
        }

        ReportAt(kind, path, text, line, column, length, arguments);
    }

    private void ReportAt(SchemaDiagnostic kind, string path, LineMap? text, int line, int column, int length, params string[] arguments)
    {
        // XML line info is 1-based; Roslyn positions are 0-based.
        int zeroLine = Math.Max(0, line - 1);
        int zeroColumn = Math.Max(0, column - 1);
        int start = 0;
        if (text is not null && zeroLine < text.Count)
        {
            (int lineStart, int lineEnd) = text.Line(zeroLine);
            start = Math.Min(lineStart + zeroColumn, lineEnd);
            length = Math.Min(length, lineEnd - start);
        }
        else
        {
            length = 0;
        }

        _diagnostics.Add(new DiagnosticInfo(kind.Id, kind.Severity, path, start, length, zeroLine, zeroColumn, zeroColumn + length, new EquatableArray<string>(arguments)));
    }

    /// <summary>
    /// Where each line of a text starts and ends (its line break excluded), with the line breaks Roslyn's
    /// <c>SourceText</c> knows (CR LF, CR, LF, NEL, LS, PS), so diagnostic positions are those the compiler shows.
    /// </summary>
    private sealed class LineMap
    {
        private readonly List<int> _starts = [0];
        private readonly List<int> _ends = [];

        public LineMap(string text)
        {
            for (int i = 0; i < text.Length; i++)
            {
                char c = text[i];
                if (c is not ('\r' or '\n' or '\u0085' or '\u2028' or '\u2029'))
                {
                    continue;
                }

                _ends.Add(i);
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
                {
                    i++;
                }

                _starts.Add(i + 1);
            }

            _ends.Add(text.Length);
        }

        public int Count => _starts.Count;

        public (int Start, int End) Line(int index) => (_starts[index], _ends[index]);
    }
}
