using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace WsGateway.Browser.Tests;

/// <summary>
/// Finds node, Debian's chromium and the pinned playwright-core (<c>js/package-lock.json</c>), and runs the page
/// script. Anything missing fails the test with what to install: a browser test that silently skips proves nothing.
/// </summary>
internal static class BrowserTools
{
    public const string DefaultChromium = "/usr/bin/chromium";

    public static string RepositoryRoot { get; } = FindRoot();

    public static string ScriptDirectory => Path.Combine(RepositoryRoot, "tests", "WsGateway.Browser.Tests", "js");

    /// <summary>Where screenshots go (git-ignored): <c>TestResults/browser/</c> at the repository root.</summary>
    public static string ArtifactDirectory(string name)
    {
        string directory = Path.Combine(RepositoryRoot, "TestResults", "browser", name);
        Directory.CreateDirectory(directory);
        return directory;
    }

    public static string Chromium()
    {
        string path = Environment.GetEnvironmentVariable("WSGW_CHROMIUM") is { Length: > 0 } custom ? custom : DefaultChromium;
        Assert.True(File.Exists(path), $"chromium was not found at {path}. Run ./test.sh, which installs Debian's chromium (apt-get install --no-install-recommends chromium); never a downloaded browser.");
        return path;
    }

    public static string Node()
    {
        string? node = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, "node"))
            .FirstOrDefault(File.Exists);
        Assert.True(node is not null, "node was not found on PATH: the browser tests need Node.js 20 or later (apt-get install nodejs npm), then ./test.sh.");
        string playwright = Path.Combine(ScriptDirectory, "node_modules", "playwright-core", "package.json");
        Assert.True(File.Exists(playwright), $"playwright-core is not installed in {ScriptDirectory}: run ./test.sh, or there: PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci");
        return node!;
    }

    /// <summary>Runs <c>js/{script}</c> with one JSON argument and returns the JSON line it prints.</summary>
    public static async Task<JsonElement> RunScriptAsync(string script, object argument, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(Node())
        {
            WorkingDirectory = ScriptDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(ScriptDirectory, script));
        start.ArgumentList.Add(JsonSerializer.Serialize(argument));
        start.Environment["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1";

        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{script} did not finish within {timeout.TotalSeconds:0} s. Standard error:\n{await stderr}");
        }

        string output = await stdout;
        string errors = await stderr;
        Assert.True(process.ExitCode == 0, $"{script} failed with exit code {process.ExitCode}:\n{errors}\n{output}");
        string? line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
        Assert.True(line is not null, $"{script} printed nothing. Standard error:\n{errors}");
        using JsonDocument document = JsonDocument.Parse(Encoding.UTF8.GetBytes(line));
        return document.RootElement.Clone();
    }

    private static string FindRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "WsGateway.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"WsGateway.sln was not found above {AppContext.BaseDirectory}");
    }
}
