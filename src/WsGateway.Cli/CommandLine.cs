using System.CommandLine;

namespace WsGateway.Cli;

/// <summary>How <c>wsgw</c> runs its commands: usage errors are one line each on standard error and exit code 2.</summary>
internal static class CommandLine
{
    /// <summary>The exit code of a command line that does not parse (a bad option value, an unknown option).</summary>
    public const int UsageError = 2;

    /// <summary>Parses <paramref name="args"/>; on errors writes each as one line, <c>wsgw serve: ...</c>, to
    /// <paramref name="error"/> (standard error when null) and returns <see cref="UsageError"/> without running
    /// anything. Otherwise runs the command and returns its exit code.</summary>
    /// <remarks>System.CommandLine's own handling of parse errors prints the whole help to standard output after the
    /// error and exits 1: a wrong value then hides in a screen of help, and scripts cannot tell it from a failed run.</remarks>
    public static async Task<int> InvokeAsync(RootCommand root, string[] args, TextWriter? error = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count == 0)
        {
            return await parsed.InvokeAsync().ConfigureAwait(false);
        }

        error ??= Console.Error;
        string name = parsed.CommandResult.Command == root ? "wsgw" : $"wsgw {parsed.CommandResult.Command.Name}";
        foreach (System.CommandLine.Parsing.ParseError problem in parsed.Errors)
        {
            await error.WriteLineAsync($"{name}: {problem.Message} (see {name} --help)").ConfigureAwait(false);
        }

        return UsageError;
    }
}
