using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using WsGateway.Sbe.Schema.Model;

namespace WsGateway.Sbe.Schema;

/// <summary>
/// Decodes any message of an <see cref="SbeSchema"/> to JSON, without generated code: reads the message header
/// (the schema's <c>headerType</c>), finds the message by template id, and walks its fields by offset in the
/// schema's byte order, then its repeating groups and var data.
/// </summary>
/// <remarks>
/// <para>Output: one object per message, <c>"$message"</c> (name) and <c>"$header"</c> (every header member) first,
/// then each field, group and var data under its schema name. Optional fields holding their null value, fields
/// newer than the message's version and fields beyond its block length are <c>null</c>; char arrays are strings
/// (cut at the first NUL); enums are their value's name (an unknown value is its number); sets are arrays of
/// the names of the choices that are set; composites are objects; constants are their value; groups are arrays of
/// objects; var data are strings when the type has a <c>characterEncoding</c>, base64 otherwise.</para>
/// <para>Versioning follows SBE: the header's blockLength is the acting block length (fields appended by a newer
/// schema are skipped), the header's version the acting version.</para>
/// </remarks>
public sealed class SbeJsonDecoder
{
    private const int MaxNamesInError = 20;

    private readonly SbeSchema _schema;
    private readonly bool _bigEndian;
    private readonly FieldModel _blockLength;
    private readonly FieldModel _templateId;
    private readonly FieldModel _schemaId;
    private readonly FieldModel _version;
    private readonly Dictionary<string, Dictionary<decimal, string>> _enumNames = new(StringComparer.Ordinal);

    /// <summary>Creates a decoder for the messages of <paramref name="schema"/>.</summary>
    /// <param name="schema">The schema.</param>
    public SbeJsonDecoder(SbeSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        _schema = schema;
        _bigEndian = schema.IsBigEndian;
        CompositeModel header = schema.HeaderComposite;
        _blockLength = header.Members.First(m => m.Name == "blockLength");
        _templateId = header.Members.First(m => m.Name == "templateId");
        _schemaId = header.Members.First(m => m.Name == "schemaId");
        _version = header.Members.First(m => m.Name == "version");
        foreach (NamedTypeModel type in schema.Model.Types)
        {
            if (type is EnumModel model)
            {
                var names = new Dictionary<decimal, string>();
                foreach (EnumValueModel value in model.Values)
                {
                    names.TryAdd(Integer(value.Value), value.Name);
                }

                _enumNames[model.Name] = names;
            }
        }
    }

    /// <summary>The schema this decoder reads.</summary>
    public SbeSchema Schema => _schema;

