using System.Security.Cryptography;
using System.Text.RegularExpressions;

using WsGateway.Sbe.Generator.Tests.Infrastructure;

namespace WsGateway.Sbe.Schema.Tests;

/// <summary>
/// tests/data/sbe holds only what may be redistributed, each source with its licence and README, and its vectors are
/// the files its README's checksums name; the reference folder is found only through WSGW_SBE_REFERENCE.
/// </summary>
public sealed partial class DataFolderTests
{
    [Fact]
    public void Every_vector_matches_the_checksum_in_the_README_and_every_vector_is_listed()
    {
        string readme = File.ReadAllText(SbeData.Path("README.md"));
        Dictionary<string, string> listed = ChecksumLine().Matches(readme).ToDictionary(m => m.Groups[2].Value, m => m.Groups[1].Value);
        Assert.Equal(11, listed.Count);

        foreach ((string file, string sha256) in listed)
        {
            string path = SbeData.Path(file.Split('/'));
            Assert.True(File.Exists(path), $"{file} is listed in tests/data/sbe/README.md but missing");
            Assert.Equal(sha256, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))));
        }

        string[] vectors = [.. Directory.EnumerateFiles(SbeData.Path("vectors"), "*", SearchOption.AllDirectories)
            .Where(f => Path.GetExtension(f) is ".sbe" or ".bin")
            .Select(f => Path.GetRelativePath(SbeData.Root, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)];
        Assert.Equal(listed.Keys.Order(StringComparer.Ordinal), vectors);
    }

    [Theory]
    [InlineData("reallogic", "LICENSE-Apache-2.0.txt")]
    [InlineData("fix-spec", "LICENSE-CC-BY-ND-4.0.txt")]
    [InlineData("vectors/car", "LICENSE-Apache-2.0.txt")]
    [InlineData("vectors/fix-spec", "LICENSE-CC-BY-ND-4.0.txt")]
    [InlineData("vectors/binance/nautilus-spot-3_2", "COPYING.LESSER")]
    [InlineData("vectors/binance/nautilus-spot-3_2", "COPYING")]
    [InlineData("wsgateway", null)]
    public void Every_source_folder_has_its_README_and_licence(string folder, string? licence)
    {
        string directory = SbeData.Path(folder.Split('/'));
        Assert.True(File.Exists(Path.Combine(directory, "README.md")), $"{folder}/README.md missing");
        if (licence is not null)
        {
            Assert.True(new FileInfo(Path.Combine(directory, licence)).Length > 5000, $"{folder}/{licence} missing or cut");
        }
    }

    [Fact]
    public void No_exchange_schema_or_capture_without_a_licence_is_in_the_repository()
    {
        Assert.False(Directory.Exists(SbeData.Path("exchanges")));
        Assert.False(Directory.Exists(SbeData.Path("vectors", "cme-mdp3")));
        string[] files = [.. Directory.EnumerateFiles(SbeData.Root, "*", SearchOption.AllDirectories).Select(Path.GetFileName)!];
        Assert.DoesNotContain(files, f => f!.StartsWith("kyber", StringComparison.Ordinal) || f.EndsWith(".pcap", StringComparison.Ordinal));
        Assert.DoesNotContain(files, f => f!.StartsWith("spot_", StringComparison.Ordinal) || f.StartsWith("stream_", StringComparison.Ordinal));
        Assert.DoesNotContain(files, f => f!.StartsWith("Cme.", StringComparison.Ordinal) || f.StartsWith("B3.", StringComparison.Ordinal)
            || f.StartsWith("Coinbase.", StringComparison.Ordinal) || f.StartsWith("24X.", StringComparison.Ordinal));
    }

    [Fact]
    public void Only_the_CI_script_refers_to_the_workspace_folder_beside_the_repository()
    {
        string[] needles = ["../" + "shared", "shared" + "/sbe", "..\\" + "shared"];
        var found = new List<string>();
        foreach (string file in RepositoryFiles(SbeData.RepoRoot))
        {
            string text = File.ReadAllText(file);
            if (needles.Any(n => text.Contains(n, StringComparison.Ordinal)))
            {
                found.Add(Path.GetRelativePath(SbeData.RepoRoot, file).Replace('\\', '/'));
            }
        }

        Assert.Equal([".ci/run"], found);
    }

    [Fact]
    public void Reference_folder_unset_or_wrong_fails_with_what_was_expected()
    {
        var unset = Assert.Throws<InvalidOperationException>(() => ReferenceData.Resolve(null));
        Assert.Contains("WSGW_SBE_REFERENCE is not set", unset.Message, StringComparison.Ordinal);
        Assert.Contains("./test.sh --reference DIR", unset.Message, StringComparison.Ordinal);

        // The repository's own folder is not a reference folder: it has no exchanges/.
        var wrong = Assert.Throws<InvalidOperationException>(() => ReferenceData.Resolve(SbeData.Root));
        Assert.Contains($"WSGW_SBE_REFERENCE is '{SbeData.Root}'", wrong.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(SbeData.Root, "exchanges") + " does not exist", wrong.Message, StringComparison.Ordinal);

        string folder = Directory.CreateTempSubdirectory("wsgw-reference-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(folder, "exchanges"));
            Assert.Equal(folder, ReferenceData.Resolve(folder));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>The repository's text files, without build output, git's own files and npm packages.</summary>
    private static IEnumerable<string> RepositoryFiles(string directory)
    {
        foreach (string file in Directory.EnumerateFiles(directory))
        {
            if (Path.GetExtension(file) is not (".bin" or ".sbe" or ".pcap" or ".png" or ".dll"))
            {
                yield return file;
            }
        }

        foreach (string sub in Directory.EnumerateDirectories(directory))
        {
            if (Path.GetFileName(sub) is not (".git" or "bin" or "obj" or "node_modules" or "TestResults" or "artifacts"))
            {
                foreach (string file in RepositoryFiles(sub))
                {
                    yield return file;
                }
            }
        }
    }

    [GeneratedRegex(@"^([0-9a-f]{64})  (\S+)$", RegexOptions.Multiline)]
    private static partial Regex ChecksumLine();
}
