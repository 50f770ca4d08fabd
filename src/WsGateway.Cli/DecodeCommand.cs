using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using WsGateway.Sbe;

namespace WsGateway.Cli;

/// <summary><c>wsgw decode</c>: SBE bytes (hex on the command line, or a binary file) → a table of trades, with the
/// decode error for anything that is not one.</summary>
internal static class DecodeCommand
{
    public static Command Create()
    {
        Argument<string?> hex = new("hex")
        {
            Description = "The bytes as hex (spaces, commas and 0x prefixes are ignored), e.g. 15000100010000003930000000000000420000000000205940e8030000",
            Arity = ArgumentArity.ZeroOrOne,
        };
        Option<FileInfo?> file = new("--file", "-f") { Description = "A binary file of SBE messages back to back" };
        Command command = new("decode", "Decode SBE Trade messages and print them as a table") { hex, file };
        command.SetAction(result =>
        {
            string? text = result.GetValue(hex);
            FileInfo? path = result.GetValue(file);
            if ((text is null) == (path is null))
            {
                Console.Error.WriteLine("wsgw decode: give the bytes either as hex or with --file, not both and not neither");
                return 2;
            }

            byte[] bytes;
            if (path is not null)
            {
                if (!path.Exists)
                {
                    Console.Error.WriteLine($"wsgw decode: file not found: {path.FullName}");
                    return 2;
                }

                bytes = File.ReadAllBytes(path.FullName);
            }
            else if (!Hex.TryParse(text!, out bytes, out string? error))
            {
                Console.Error.WriteLine($"wsgw decode: {error}");
                return 2;
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
