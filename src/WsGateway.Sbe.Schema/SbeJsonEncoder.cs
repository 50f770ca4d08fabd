using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using WsGateway.Sbe.Schema.Model;

namespace WsGateway.Sbe.Schema;

/// <summary>
/// Encodes JSON to SBE messages of an <see cref="SbeSchema"/>, without generated code: the inverse of
/// <see cref="SbeJsonDecoder"/>. What the decoder writes, this encoder reads back to the same bytes, so a message
/// decoded and encoded again is the message it was (padding between fields, which JSON does not carry, is written as
/// zeros).
/// </summary>
/// <remarks>
/// <para>Input: one JSON object per message. <c>"$message"</c> names the message. <c>"$header"</c> is optional: its
/// <c>blockLength</c> (the acting block length; the schema's when absent), <c>templateId</c> and <c>schemaId</c> (when
/// given, the message's and the schema's), <c>version</c> (the acting version; the schema's when absent) and any other
/// member of the schema's header composite. Then each field, group and var data under its schema name:</para>
/// <list type="bullet">
/// <item>integers as JSON numbers in the type's range; chars and char arrays as strings (a char array is padded with
/// NUL bytes); float and double as numbers, or <c>"Infinity"</c>, <c>"-Infinity"</c>, <c>"NaN"</c>;</item>
/// <item>enums as a value's name or its number; sets as an array of choice names; composites as objects; constant
/// fields may be left out (given, they must be the constant);</item>
/// <item><c>null</c>, or leaving a field out, means its null value: allowed for optional fields (a float or double
/// with no null value in the schema is written as NaN), for enums (the enum's null value), for fields newer than the
/// acting version or beyond the acting block length (not written); a required field that is left out is an
/// error;</item>
/// <item>groups as arrays of objects (left out or <c>null</c>: no entries); var data as strings when the type has a
/// <c>characterEncoding</c>, base64 otherwise (left out or <c>null</c>: empty).</item>
/// </list>
/// <para>Every value is checked against its type, and an error names the message, the path to the value and what was
/// expected: <c>Order.price: expected a number, got "abc"</c>. A property the schema does not define is an error (a
/// typo would otherwise be a silent null). Byte order is the schema's <c>byteOrder</c>; a NaN is written as the quiet
/// NaN that sbe-tool's encoders write (0x7FF8000000000000, 0x7FC00000).</para>
/// </remarks>
public sealed class SbeJsonEncoder
{
    private const string MessageProperty = "$message";
    private const string HeaderProperty = "$header";
    private const int MaxShownValue = 40;

    private static readonly JsonSerializerOptions s_quoting = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly SbeSchema _schema;
    private readonly bool _bigEndian;
    private readonly Dictionary<string, MessageModel> _messagesByName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, decimal>> _enumValues = new(StringComparer.Ordinal);

    /// <summary>Creates an encoder for the messages of <paramref name="schema"/>.</summary>
    /// <param name="schema">The schema.</param>
    public SbeJsonEncoder(SbeSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        _schema = schema;
        _bigEndian = schema.IsBigEndian;
        foreach (MessageModel message in schema.Model.Messages)
        {
            _messagesByName.TryAdd(message.Name, message);
        }

        foreach (NamedTypeModel type in schema.Model.Types)
        {
            if (type is EnumModel model)
            {
                var values = new Dictionary<string, decimal>(StringComparer.Ordinal);
                foreach (EnumValueModel value in model.Values)
                {
                    values.TryAdd(value.Name, Integer(value.Value));
                }

                _enumValues[model.Name] = values;
            }
        }
    }

    /// <summary>The schema this encoder writes.</summary>
    public SbeSchema Schema => _schema;

