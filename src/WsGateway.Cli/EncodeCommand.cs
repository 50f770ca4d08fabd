using System.CommandLine;
using System.Globalization;

namespace WsGateway.Cli;

/// <summary><c>wsgw encode</c>: the inverse of <c>wsgw decode --schema</c>: JSON lines (as <c>decode --schema</c> and
/// <c>serve --handler json</c> print them) → SBE messages of the schema, each line checked before anything is written;
/// hex lines on standard output, or the messages back to back in a binary file.</summary>
internal static class EncodeCommand
{
    public static Command Create()
    {
        Option<FileInfo> schema = new("--schema", "-s") { Description = "The SBE XML schema of the messages", Required = true };
        Option<string> file = new("--file", "-f")
        {
            Description = "JSON lines, one message each (- or absent: standard input)",
            DefaultValueFactory = _ => "-",
        };
        Option<FileInfo?> output = new("--output", "-o")
        {
            Description = "Write the messages back to back to this binary file (for wsgw send --schema --file, wsgw decode --file) instead of one line of hex each on standard output",
        };
        Command command = new("encode", "Encode JSON lines (as wsgw decode --schema and wsgw serve --handler json print them) to SBE messages of --schema; exit 2 naming the line and field of the first that does not fit, with nothing written")
        {
            schema, file, output,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            string name = result.GetValue(file)!;
            if (!SendCommand.TryReadMessages(result.GetValue(schema)!, name, "json", out SchemaMessageSource? messages, out string? error))
            {
                await Console.Error.WriteLineAsync($"wsgw encode: {error}").ConfigureAwait(false);
                return 2;
            }

            if (result.GetValue(output) is { } path)
            {
                try
                {
                    await File.WriteAllBytesAsync(path.FullName, messages.Frame(0, messages.Count).ToArray(), cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    await Console.Error.WriteLineAsync($"wsgw encode: cannot write {path.FullName}: {e.Message}").ConfigureAwait(false);
                    return 2;
                }

                await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"wsgw encode: {messages.Count} messages, {messages.Frame(0, messages.Count).Length} bytes, written to {path.FullName}")).ConfigureAwait(false);
                return 0;
            }

            for (int i = 0; i < messages.Count; i++)
            {
                await Console.Out.WriteLineAsync(Convert.ToHexStringLower(messages.Frame(i, 1))).ConfigureAwait(false);
            }

            return 0;
        });
        return command;
    }
}