    /// <summary>
    /// Decodes the message at the start of <paramref name="message"/> and writes it to <paramref name="writer"/> as one
    /// JSON object. Nothing is written when decoding fails.
    /// </summary>
    /// <param name="message">The message (header first); may hold more bytes after it.</param>
    /// <param name="writer">Where the JSON object goes.</param>
    /// <param name="consumed">The message's length: header + block + groups + var data.</param>
    /// <param name="error">Why the message could not be decoded, naming what was expected; null on success.</param>
    /// <returns>True when the message was decoded.</returns>
    public bool TryDecode(ReadOnlySpan<byte> message, Utf8JsonWriter writer, out int consumed, out string? error)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var inner = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = writer.Options.Encoder, Indented = writer.Options.Indented }))
        {
            try
            {
                consumed = WriteMessage(message, inner);
            }
            catch (DecodeFailure failure)
            {
                consumed = 0;
                error = failure.Message;
                return false;
            }
        }

        writer.WriteRawValue(buffer.WrittenSpan, skipInputValidation: true);
        error = null;
        return true;
    }

    /// <summary>Decodes the message at the start of <paramref name="message"/> to a JSON string.</summary>
    /// <param name="message">The message (header first); may hold more bytes after it.</param>
    /// <param name="json">The JSON object; empty when decoding fails.</param>
    /// <param name="consumed">The message's length: header + block + groups + var data.</param>
    /// <param name="error">Why the message could not be decoded; null on success.</param>
    /// <param name="options">Writer options (indentation, encoder); compact with the default encoder when null.</param>
    /// <returns>True when the message was decoded.</returns>
    public bool TryDecodeToJson(ReadOnlySpan<byte> message, out string json, out int consumed, out string? error, JsonWriterOptions? options = null)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        bool ok;
        using (var writer = new Utf8JsonWriter(buffer, options ?? default))
        {
            ok = TryDecode(message, writer, out consumed, out error);
        }

        json = ok ? Encoding.UTF8.GetString(buffer.WrittenSpan) : string.Empty;
        return ok;
    }

    // ---------------------------------------------------------------- message

    private int WriteMessage(ReadOnlySpan<byte> buffer, Utf8JsonWriter w)
    {
        int headerSize = _schema.HeaderSize;
        if (buffer.Length < headerSize)
        {
            throw Fail($"Insufficient data: the message header ({_schema.HeaderTypeName}) needs {headerSize} bytes, got {buffer.Length}");
        }

        decimal blockLength = ReadInteger(buffer.Slice(_blockLength.Offset), _blockLength.Primitive);
        decimal templateId = ReadInteger(buffer.Slice(_templateId.Offset), _templateId.Primitive);
        decimal schemaId = ReadInteger(buffer.Slice(_schemaId.Offset), _schemaId.Primitive);
        decimal version = ReadInteger(buffer.Slice(_version.Offset), _version.Primitive);

        if (schemaId != _schema.Id)
        {
            throw Fail($"Unknown schema id {schemaId}: expected {_schema.Id} (package {_schema.Package}); template id {templateId}, version {version}");
        }

        if (templateId > int.MaxValue || !_schema.TryGetMessage((int)templateId, out MessageModel message))
        {
            throw Fail($"Unknown template id {templateId}: the schema defines {DescribeMessages()}");
        }

        int actingVersion = version > int.MaxValue ? int.MaxValue : (int)version;
        if (headerSize + blockLength > buffer.Length)
        {
            throw Fail($"Insufficient data: message {message.Name} needs at least {headerSize + blockLength} bytes ({headerSize}-byte header + {blockLength}-byte block), got {buffer.Length}");
        }

        w.WriteStartObject();
        w.WriteString("$message", message.Name);
        w.WritePropertyName("$header");
        WriteComposite(HeaderComposite, buffer.Slice(0, headerSize), int.MaxValue, w);

        int block = (int)blockLength;
        WriteFields(message.Fields, buffer.Slice(headerSize, block), actingVersion, w);
        int position = headerSize + block;
        WriteGroups(message.Groups, buffer, ref position, actingVersion, message.Name, w);
        WriteData(message.Data, buffer, ref position, actingVersion, message.Name, w);
        w.WriteEndObject();
        return position;
    }

    private CompositeModel HeaderComposite => _schema.HeaderComposite;

    private string DescribeMessages()
    {
        IReadOnlyList<SbeMessageInfo> messages = _schema.Messages;
        if (messages.Count == 0)
        {
            return "no messages";
        }

        string list = string.Join(", ", messages.Take(MaxNamesInError).Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.TemplateId} ({m.Name})")));
        return messages.Count > MaxNamesInError ? $"{list}, ... ({messages.Count} messages)" : list;
    }

    // ---------------------------------------------------------------- groups and var data

    private void WriteGroups(EquatableArray<GroupModel> groups, ReadOnlySpan<byte> buffer, ref int position, int version, string owner, Utf8JsonWriter w)
    {
        foreach (GroupModel group in groups)
        {
            string path = owner + "." + group.Name;
            w.WritePropertyName(group.Name);
            if (group.SinceVersion > version)
            {
                w.WriteNullValue(); // not on the wire of this version
                continue;
            }

            DimensionModel dimension = group.Dimension;
            int remaining = buffer.Length - position;
            if (remaining < dimension.Size)
            {
                throw Fail($"Insufficient data: group {path} needs its {dimension.Size}-byte {dimension.TypeName} at offset {position}, got {remaining} bytes");
            }

            decimal blockLength = ReadInteger(buffer.Slice(position + dimension.BlockLengthOffset), dimension.BlockLengthPrimitive);
            decimal count = ReadInteger(buffer.Slice(position + dimension.NumInGroupOffset), dimension.NumInGroupPrimitive);
            position += dimension.Size;
            remaining -= dimension.Size;
            if (blockLength * count > remaining)
            {
                throw Fail($"Insufficient data: group {path} at offset {position - dimension.Size} declares {count} entries of {blockLength} bytes ({blockLength * count} bytes), got {remaining}");
            }

            if (blockLength == 0 && group.Groups.Count == 0 && group.Data.Count == 0 && count > ushort.MaxValue)
            {
                throw Fail($"Implausible group {path} at offset {position - dimension.Size}: {count} entries of 0 bytes");
            }

            int entryLength = (int)blockLength;
            w.WriteStartArray();
            for (int i = 0; i < count; i++)
            {
                if (entryLength > buffer.Length - position)
                {
                    throw Fail($"Insufficient data: entry {i} of group {path} needs {entryLength} bytes at offset {position}, got {buffer.Length - position}");
                }

                string entryPath = string.Create(CultureInfo.InvariantCulture, $"{path}[{i}]");
                w.WriteStartObject();
                WriteFields(group.Fields, buffer.Slice(position, entryLength), version, w);
                position += entryLength;
                WriteGroups(group.Groups, buffer, ref position, version, entryPath, w);
                WriteData(group.Data, buffer, ref position, version, entryPath, w);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }
    }

    private void WriteData(EquatableArray<DataModel> data, ReadOnlySpan<byte> buffer, ref int position, int version, string owner, Utf8JsonWriter w)
    {
        foreach (DataModel field in data)
        {
            string path = owner + "." + field.Name;
            w.WritePropertyName(field.Name);
            if (field.SinceVersion > version)
            {
                w.WriteNullValue();
                continue;
            }

            int remaining = buffer.Length - position;
            if (remaining < field.HeaderSize)
            {
                throw Fail($"Insufficient data: var data {path} needs its {field.HeaderSize}-byte length at offset {position}, got {remaining} bytes");
            }

            decimal length = ReadInteger(buffer.Slice(position + field.LengthOffset), field.LengthPrimitive);
            position += field.HeaderSize;
            remaining -= field.HeaderSize;
            if (length > remaining)
            {
                throw Fail($"Insufficient data: var data {path} at offset {position - field.HeaderSize} declares {length} bytes, got {remaining}");
            }

            ReadOnlySpan<byte> bytes = buffer.Slice(position, (int)length);
            position += (int)length;
            if (field.CharacterEncoding is { } encoding)
            {
                w.WriteStringValue(TextEncoding(encoding).GetString(bytes));
            }
            else
            {
                w.WriteBase64StringValue(bytes);
            }
        }
    }

    // ---------------------------------------------------------------- fixed-size fields

    private void WriteFields(EquatableArray<FieldModel> fields, ReadOnlySpan<byte> block, int version, Utf8JsonWriter w)
    {
        foreach (FieldModel field in fields)
        {
            w.WritePropertyName(field.Name);
            WriteField(field, block, version, w);
        }
    }

    private void WriteComposite(CompositeModel composite, ReadOnlySpan<byte> data, int version, Utf8JsonWriter w)
    {
        w.WriteStartObject();
        WriteFields(composite.Members, data, version, w);
        w.WriteEndObject();
    }

    private void WriteField(FieldModel field, ReadOnlySpan<byte> block, int version, Utf8JsonWriter w)
    {
        if (field.SinceVersion > version)
        {
            w.WriteNullValue(); // newer than the message: not on its wire
            return;
        }

        if (field.Presence == Presence.Constant)
        {
            WriteConstant(field, w);
            return;
        }

        if (field.Offset + field.Size > block.Length)
        {
            w.WriteNullValue(); // beyond the acting block length (an older sender)
            return;
        }

        ReadOnlySpan<byte> data = block.Slice(field.Offset, field.Size);
        switch (field.Kind)
        {
            case FieldKind.Composite:
                WriteComposite(_schema.Type<CompositeModel>(field.TypeName), data, version, w);
                break;
            case FieldKind.Enum:
                WriteEnum(field, data, w);
                break;
            case FieldKind.Set:
                WriteSet(field, data, w);
                break;
            default:
                WritePrimitive(field, data, w);
                break;
        }
    }

    private void WriteEnum(FieldModel field, ReadOnlySpan<byte> data, Utf8JsonWriter w)
    {
        EnumModel model = _schema.Type<EnumModel>(field.TypeName);
        decimal value = ReadInteger(data, model.Encoding);
        if (value == Integer(model.NullValue))
        {
            w.WriteNullValue();
        }
        else if (_enumNames[model.Name].TryGetValue(value, out string? name))
        {
            w.WriteStringValue(name);
        }
        else
        {
            w.WriteNumberValue(value);
        }
    }

    private void WriteSet(FieldModel field, ReadOnlySpan<byte> data, Utf8JsonWriter w)
    {
        SetModel model = _schema.Type<SetModel>(field.TypeName);
        ulong bits = (ulong)ReadInteger(data, model.Encoding);
        w.WriteStartArray();
        foreach (ChoiceModel choice in model.Choices)
        {
            if ((bits & (1UL << choice.Bit)) != 0)
            {
                w.WriteStringValue(choice.Name);
            }
        }

        w.WriteEndArray();
    }

    private void WritePrimitive(FieldModel field, ReadOnlySpan<byte> data, Utf8JsonWriter w)
    {
        PrimitiveKind kind = field.Primitive;
        bool optional = field.Presence == Presence.Optional;
        if (kind == PrimitiveKind.Char && field.Length != 1)
        {
            int end = data.IndexOf((byte)0);
            ReadOnlySpan<byte> text = end < 0 ? data : data.Slice(0, end);
            if (optional && text.IsEmpty)
            {
                w.WriteNullValue();
            }
            else
            {
                w.WriteStringValue(TextEncoding(field.CharacterEncoding).GetString(text));
            }

            return;
        }

        if (field.Length == 1)
        {
            WriteScalar(kind, data, optional ? field.NullValue : null, w);
            return;
        }

        int size = Primitives.Size(kind);
        w.WriteStartArray();
        for (int i = 0; i < field.Length; i++)
        {
            WriteScalar(kind, data.Slice(i * size, size), optional ? field.NullValue : null, w);
        }

        w.WriteEndArray();
    }

    /// <summary>One primitive value; null when it equals <paramref name="nullValue"/> (optional fields only).</summary>
    private void WriteScalar(PrimitiveKind kind, ReadOnlySpan<byte> data, SbeValue? nullValue, Utf8JsonWriter w)
    {
        if (kind == PrimitiveKind.Float || kind == PrimitiveKind.Double)
        {
            double value = kind == PrimitiveKind.Float
                ? (_bigEndian ? BinaryPrimitives.ReadSingleBigEndian(data) : BinaryPrimitives.ReadSingleLittleEndian(data))
                : (_bigEndian ? BinaryPrimitives.ReadDoubleBigEndian(data) : BinaryPrimitives.ReadDoubleLittleEndian(data));
            if (double.IsNaN(value) || (nullValue is FloatingValue floatingNull && value == floatingNull.Value))
            {
                w.WriteNullValue();
            }
            else if (double.IsInfinity(value))
            {
                w.WriteStringValue(value > 0 ? "Infinity" : "-Infinity");
            }
            else if (kind == PrimitiveKind.Float)
            {
                w.WriteNumberValue((float)value);
            }
            else
            {
                w.WriteNumberValue(value);
            }

            return;
        }

        decimal number = ReadInteger(data, kind);
        if (nullValue is not null && Integer(nullValue) == number)
        {
            w.WriteNullValue();
        }
        else if (kind == PrimitiveKind.Char)
        {
            w.WriteStringValue(number == 0 ? string.Empty : ((char)(byte)number).ToString());
        }
        else
        {
            w.WriteNumberValue(number);
        }
    }

    /// <summary>A constant field's value: an enum value's name, a string, a character or a number.</summary>
    private static void WriteConstant(FieldModel field, Utf8JsonWriter w)
    {
        switch (field.ConstantValue)
        {
            case EnumValueReference reference when field.Kind == FieldKind.Enum:
                w.WriteStringValue(reference.ValueName);
                break;
            case TextValue text:
                w.WriteStringValue(text.Value);
                break;
            case FloatingValue floating when double.IsFinite(floating.Value):
                if (field.Primitive == PrimitiveKind.Float)
                {
                    w.WriteNumberValue((float)floating.Value);
                }
                else
                {
                    w.WriteNumberValue(floating.Value);
                }

                break;
            case FloatingValue:
                w.WriteNullValue(); // NaN or an infinity: not a JSON number
                break;
            case { } value when field.Primitive == PrimitiveKind.Char:
                w.WriteStringValue(((char)(byte)Integer(value)).ToString()); // a char, or a valueRef to a char enum value
                break;
            case { } value:
                w.WriteNumberValue(Integer(value)); // an integer, or a valueRef to an enum value
                break;
            default:
                throw new InvalidOperationException($"Constant field '{field.Name}' has no value");
        }
    }

    /// <summary>An integer value of the model (an enum reference's value included).</summary>
    private static decimal Integer(SbeValue value)
        => SchemaValues.TryGetInteger(value, out decimal integer) ? integer : throw new InvalidOperationException($"{value} is not an integer");

    // ---------------------------------------------------------------- primitives

    private decimal ReadInteger(ReadOnlySpan<byte> data, PrimitiveKind kind) => kind switch
    {
        PrimitiveKind.Char or PrimitiveKind.UInt8 => data[0],
        PrimitiveKind.Int8 => (sbyte)data[0],
        PrimitiveKind.Int16 => _bigEndian ? BinaryPrimitives.ReadInt16BigEndian(data) : BinaryPrimitives.ReadInt16LittleEndian(data),
        PrimitiveKind.UInt16 => _bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(data) : BinaryPrimitives.ReadUInt16LittleEndian(data),
        PrimitiveKind.Int32 => _bigEndian ? BinaryPrimitives.ReadInt32BigEndian(data) : BinaryPrimitives.ReadInt32LittleEndian(data),
        PrimitiveKind.UInt32 => _bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(data) : BinaryPrimitives.ReadUInt32LittleEndian(data),
        PrimitiveKind.Int64 => _bigEndian ? BinaryPrimitives.ReadInt64BigEndian(data) : BinaryPrimitives.ReadInt64LittleEndian(data),
        PrimitiveKind.UInt64 => _bigEndian ? BinaryPrimitives.ReadUInt64BigEndian(data) : BinaryPrimitives.ReadUInt64LittleEndian(data),
        _ => throw new InvalidOperationException($"{kind} is not an integer type"),
    };

    /// <summary>The text encoding of a char array or var data: UTF-8, or Latin-1 for ASCII and unknown names (every byte kept).</summary>
    internal static Encoding TextEncoding(string? name)
    {
        switch (name?.Trim().ToUpperInvariant())
        {
            case "UTF-8":
            case "UTF8":
                return Encoding.UTF8;
            case null:
            case "":
            case "ASCII":
            case "US-ASCII":
            case "ISO-8859-1":
            case "LATIN1":
                return Encoding.Latin1; // keeps every byte; ASCII is a subset
            default:
                try
                {
                    return Encoding.GetEncoding(name!);
                }
                catch (ArgumentException)
                {
                    return Encoding.Latin1;
                }
        }
    }

    private static DecodeFailure Fail(string message) => new(message);

    /// <summary>Carries a decode error out of the recursive walk to <see cref="TryDecode"/>.</summary>
    private sealed class DecodeFailure(string message) : Exception(message);
}