    /// <summary>Encodes one message given as UTF-8 JSON text (an object) and appends it to <paramref name="output"/>.
    /// Nothing is appended when encoding fails.</summary>
    /// <param name="json">One JSON object, as <see cref="SbeJsonDecoder"/> writes it.</param>
    /// <param name="output">Where the message goes: header, block, groups, var data.</param>
    /// <param name="error">Why the JSON could not be encoded, naming the message, the field and what was expected; null on success.</param>
    /// <returns>True when the message was encoded.</returns>
    public bool TryEncode(ReadOnlySpan<byte> json, IBufferWriter<byte> output, out string? error)
    {
        ArgumentNullException.ThrowIfNull(output);
        JsonDocument document;
        try
        {
            // One value and nothing after it but white space (a second value is an error of the reader).
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            document = JsonDocument.ParseValue(ref reader);
            try
            {
                _ = reader.Read();
            }
            catch (JsonException)
            {
                document.Dispose();
                throw;
            }
        }
        catch (JsonException e)
        {
            error = $"not JSON: {e.Message}";
            return false;
        }

        using (document)
        {
            return TryEncode(document.RootElement, output, out error);
        }
    }

    /// <summary>Encodes one message given as a JSON object and appends it to <paramref name="output"/>. Nothing is
    /// appended when encoding fails.</summary>
    /// <param name="json">The message, as <see cref="SbeJsonDecoder"/> writes it.</param>
    /// <param name="output">Where the message goes: header, block, groups, var data.</param>
    /// <param name="error">Why the JSON could not be encoded, naming the message, the field and what was expected; null on success.</param>
    /// <returns>True when the message was encoded.</returns>
    public bool TryEncode(JsonElement json, IBufferWriter<byte> output, out string? error)
    {
        ArgumentNullException.ThrowIfNull(output);
        var buffer = new ArrayBufferWriter<byte>(256);
        try
        {
            WriteMessage(json, buffer);
        }
        catch (EncodeFailure failure)
        {
            error = failure.Message;
            return false;
        }

        output.Write(buffer.WrittenSpan);
        error = null;
        return true;
    }

    /// <summary>Encodes one message given as JSON text.</summary>
    /// <param name="json">One JSON object, as <see cref="SbeJsonDecoder"/> writes it.</param>
    /// <param name="message">The encoded message; empty when encoding fails.</param>
    /// <param name="error">Why the JSON could not be encoded; null on success.</param>
    /// <returns>True when the message was encoded.</returns>
    public bool TryEncode(string json, out byte[] message, out string? error)
    {
        ArgumentNullException.ThrowIfNull(json);
        var buffer = new ArrayBufferWriter<byte>(256);
        bool ok = TryEncode(Encoding.UTF8.GetBytes(json), buffer, out error);
        message = ok ? buffer.WrittenSpan.ToArray() : [];
        return ok;
    }

    // ---------------------------------------------------------------- message

