using System.Text;
using WsGateway.Cli.Tests.Infrastructure;

namespace WsGateway.Cli.Tests;

/// <summary>The README's commands as a user copies them: the fenced block after a <c>readme-test</c> marker is read
/// from README.md and run with the built tool from the repository root, so a README edit that breaks them fails
/// here.</summary>
public sealed class ReadmeProcessTests
{
    private const string SchemaPairMarker = "<!-- readme-test: schema-pair";

    [Fact]
    public async Task The_readme_serve_and_send_pair_works_as_written()
    {
        IReadOnlyList<string[]> commands = ReadBlock(SchemaPairMarker);
        string[] serveArgs = Assert.Single(commands, c => c[0] == "serve");
        string[] sendArgs = Assert.Single(commands, c => c[0] == "send");
        Assert.Equal(2, commands.Count);

        // As written, with a free port instead of 9001 (other tests run at the same time) and no admin endpoint.
        (WsgwProcess serve, Uri url) = await WsgwProcess.StartServeInAsync(WsgwProcess.RepoRoot, [.. serveArgs[1..], "--listen", "127.0.0.1:0", "--admin", "none"]);
        using WsgwProcess _ = serve;
        using WsgwProcess send = await WsgwProcess.RunInAsync(WsgwProcess.RepoRoot, null, [.. sendArgs, "--url", url.ToString()]);

        Assert.True(send.ExitCode == 0, $"send exited {send.ExitCode}:\n{string.Join('\n', send.Stdout.Concat(send.Stderr))}");
        Assert.Equal("wsgw send: closes: 1x 1000", send.Stdout[^1]);

        // serve prints every message sent, as the very lines of the file sent.
        string file = sendArgs[Array.IndexOf(sendArgs, "--file") + 1];
        string[] expected = File.ReadAllLines(Path.Combine(WsgwProcess.RepoRoot, file));
        Assert.NotEmpty(expected);
        await serve.WaitForStdoutLinesAsync(expected.Length);
        await serve.StopAsync();
        Assert.Equal(0, serve.ExitCode);
        Assert.Equal(expected, serve.Stdout);
    }

    [Fact]
    public void The_readme_shows_the_first_and_last_lines_serve_prints()
    {
        string readme = File.ReadAllText(Path.Combine(WsgwProcess.RepoRoot, "README.md"));
        string[] sendArgs = Assert.Single(ReadBlock(SchemaPairMarker), c => c[0] == "send");
        string[] lines = File.ReadAllLines(Path.Combine(WsgwProcess.RepoRoot, sendArgs[Array.IndexOf(sendArgs, "--file") + 1]));

        Assert.Contains(lines[0], readme, StringComparison.Ordinal);
        Assert.Contains(lines[^1], readme, StringComparison.Ordinal);
    }

    /// <summary>The <c>wsgw</c> commands of the fenced block after <paramref name="marker"/>: each line's words
    /// after <c>wsgw</c>, without its comment and a trailing <c>&amp;</c>.</summary>
    private static IReadOnlyList<string[]> ReadBlock(string marker)
    {
        string[] readme = File.ReadAllLines(Path.Combine(WsgwProcess.RepoRoot, "README.md"));
        int at = Array.FindIndex(readme, l => l.StartsWith(marker, StringComparison.Ordinal));
        Assert.True(at >= 0, $"README.md has no line starting with {marker}");
        Assert.StartsWith("```", readme[at + 1], StringComparison.Ordinal);

        var commands = new List<string[]>();
        for (int i = at + 2; i < readme.Length && !readme[i].StartsWith("```", StringComparison.Ordinal); i++)
        {
            List<string> words = Words(readme[i]);
            if (words.Count == 0)
            {
                continue;
            }

            Assert.True(words[0] == "wsgw", $"README.md line {i + 1}: expected a wsgw command, got {readme[i]}");
            commands.Add([.. words.Skip(1)]);
        }

        return commands;
    }

    /// <summary>A shell line's words: single and double quotes group, <c>#</c> after a space starts a comment, a
    /// trailing <c>&amp;</c> (run in the background) is dropped.</summary>
    private static List<string> Words(string line)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        bool inWord = false;
        char quote = '\0';
        foreach (char c in line)
        {
            if (quote != '\0')
            {
                if (c == quote)
                {
                    quote = '\0';
                }
                else
                {
                    word.Append(c);
                }
            }
            else if (c is '\'' or '"')
            {
                quote = c;
                inWord = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord)
                {
                    words.Add(word.ToString());
                    word.Clear();
                    inWord = false;
                }
            }
            else if (c == '#' && !inWord)
            {
                break;
            }
            else
            {
                word.Append(c);
                inWord = true;
            }
        }

        if (inWord)
        {
            words.Add(word.ToString());
        }

        if (words.Count > 0 && words[^1] == "&")
        {
            words.RemoveAt(words.Count - 1);
        }

        return words;
    }
}
