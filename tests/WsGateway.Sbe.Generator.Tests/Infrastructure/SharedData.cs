namespace WsGateway.Sbe.Generator.Tests.Infrastructure;

/// <summary>Finds the shared SBE reference data: <c>../shared/sbe</c> next to the repository root.</summary>
internal static class SharedData
{
    public static byte[] Bytes(params string[] parts) => File.ReadAllBytes(Path(parts));

    private static readonly Lazy<string> s_root = new(FindRoot);

    /// <summary>The <c>shared/sbe</c> folder; throws with a clear message when it is missing (tests must not skip silently).</summary>
    public static string SbeRoot => s_root.Value;

    public static string Path(params string[] parts) => System.IO.Path.Combine([SbeRoot, .. parts]);

    public static string RepoRoot
    {
        get
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

    private static string FindRoot()
    {
        string sbe = System.IO.Path.GetFullPath(System.IO.Path.Combine(RepoRoot, "..", "shared", "sbe"));
        if (!Directory.Exists(sbe))
        {
            throw new InvalidOperationException(
                $"The shared SBE reference data was not found at {sbe}. These tests need the schemas and vectors of shared/sbe next to the repository (see shared/sbe/README.md).");
        }

        return sbe;
    }
}