    private void WriteMessage(JsonElement json, ArrayBufferWriter<byte> output)
    {
        if (json.ValueKind != JsonValueKind.Object)
        {
            throw Fail($"expected a JSON object with \"{MessageProperty}\" (the message name), got {Show(json)}");
        }

        if (!json.TryGetProperty(MessageProperty, out JsonElement name) || name.ValueKind != JsonValueKind.String)
        {
            throw Fail($"expected \"{MessageProperty}\": the message name, one of {DescribeMessages()}");
        }

        string messageName = name.GetString()!;
        if (!_messagesByName.TryGetValue(messageName, out MessageModel? message))
        {
            throw Fail($"{MessageProperty}: no message {Quote(messageName)} in schema {_schema.Package} (id {_schema.Id}); it has {DescribeMessages()}");
        }

        Dictionary<string, JsonElement> properties = Properties(json, message.Name, message.Fields, message.Groups, message.Data, allowHeader: true);
        properties.TryGetValue(HeaderProperty, out JsonElement header);
        string headerPath = message.Name + "." + HeaderProperty;
        Dictionary<string, JsonElement> headerValues = header.ValueKind switch
        {
            JsonValueKind.Undefined or JsonValueKind.Null => new Dictionary<string, JsonElement>(StringComparer.Ordinal),
            JsonValueKind.Object => Properties(header, headerPath, _schema.HeaderComposite.Members, default, default, allowHeader: false),
            _ => throw Fail($"{headerPath}: expected an object ({DescribeNames(_schema.HeaderComposite.Members)}), got {Show(header)}"),
        };

        CompositeModel headerType = _schema.HeaderComposite;
        decimal blockLength = HeaderValue(headerValues, headerType, "blockLength", headerPath, message.BlockLength);
        decimal templateId = HeaderValue(headerValues, headerType, "templateId", headerPath, message.Id);
        decimal schemaId = HeaderValue(headerValues, headerType, "schemaId", headerPath, _schema.Id);
        decimal version = HeaderValue(headerValues, headerType, "version", headerPath, _schema.Version);
        if (templateId != message.Id)
        {
            throw Fail($"{headerPath}.templateId: {message.Name} has template id {message.Id}, got {templateId}");
        }

        if (schemaId != _schema.Id)
        {
            throw Fail($"{headerPath}.schemaId: the schema's id is {_schema.Id} (package {_schema.Package}), got {schemaId}");
        }

        int actingVersion = version > int.MaxValue ? int.MaxValue : (int)version;
        int headerSize = _schema.HeaderSize;
        int block = (int)blockLength;
        Span<byte> span = output.GetSpan(headerSize + block).Slice(0, headerSize + block);
        span.Clear();

        // The header: the four standard members as computed, any other member as given (or its null value).
        foreach (FieldModel member in headerType.Members)
        {
            if (member.Presence == Presence.Constant)
            {
                continue; // not on the wire
            }

            Span<byte> at = span.Slice(member.Offset, member.Size);
            switch (member.Name)
            {
                case "blockLength":
                    WriteInteger(at, member.Primitive, blockLength);
                    break;
                case "templateId":
                    WriteInteger(at, member.Primitive, templateId);
                    break;
                case "schemaId":
                    WriteInteger(at, member.Primitive, schemaId);
                    break;
                case "version":
                    WriteInteger(at, member.Primitive, version);
                    break;
                default:
                    WriteField(member, Lookup(headerValues, member.Name), span.Slice(0, headerSize), int.MaxValue, headerPath + "." + member.Name, lenient: true);
                    break;
            }
        }

        WriteFields(message.Fields, properties, span.Slice(headerSize, block), actingVersion, message.Name);
        output.Advance(headerSize + block);
        WriteGroups(message.Groups, properties, output, actingVersion, message.Name);
        WriteData(message.Data, properties, output, actingVersion, message.Name);
    }

