using System.Globalization;

namespace WsGateway.Sbe.Generator.Tests.Infrastructure;

/// <summary>
/// The SBE test data in the repository, <c>tests/data/sbe</c> (see its README: Real Logic's schemas and Car vectors, the
/// FIX specification's examples, the nautilus_trader captures, and the project's own schemas and vectors).
/// </summary>
internal static class SbeData
{
    private static readonly Lazy<string> s_repoRoot = new(FindRepoRoot);

    public static string RepoRoot => s_repoRoot.Value;

    public static string Root => System.IO.Path.Combine(RepoRoot, "tests", "data", "sbe");

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    public static byte[] Bytes(params string[] parts) => File.ReadAllBytes(Path(parts));

    /// <summary>
    /// The bytes of a hand-written <c>.hex</c> vector: pairs of hex digits separated by white space; <c>#</c> starts a
    /// comment that runs to the end of the line.
    /// </summary>
    public static byte[] Hex(params string[] parts)
    {
        var bytes = new List<byte>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(Path(parts)))
        {
            lineNumber++;
            int comment = line.IndexOf('#', StringComparison.Ordinal);
            string data = comment < 0 ? line : line[..comment];
            foreach (string token in data.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            {
                if (token.Length != 2 || !byte.TryParse(token, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out byte value))
                {
                    throw new FormatException($"{Path(parts)}:{lineNumber}: '{token}' is not a byte: expected two hex digits.");
                }

                bytes.Add(value);
            }
        }

        return [.. bytes];
    }

    private static string FindRepoRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "WsGateway.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"WsGateway.sln not found above {AppContext.BaseDirectory}.");
    }
}

/// <summary>
/// The reference folder: exchange schemas and captures that the repository has no licence to redistribute (Binance,
/// CME, B3, Coinbase, MEMX; see docs/sbe-generator.md, "Tests"), laid out like <c>tests/data/sbe</c> with
/// <c>exchanges/</c> and <c>vectors/</c>. The tests that read it carry <c>[Trait("Category", "Reference")]</c>;
/// <c>./test.sh --reference DIR</c> exports <see cref="EnvironmentVariable"/> and runs them, <c>./test.sh</c> alone
/// leaves them out. Run without the variable, such a test fails with a message saying so; it never passes.
/// </summary>
internal static class ReferenceData
{
    public const string EnvironmentVariable = "WSGW_SBE_REFERENCE";

    private static readonly Lazy<string> s_root = new(() => Resolve(Environment.GetEnvironmentVariable(EnvironmentVariable)));

    public static string Root => s_root.Value;

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    public static byte[] Bytes(params string[] parts) => File.ReadAllBytes(Path(parts));

    /// <summary>The reference folder named by <paramref name="folder"/>; throws a message saying what is missing.</summary>
    internal static string Resolve(string? folder)
    {
        if (string.IsNullOrWhiteSpace(folder))
        {
            throw new InvalidOperationException(
                $"This test belongs to the reference suite: it reads exchange schemas and captures that are not in the repository. "
                + $"{EnvironmentVariable} is not set: expected a folder laid out like tests/data/sbe that holds exchanges/ and vectors/. "
                + "Run ./test.sh --reference DIR, or leave the suite out with --filter Category!=Reference.");
        }

        string full = System.IO.Path.GetFullPath(folder);
        string exchanges = System.IO.Path.Combine(full, "exchanges");
        if (!Directory.Exists(exchanges))
        {
            throw new InvalidOperationException(
                $"{EnvironmentVariable} is '{folder}', but {exchanges} does not exist: expected a folder laid out like tests/data/sbe "
                + "that holds exchanges/ (binance, cme, b3, coinbase, memx-24x) and vectors/ (binance, cme-mdp3).");
        }

        return full;
    }
}
