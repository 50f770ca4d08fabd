using System.Diagnostics;

namespace WsGateway.Cli.Tests.Infrastructure;

/// <summary><c>wsgw</c> run from a given folder (relative paths as a user types them, e.g. the README's commands
/// from the repository root) and with bytes on its standard input (<c>--file -</c>).</summary>
internal sealed partial class WsgwProcess
{
    /// <summary>The repository root (the folder of WsGateway.sln above the test assembly).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>Starts <c>wsgw</c> in <paramref name="workingDirectory"/>; <paramref name="standardInput"/>, when
    /// given, is written to its standard input, which is then closed.</summary>
    public static WsgwProcess StartIn(string workingDirectory, byte[]? standardInput, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = standardInput is not null,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        info.ArgumentList.Add(WsgwDll);
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        WsgwProcess wsgw = Launch(info);
        if (standardInput is not null)
        {
            Stream input = wsgw._process.StandardInput.BaseStream;
            input.Write(standardInput);
            input.Flush();
            wsgw._process.StandardInput.Close();
        }

        return wsgw;
    }

    /// <summary>Runs <c>wsgw</c> to its end in <paramref name="workingDirectory"/>, with <paramref name="standardInput"/>.</summary>
    public static async Task<WsgwProcess> RunInAsync(string workingDirectory, byte[]? standardInput, params string[] args)
    {
        WsgwProcess wsgw = StartIn(workingDirectory, standardInput, args);
        await wsgw.WaitForExitAsync();
        return wsgw;
    }

    /// <summary><c>wsgw serve</c> in <paramref name="workingDirectory"/>, once its banner gives the gateway's URL.</summary>
    public static Task<(WsgwProcess Process, Uri Url)> StartServeInAsync(string workingDirectory, params string[] args)
        => WaitForBannerAsync(StartIn(workingDirectory, null, ["serve", .. args]));

    private static string FindRepoRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "WsGateway.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"WsGateway.sln not found above {AppContext.BaseDirectory}.");
    }
}