    /// <summary>A standard member of the header: given (checked against its type) or <paramref name="fallback"/>.</summary>
    private decimal HeaderValue(Dictionary<string, JsonElement> values, CompositeModel header, string name, string path, decimal fallback)
    {
        FieldModel member = header.Members.First(m => m.Name == name);
        if (!values.TryGetValue(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }

        return IntegerValue(value, member.Primitive, path + "." + name);
    }

    private string DescribeMessages()
    {
        IReadOnlyList<SbeMessageInfo> messages = _schema.Messages;
        const int Max = 20;
        string list = string.Join(", ", messages.Take(Max).Select(m => m.Name));
        return messages.Count == 0 ? "no messages" : messages.Count > Max ? $"{list}, ... ({messages.Count} messages)" : list;
    }

    /// <summary>The properties of an object, checked: no name twice, none the schema does not define here.</summary>
    private static Dictionary<string, JsonElement> Properties(
        JsonElement json,
        string path,
        EquatableArray<FieldModel> fields,
        EquatableArray<GroupModel> groups,
        EquatableArray<DataModel> data,
        bool allowHeader)
    {
        var properties = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (JsonProperty property in json.EnumerateObject())
        {
            string name = property.Name;
            bool known = (allowHeader && name is MessageProperty or HeaderProperty)
                || fields.Any(f => f.Name == name) || groups.Any(g => g.Name == name) || data.Any(d => d.Name == name);
            if (!known)
            {
                throw Fail($"{path}.{name}: no such field; {path} has {DescribeNames(fields, groups, data)}");
            }

            if (!properties.TryAdd(name, property.Value))
            {
                throw Fail($"{path}.{name}: given twice");
            }
        }

        return properties;
    }

    private static string DescribeNames(EquatableArray<FieldModel> fields, EquatableArray<GroupModel> groups = default, EquatableArray<DataModel> data = default)
    {
        IEnumerable<string> names = fields.Select(f => f.Name).Concat(groups.Select(g => g.Name)).Concat(data.Select(d => d.Name));
        string list = string.Join(", ", names);
        return list.Length == 0 ? "nothing" : list;
    }

    private static JsonElement Lookup(Dictionary<string, JsonElement> properties, string name)
        => properties.TryGetValue(name, out JsonElement value) ? value : default;

    // ---------------------------------------------------------------- groups and var data

    private void WriteGroups(EquatableArray<GroupModel> groups, Dictionary<string, JsonElement> properties, ArrayBufferWriter<byte> output, int version, string owner)
    {
        foreach (GroupModel group in groups)
        {
            string path = owner + "." + group.Name;
            JsonElement value = Lookup(properties, group.Name);
            if (group.SinceVersion > version)
            {
                if (value.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null) && !(value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 0))
                {
                    throw Fail($"{path}: the group is since version {group.SinceVersion}, the message's version is {version}; expected null");
                }

                continue; // not on the wire of this version
            }

            int count = value.ValueKind switch
            {
                JsonValueKind.Undefined or JsonValueKind.Null => 0,
                JsonValueKind.Array => value.GetArrayLength(),
                _ => throw Fail($"{path}: expected an array of entries (a group), got {Show(value)}"),
            };

            DimensionModel dimension = group.Dimension;
            decimal max = Math.Min(Primitives.MaxInteger(dimension.NumInGroupPrimitive), dimension.NumInGroupMax);
            if (count > max)
            {
                throw Fail($"{path}: {count} entries; the group's {dimension.TypeName} holds at most {max}");
            }

            if (group.BlockLength > Primitives.MaxInteger(dimension.BlockLengthPrimitive))
            {
                throw Fail($"{path}: the block length {group.BlockLength} does not fit the group's {dimension.TypeName}");
            }

            Span<byte> header = output.GetSpan(dimension.Size).Slice(0, dimension.Size);
            header.Clear();
            WriteInteger(header.Slice(dimension.BlockLengthOffset), dimension.BlockLengthPrimitive, group.BlockLength);
            WriteInteger(header.Slice(dimension.NumInGroupOffset), dimension.NumInGroupPrimitive, count);
            output.Advance(dimension.Size);

            for (int i = 0; i < count; i++)
            {
                JsonElement entry = value[i];
                string entryPath = string.Create(CultureInfo.InvariantCulture, $"{path}[{i}]");
                if (entry.ValueKind != JsonValueKind.Object)
                {
                    throw Fail($"{entryPath}: expected an object (an entry of {group.Name}), got {Show(entry)}");
                }

                Dictionary<string, JsonElement> entryProperties = Properties(entry, entryPath, group.Fields, group.Groups, group.Data, allowHeader: false);
                Span<byte> block = output.GetSpan(group.BlockLength).Slice(0, group.BlockLength);
                block.Clear();
                WriteFields(group.Fields, entryProperties, block, version, entryPath);
                output.Advance(group.BlockLength);
                WriteGroups(group.Groups, entryProperties, output, version, entryPath);
                WriteData(group.Data, entryProperties, output, version, entryPath);
            }
        }
    }

