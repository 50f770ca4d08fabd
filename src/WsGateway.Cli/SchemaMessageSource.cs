using System.Buffers;
using System.Globalization;
using System.Text.Json;
using WsGateway.Sbe.Schema;

namespace WsGateway.Cli;

/// <summary>How <c>wsgw send --schema</c> reads <c>--file</c>.</summary>
internal enum MessageFileFormat
{
    /// <summary>One JSON object per line, as <c>wsgw serve --handler json</c> prints them.</summary>
    Json,

    /// <summary>Whole SBE messages back to back; each one's length comes from its header, groups and var data.</summary>
    Sbe,
}

/// <summary>
/// The messages of <c>wsgw send --schema FILE --file FILE</c>: every message of the file encoded (JSON lines) or
/// framed (SBE) and checked with the schema before anything is sent, held back to back in one array. Message
/// <c>i</c> is the bytes from <c>offsets[i]</c> to <c>offsets[i + 1]</c>, so a frame of consecutive messages is one
/// slice, sent as it is.
/// </summary>
internal sealed class SchemaMessageSource
{
    private readonly byte[] _data;
    private readonly int[] _offsets;

    private SchemaMessageSource(byte[] data, int[] offsets)
    {
        _data = data;
        _offsets = offsets;
    }

    /// <summary>How many messages.</summary>
    public int Count => _offsets.Length - 1;

    /// <summary>The file's format when <c>--format</c> is not given: JSON lines for a name ending in .json or .jsonl
    /// and for <c>-</c> (standard input), SBE otherwise.</summary>
    public static MessageFileFormat FormatOf(string file)
        => file == "-" || file.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || file.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase)
            ? MessageFileFormat.Json
            : MessageFileFormat.Sbe;

    /// <summary>Reads every message of <paramref name="file"/> (<c>-</c>: standard input).</summary>
    /// <param name="file">The file, or <c>-</c>.</param>
    /// <param name="schema">The schema of its messages.</param>
    /// <param name="format">JSON lines or SBE.</param>
    /// <param name="standardInput">Standard input, for <c>-</c>.</param>
    /// <param name="messages">The messages; null on failure.</param>
    /// <param name="error">One line naming the file, the line or message, and the reason; null on success.</param>
    /// <returns>True when every message was read and checked.</returns>
    public static bool TryRead(string file, SbeSchema schema, MessageFileFormat format, Stream standardInput, out SchemaMessageSource? messages, out string? error)
    {
        messages = null;
        string name = file == "-" ? "standard input" : file;
        byte[] bytes;
        try
        {
            if (file == "-")
            {
                using var copy = new MemoryStream();
                standardInput.CopyTo(copy);
                bytes = copy.ToArray();
            }
            else
            {
                bytes = File.ReadAllBytes(file);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = e is FileNotFoundException or DirectoryNotFoundException ? $"file not found: {Path.GetFullPath(file)}" : $"cannot read {name}: {e.Message}";
            return false;
        }

        bool ok = format == MessageFileFormat.Json
            ? TryEncodeLines(bytes, name, schema, out messages, out error)
            : TryFrame(bytes, name, schema, out messages, out error);
        if (ok && messages!.Count == 0)
        {
            messages = null;
            error = format == MessageFileFormat.Json
                ? $"{name}: no messages: expected JSON lines, one message of {schema.Package} each (as wsgw serve --handler json prints them)"
                : $"{name}: no messages: the file is empty";
            return false;
        }

        return ok;
    }

    /// <summary>The bytes of <paramref name="count"/> messages from message <paramref name="first"/>: one frame.</summary>
    public ReadOnlySpan<byte> Frame(long first, int count)
        => _data.AsSpan(_offsets[first], _offsets[first + count] - _offsets[first]);

    /// <summary>The largest frame of <paramref name="batch"/> consecutive messages, as frames are cut from the start
    /// of a connection's share (any start, to be safe with shares of any size).</summary>
    public int LargestFrame(int batch)
    {
        int largest = 0;
        for (int i = 0; i < Count; i++)
        {
            largest = Math.Max(largest, _offsets[Math.Min(Count, i + batch)] - _offsets[i]);
        }

        return largest;
    }

    /// <summary>Why an echoed frame is not the frame of messages <paramref name="first"/> to
    /// <paramref name="first"/> + <paramref name="count"/> - 1 that was sent; null when it is.</summary>
    public string? Compare(ReadOnlySpan<byte> echoed, long first, int count, long frameNumber)
    {
        ReadOnlySpan<byte> sent = Frame(first, count);
        if (echoed.SequenceEqual(sent))
        {
            return null;
        }

        int at = echoed.CommonPrefixLength(sent);
        return string.Create(CultureInfo.InvariantCulture, $"frame {frameNumber} (messages {first + 1} to {first + count}) came back with {echoed.Length} bytes, sent with {sent.Length}; first difference at byte {at}");
    }

    private static bool TryEncodeLines(byte[] bytes, string name, SbeSchema schema, out SchemaMessageSource? messages, out string? error)
    {
        var encoder = new SbeJsonEncoder(schema);
        var output = new ArrayBufferWriter<byte>(Math.Max(256, bytes.Length / 2));
        var offsets = new List<int> { 0 };
        ReadOnlySpan<byte> rest = bytes;
        if (rest.StartsWith("\uFEFF"u8))
        {
            rest = rest[3..]; // a UTF-8 byte order mark
        }

        int line = 0;
        while (!rest.IsEmpty)
        {
            line++;
            int end = rest.IndexOf((byte)'\n');
            ReadOnlySpan<byte> text = end < 0 ? rest : rest[..end];
            rest = end < 0 ? [] : rest[(end + 1)..];
            if (text.Trim(" \t\r"u8).IsEmpty)
            {
                continue; // blank lines separate nothing
            }

            if (!encoder.TryEncode(text, output, out string? reason))
            {
                messages = null;
                error = string.Create(CultureInfo.InvariantCulture, $"{name}: line {line}: {reason}");
                return false;
            }

            offsets.Add(output.WrittenCount);
        }

        messages = new SchemaMessageSource(output.WrittenSpan.ToArray(), [.. offsets]);
        error = null;
        return true;
    }

    private static bool TryFrame(byte[] bytes, string name, SbeSchema schema, out SchemaMessageSource? messages, out string? error)
    {
        var decoder = new SbeJsonDecoder(schema);
        var json = new ArrayBufferWriter<byte>(256);
        using var writer = new Utf8JsonWriter(json);
        var offsets = new List<int> { 0 };
        int offset = 0;
        while (offset < bytes.Length)
        {
            json.ResetWrittenCount();
            writer.Reset(json);

            // Decoding checks the message against the schema and gives its length (header, block, groups, var data).
            if (!decoder.TryDecode(bytes.AsSpan(offset), writer, out int consumed, out string? reason))
            {
                messages = null;
                error = string.Create(CultureInfo.InvariantCulture, $"{name}: message {offsets.Count} at offset {offset}: {reason}");
                return false;
            }

            offset += consumed;
            offsets.Add(offset);
        }

        messages = new SchemaMessageSource(bytes, [.. offsets]);
        error = null;
        return true;
    }
}
