using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Spectre.Console;
using WsGateway.Sbe;
using WsGateway.Sbe.Schema;

namespace WsGateway.Cli;

/// <summary><c>wsgw decode</c>: SBE bytes (hex on the command line, or a binary file) → a table of trades, with the
/// decode error for anything that is not one; with <c>--schema</c>, any message of that schema → one JSON object per line.</summary>
internal static class DecodeCommand
{
    /// <summary>The command; <paramref name="output"/> and <paramref name="error"/> default to the console (tests pass
    /// writers).</summary>
    public static Command Create(TextWriter? output = null, TextWriter? error = null)
    {
        Argument<string?> hex = new("hex")
        {
            Description = "The bytes as hex (spaces, commas and 0x prefixes are ignored), e.g. 15000100010000003930000000000000420000000000205940e8030000",
            Arity = ArgumentArity.ZeroOrOne,
        };
        Option<FileInfo?> file = new("--file", "-f") { Description = "A binary file of SBE messages back to back" };
        Option<FileInfo?> schema = new("--schema", "-s")
        {
            Description = "An SBE XML schema: decode any of its messages and print each as one line of JSON (without it: Trade messages as a table)",
        };
        Command command = new("decode", "Decode SBE messages: Trades as a table, or any message of --schema as JSON lines") { hex, file, schema };
        command.SetAction(result =>
        {
            TextWriter stdout = output ?? Console.Out;
            TextWriter stderr = error ?? Console.Error;
            string? text = result.GetValue(hex);
            FileInfo? path = result.GetValue(file);
            FileInfo? schemaFile = result.GetValue(schema);
            if ((text is null) == (path is null))
            {
                stderr.WriteLine("wsgw decode: give the bytes either as hex or with --file, not both and not neither");
                return 2;
            }

            SbeSchema? loaded = null;
            if (schemaFile is not null)
            {
                try
                {
                    loaded = SbeSchema.Load(schemaFile.FullName);
                }
                catch (Exception e) when (e is SbeSchemaException or IOException or UnauthorizedAccessException)
                {
                    stderr.WriteLine($"wsgw decode: {e.Message}");
                    return 2;
                }
            }

            byte[] bytes;
            if (path is not null)
            {
                if (!path.Exists)
                {
                    stderr.WriteLine($"wsgw decode: file not found: {path.FullName}");
                    return 2;
                }

                bytes = File.ReadAllBytes(path.FullName);
            }
            else if (!Hex.TryParse(text!, out bytes, out string? hexError))
            {
                stderr.WriteLine($"wsgw decode: {hexError}");
                return 2;
            }

            if (loaded is not null)
            {
                return RenderJson(bytes, new SbeJsonDecoder(loaded), stdout, stderr);
            }

            if (Console.IsOutputRedirected)
            {
                AnsiConsole.Profile.Width = 160; // a pipe has no width: do not wrap the table at 80 columns
            }

            return Render(bytes, AnsiConsole.Console);
        });
        return command;
    }

    /// <summary>Decodes every message in <paramref name="bytes"/> and writes the table; 0 when all were trades, 1
    /// otherwise.</summary>
    internal static int Render(ReadOnlySpan<byte> bytes, IAnsiConsole console)
    {
        var table = new Table().AddColumns("#", "offset", "trade id", "symbol", "price", "quantity", "error");
        int offset = 0;
        int index = 0;
        int errors = 0;
        while (offset < bytes.Length)
        {
            index++;
            ReadOnlySpan<byte> rest = bytes.Slice(offset);
            if (Trade.TryDecode(rest, out Trade trade, out int consumed, out SbeDecodeError error))
            {
                table.AddRow(
                    Cell(index), Cell(offset), Cell(trade.TradeId), Markup.Escape(Printable(trade.SymbolChar)),
                    trade.Price.ToString("R", CultureInfo.InvariantCulture), Cell(trade.Quantity), string.Empty);
                offset += consumed;
                continue;
            }

            errors++;
            table.AddRow(Cell(index), Cell(offset), string.Empty, string.Empty, string.Empty, string.Empty, Markup.Escape(error.ToString()));

            // A readable header with an unknown template or schema tells how long the message is: skip it. Otherwise
            // nothing after this point can be framed.
            if (error.Status is SbeDecodeStatus.UnknownTemplateId or SbeDecodeStatus.UnknownSchemaId
                && MessageHeader.TryRead(rest, out MessageHeader header)
                && MessageHeader.EncodedLength + header.BlockLength <= rest.Length)
            {
                offset += MessageHeader.EncodedLength + header.BlockLength;
                continue;
            }

            break;
        }

        console.Write(table);
        console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{index - errors} trades, {errors} errors, {bytes.Length} bytes"));
        return errors == 0 ? 0 : 1;
    }

    /// <summary>Decodes every message in <paramref name="bytes"/>, back to back, and writes one JSON object per line;
    /// 0 when all decoded, 1 (with the error on <paramref name="error"/>) at the first that does not.</summary>
    internal static int RenderJson(ReadOnlySpan<byte> bytes, SbeJsonDecoder decoder, TextWriter output, TextWriter error)
    {
        if (bytes.IsEmpty)
        {
            error.WriteLine("wsgw decode: no bytes to decode");
            return 1;
        }

        var options = new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        int offset = 0;
        int index = 0;
        while (offset < bytes.Length)
        {
            index++;
            if (!decoder.TryDecodeToJson(bytes.Slice(offset), out string json, out int consumed, out string? reason, options))
            {
                output.Flush();
                error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wsgw decode: message {index} at offset {offset}: {reason}"));
                return 1;
            }

            output.WriteLine(json);
            offset += consumed;
        }

        output.Flush();
        return 0;
    }

    private static string Cell<T>(T value) where T : IFormattable => value.ToString(null, CultureInfo.InvariantCulture);

    private static string Printable(char c) => char.IsControl(c) || c > '~' ? $"\\x{(int)c:x2}" : c.ToString();
}

/// <summary>Lenient hex parsing for the command line.</summary>
internal static class Hex
{
    public static bool TryParse(string text, out byte[] bytes, out string? error)
    {
        var digits = new System.Text.StringBuilder(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c is ' ' or ',' or ':' or '-' or '\t' or '\n' or '\r')
            {
                continue;
            }

            if (c == '0' && i + 1 < text.Length && text[i + 1] is 'x' or 'X')
            {
                i++;
                continue;
            }

            if (!char.IsAsciiHexDigit(c))
            {
                bytes = [];
                error = $"Invalid hex at position {i}: expected 0-9 or a-f, got '{c}'";
                return false;
            }

            digits.Append(c);
        }

        if (digits.Length % 2 != 0)
        {
            bytes = [];
            error = $"Odd number of hex digits: expected pairs, got {digits.Length} digits";
            return false;
        }

        bytes = Convert.FromHexString(digits.ToString());
        error = null;
        return true;
    }
}