    private void WriteData(EquatableArray<DataModel> data, Dictionary<string, JsonElement> properties, ArrayBufferWriter<byte> output, int version, string owner)
    {
        foreach (DataModel field in data)
        {
            string path = owner + "." + field.Name;
            JsonElement value = Lookup(properties, field.Name);
            if (field.SinceVersion > version)
            {
                if (value.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null))
                {
                    throw Fail($"{path}: the var data is since version {field.SinceVersion}, the message's version is {version}; expected null");
                }

                continue;
            }

            byte[] bytes;
            switch (value.ValueKind)
            {
                case JsonValueKind.Undefined:
                case JsonValueKind.Null:
                    bytes = [];
                    break;
                case JsonValueKind.String when field.CharacterEncoding is { } encoding:
                    bytes = TextBytes(encoding, value.GetString()!, path);
                    break;
                case JsonValueKind.String:
                    if (!value.TryGetBytesFromBase64(out byte[]? decoded))
                    {
                        throw Fail($"{path}: expected base64 (the var data has no characterEncoding), got {Show(value)}");
                    }

                    bytes = decoded;
                    break;
                default:
                    throw Fail(field.CharacterEncoding is null
                        ? $"{path}: expected a base64 string (the var data has no characterEncoding), got {Show(value)}"
                        : $"{path}: expected a string, got {Show(value)}");
            }

            decimal max = Math.Min(Primitives.MaxInteger(field.LengthPrimitive), field.LengthMax);
            if (bytes.Length > max)
            {
                throw Fail($"{path}: {bytes.Length} bytes; the var data holds at most {max}");
            }

            Span<byte> span = output.GetSpan(field.HeaderSize + bytes.Length).Slice(0, field.HeaderSize + bytes.Length);
            span.Slice(0, field.HeaderSize).Clear();
            WriteInteger(span.Slice(field.LengthOffset), field.LengthPrimitive, bytes.Length);
            bytes.CopyTo(span.Slice(field.HeaderSize));
            output.Advance(span.Length);
        }
    }

    // ---------------------------------------------------------------- fixed-size fields

    private void WriteFields(EquatableArray<FieldModel> fields, Dictionary<string, JsonElement> properties, Span<byte> block, int version, string owner)
    {
        foreach (FieldModel field in fields)
        {
            WriteField(field, Lookup(properties, field.Name), block, version, owner + "." + field.Name, lenient: false);
        }
    }

    /// <summary>One field into <paramref name="block"/> at its offset. <paramref name="value"/> is undefined when the
    /// property is absent. <paramref name="lenient"/>: a required field left out is written as zeros (header members
    /// besides the standard four).</summary>
    private void WriteField(FieldModel field, JsonElement value, Span<byte> block, int version, string path, bool lenient)
    {
        bool absent = value.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null;
        if (field.SinceVersion > version)
        {
            if (!absent)
            {
                throw Fail($"{path}: the field is since version {field.SinceVersion}, the message's version is {version}; expected null");
            }

            return; // newer than the message: not on its wire
        }

        if (field.Presence == Presence.Constant)
        {
            if (value.ValueKind != JsonValueKind.Undefined && !ConstantMatches(field, value, out string constant))
            {
                throw Fail($"{path}: the field is the constant {constant}, got {Show(value)}");
            }

            return;
        }

        if (field.Offset + field.Size > block.Length)
        {
            if (!absent)
            {
                throw Fail($"{path}: the block length {block.Length} ends before the field (offset {field.Offset}, {field.Size} bytes); expected null, or a larger $header.blockLength");
            }

            return; // beyond the acting block length
        }

        if (absent && lenient && field.Presence != Presence.Optional)
        {
            return; // zeros
        }

        Span<byte> data = block.Slice(field.Offset, field.Size);
        switch (field.Kind)
        {
            case FieldKind.Composite:
                WriteComposite(field, value, data, version, path);
                break;
            case FieldKind.Enum:
                WriteEnum(field, value, data, path);
                break;
            case FieldKind.Set:
                WriteSet(field, value, data, path);
                break;
            default:
                WritePrimitive(field, value, data, path);
                break;
        }
    }

    private void WriteComposite(FieldModel field, JsonElement value, Span<byte> data, int version, string path)
    {
        CompositeModel composite = _schema.Type<CompositeModel>(field.TypeName);
        Dictionary<string, JsonElement> members = value.ValueKind switch
        {
            JsonValueKind.Undefined or JsonValueKind.Null => new Dictionary<string, JsonElement>(StringComparer.Ordinal),
            JsonValueKind.Object => Properties(value, path, composite.Members, default, default, allowHeader: false),
            _ => throw Fail($"{path}: expected an object ({composite.Name}: {DescribeNames(composite.Members)}), got {Show(value)}"),
        };
        foreach (FieldModel member in composite.Members)
        {
            WriteField(member, Lookup(members, member.Name), data, version, path + "." + member.Name, lenient: false);
        }
    }

    private void WriteEnum(FieldModel field, JsonElement value, Span<byte> data, string path)
    {
        EnumModel model = _schema.Type<EnumModel>(field.TypeName);
        Dictionary<string, decimal> values = _enumValues[model.Name];
        decimal number;
        switch (value.ValueKind)
        {
            case JsonValueKind.Undefined:
            case JsonValueKind.Null:
                number = Integer(model.NullValue);
                break;
            case JsonValueKind.String when values.TryGetValue(value.GetString()!, out decimal named):
                number = named;
                break;
            case JsonValueKind.Number:
                number = IntegerValue(value, model.Encoding, path);
                break;
            default:
                throw Fail($"{path}: expected a value of {model.Name} ({string.Join(", ", values.Keys)}) or null, got {Show(value)}");
        }

        WriteInteger(data, model.Encoding, number);
    }

    private void WriteSet(FieldModel field, JsonElement value, Span<byte> data, string path)
    {
        SetModel model = _schema.Type<SetModel>(field.TypeName);
        if (value.ValueKind == JsonValueKind.Undefined)
        {
            throw Fail($"{path}: missing; expected an array of {model.Name}'s choices ({DescribeChoices(model)}), [] for none");
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw Fail($"{path}: expected an array of {model.Name}'s choices ({DescribeChoices(model)}), got {Show(value)}");
        }

        ulong bits = 0;
        foreach (JsonElement item in value.EnumerateArray())
        {
            ChoiceModel? choice = item.ValueKind == JsonValueKind.String ? model.Choices.FirstOrDefault(c => c.Name == item.GetString()) : null;
            if (choice is null)
            {
                throw Fail($"{path}: expected a choice of {model.Name} ({DescribeChoices(model)}), got {Show(item)}");
            }

            bits |= 1UL << choice.Bit;
        }

        WriteInteger(data, model.Encoding, bits);
    }

    private static string DescribeChoices(SetModel model) => string.Join(", ", model.Choices.Select(c => c.Name));

    private void WritePrimitive(FieldModel field, JsonElement value, Span<byte> data, string path)
    {
        PrimitiveKind kind = field.Primitive;
        bool optional = field.Presence == Presence.Optional;
        if (kind == PrimitiveKind.Char && field.Length != 1)
        {
            if (value.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
            {
                if (!optional)
                {
                    throw Fail($"{path}: {Missing(value)}; expected a string of at most {field.Length} bytes");
                }

                return; // all NUL: the optional char array's null
            }

            if (value.ValueKind != JsonValueKind.String)
            {
                throw Fail($"{path}: expected a string of at most {field.Length} bytes, got {Show(value)}");
            }

            byte[] text = TextBytes(field.CharacterEncoding, value.GetString()!, path);
            if (text.Length > field.Length)
            {
                throw Fail($"{path}: expected a string of at most {field.Length} bytes, got {text.Length} bytes: {Show(value)}");
            }

            text.CopyTo(data);
            return;
        }

        SbeValue? nullValue = optional ? field.NullValue : null;
        if (field.Length == 1)
        {
            WriteScalar(kind, value, data, nullValue, path);
            return;
        }

        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() != field.Length)
        {
            throw Fail($"{path}: expected an array of {field.Length} {Primitives.SbeName(kind)} values, got {Show(value)}");
        }

        int size = Primitives.Size(kind);
        for (int i = 0; i < field.Length; i++)
        {
            WriteScalar(kind, value[i], data.Slice(i * size, size), nullValue, string.Create(CultureInfo.InvariantCulture, $"{path}[{i}]"));
        }
    }

    /// <summary>One primitive value; null (or absent) only when <paramref name="nullValue"/> is given (optional fields),
    /// or for a float or double (NaN, which the decoder writes as null).</summary>
    private void WriteScalar(PrimitiveKind kind, JsonElement value, Span<byte> data, SbeValue? nullValue, string path)
    {
        bool absent = value.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null;
        if (kind is PrimitiveKind.Float or PrimitiveKind.Double)
        {
            double number;
            if (value.ValueKind == JsonValueKind.Undefined && nullValue is null)
            {
                throw Fail($"{path}: missing; expected a number ({Primitives.SbeName(kind)}), or null for NaN");
            }

            if (absent)
            {
                number = nullValue is FloatingValue floating ? floating.Value : double.NaN; // the decoder writes every NaN as null
            }
            else if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out double parsed) && double.IsFinite(parsed))
            {
                number = parsed;
            }
            else if (value.ValueKind == JsonValueKind.String && value.GetString() is "Infinity" or "-Infinity" or "NaN")
            {
                number = value.GetString() switch
                {
                    "Infinity" => double.PositiveInfinity,
                    "-Infinity" => double.NegativeInfinity,
                    _ => double.NaN,
                };
            }
            else
            {
                throw Fail($"{path}: expected a number, got {Show(value)}"); // or "Infinity", "-Infinity", "NaN", null
            }

            if (kind == PrimitiveKind.Float)
            {
                float single = (float)number;
                if (float.IsInfinity(single) && double.IsFinite(number))
                {
                    throw Fail($"{path}: {Show(value)} is out of the range of a float");
                }

                int bits = float.IsNaN(single) ? 0x7FC00000 : BitConverter.SingleToInt32Bits(single);
                if (_bigEndian)
                {
                    BinaryPrimitives.WriteInt32BigEndian(data, bits);
                }
                else
                {
                    BinaryPrimitives.WriteInt32LittleEndian(data, bits);
                }
            }
            else
            {
                long bits = double.IsNaN(number) ? 0x7FF8000000000000 : BitConverter.DoubleToInt64Bits(number);
                if (_bigEndian)
                {
                    BinaryPrimitives.WriteInt64BigEndian(data, bits);
                }
                else
                {
                    BinaryPrimitives.WriteInt64LittleEndian(data, bits);
                }
            }

            return;
        }

        decimal integer;
        if (absent)
        {
            if (nullValue is null)
            {
                throw Fail(kind == PrimitiveKind.Char
                    ? $"{path}: {Missing(value)}; expected a string of one character"
                    : $"{path}: {Missing(value)}; expected a number ({Primitives.SbeName(kind)})");
            }

            integer = Integer(nullValue);
        }
        else if (kind == PrimitiveKind.Char)
        {
            string? text = value.ValueKind == JsonValueKind.String ? value.GetString() : null;
            if (text is null || text.Length > 1 || (text.Length == 1 && text[0] > 0xFF))
            {
                throw Fail($"{path}: expected a string of one character, got {Show(value)}");
            }

            integer = text.Length == 0 ? 0 : text[0];
        }
        else
        {
            integer = IntegerValue(value, kind, path);
        }

        WriteInteger(data, kind, integer);
    }

    private static string Missing(JsonElement value) => value.ValueKind == JsonValueKind.Null ? "null for a required field" : "missing";

    /// <summary>A JSON number that is an integer in the range of <paramref name="kind"/>.</summary>
    private static decimal IntegerValue(JsonElement value, PrimitiveKind kind, string path)
    {
        if (value.ValueKind != JsonValueKind.Number)
        {
            throw Fail($"{path}: expected a number ({Primitives.SbeName(kind)}), got {Show(value)}");
        }

        if (!value.TryGetDecimal(out decimal number) || number != decimal.Truncate(number))
        {
            throw Fail($"{path}: expected an integer ({Primitives.SbeName(kind)}), got {Show(value)}");
        }

        if (number < Primitives.MinInteger(kind) || number > Primitives.MaxInteger(kind))
        {
            throw Fail($"{path}: {Show(value)} is out of the range of {Primitives.SbeName(kind)} ({Primitives.MinInteger(kind)} to {Primitives.MaxInteger(kind)})");
        }

        return number;
    }

    /// <summary>Whether <paramref name="value"/> is what the decoder writes for the constant field.</summary>
    private static bool ConstantMatches(FieldModel field, JsonElement value, out string constant)
    {
        switch (field.ConstantValue)
        {
            case EnumValueReference reference when field.Kind == FieldKind.Enum:
                constant = Quote(reference.ValueName);
                return value.ValueKind == JsonValueKind.String && value.GetString() == reference.ValueName;
            case TextValue text:
                constant = Quote(text.Value);
                return value.ValueKind == JsonValueKind.String && value.GetString() == text.Value;
            case FloatingValue floating when double.IsFinite(floating.Value):
                constant = floating.Value.ToString("R", CultureInfo.InvariantCulture);
                return value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out double d)
                    && (field.Primitive == PrimitiveKind.Float ? (float)d == (float)floating.Value : d == floating.Value);
            case FloatingValue:
                constant = "null";
                return value.ValueKind == JsonValueKind.Null;
            case { } other when field.Primitive == PrimitiveKind.Char:
                string character = ((char)(byte)Integer(other)).ToString();
                constant = Quote(character);
                return value.ValueKind == JsonValueKind.String && value.GetString() == character;
            case { } other:
                decimal integer = Integer(other);
                constant = integer.ToString(CultureInfo.InvariantCulture);
                return value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out decimal n) && n == integer;
            default:
                throw new InvalidOperationException($"Constant field '{field.Name}' has no value");
        }
    }

    /// <summary>An integer value of the model (an enum reference's value included).</summary>
    private static decimal Integer(SbeValue value)
        => SchemaValues.TryGetInteger(value, out decimal integer) ? integer : throw new InvalidOperationException($"{value} is not an integer");

    // ---------------------------------------------------------------- primitives

    private void WriteInteger(Span<byte> data, PrimitiveKind kind, decimal value)
    {
        switch (kind)
        {
            case PrimitiveKind.Char:
            case PrimitiveKind.UInt8:
                data[0] = (byte)value;
                break;
            case PrimitiveKind.Int8:
                data[0] = (byte)(sbyte)value;
                break;
            case PrimitiveKind.Int16:
                if (_bigEndian)
                {
                    BinaryPrimitives.WriteInt16BigEndian(data, (short)value);
                }
                else
                {
                    BinaryPrimitives.WriteInt16LittleEndian(data, (short)value);
                }

                break;
            case PrimitiveKind.UInt16:
                if (_bigEndian)
                {
                    BinaryPrimitives.WriteUInt16BigEndian(data, (ushort)value);
                }
                else
                {
                    BinaryPrimitives.WriteUInt16LittleEndian(data, (ushort)value);
                }

                break;
            case PrimitiveKind.Int32:
                if (_bigEndian)
                {
                    BinaryPrimitives.WriteInt32BigEndian(data, (int)value);
                }
                else
                {
                    BinaryPrimitives.WriteInt32LittleEndian(data, (int)value);
                }

                break;
            case PrimitiveKind.UInt32:
                if (_bigEndian)
                {
                    BinaryPrimitives.WriteUInt32BigEndian(data, (uint)value);
                }
                else
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(data, (uint)value);
                }

                break;
            case PrimitiveKind.Int64:
                if (_bigEndian)
                {
                    BinaryPrimitives.WriteInt64BigEndian(data, (long)value);
                }
                else
                {
                    BinaryPrimitives.WriteInt64LittleEndian(data, (long)value);
                }

                break;
            case PrimitiveKind.UInt64:
                if (_bigEndian)
                {
                    BinaryPrimitives.WriteUInt64BigEndian(data, (ulong)value);
                }
                else
                {
                    BinaryPrimitives.WriteUInt64LittleEndian(data, (ulong)value);
                }

                break;
            default:
                throw new InvalidOperationException($"{kind} is not an integer type");
        }
    }

    /// <summary>The bytes of <paramref name="text"/> in the encoding the decoder reads (UTF-8, or Latin-1 for ASCII and
    /// unknown names); a character the encoding cannot hold is an error, not a silent '?'.</summary>
    private static byte[] TextBytes(string? encodingName, string text, string path)
    {
        Encoding decoding = SbeJsonDecoder.TextEncoding(encodingName);
        var strict = (Encoding)decoding.Clone();
        strict.EncoderFallback = EncoderFallback.ExceptionFallback;
        try
        {
            return strict.GetBytes(text);
        }
        catch (EncoderFallbackException e)
        {
            string character = e.CharUnknownHigh != default ? string.Concat(e.CharUnknownHigh, e.CharUnknownLow) : e.CharUnknown.ToString();
            throw Fail($"{path}: {Quote(character)} cannot be written in {encodingName ?? "the default encoding (Latin-1)"}");
        }
    }

    private static string Quote(string text) => JsonSerializer.Serialize(text, s_quoting);

    /// <summary>A JSON value for an error message, cut short.</summary>
    private static string Show(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Undefined)
        {
            return "nothing";
        }

        string text = value.GetRawText();
        return text.Length <= MaxShownValue ? text : text[..MaxShownValue] + "...";
    }

    private static EncodeFailure Fail(string message) => new(message);

    /// <summary>Carries an encode error out of the recursive walk to <see cref="TryEncode(JsonElement, IBufferWriter{byte}, out string?)"/>.</summary>
    private sealed class EncodeFailure(string message) : Exception(message);
}
