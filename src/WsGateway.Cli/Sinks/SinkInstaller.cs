using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security;

namespace WsGateway.Cli.Sinks;

/// <summary>
/// <c>wsgw sink install kafka</c>: restores the sink's package (<c>WsGateway.Sinks.Kafka</c>, the version of this
/// <c>wsgw</c>) with the .NET SDK that installed the tool, publishes it for this machine's runtime identifier only
/// (librdkafka for <c>linux-x64</c>, not for seven platforms) into a staging folder, and moves that into place.
/// NuGet does the work (sources, the package cache, signatures, proxies from the user's NuGet.config); a project of
/// three lines in a temporary folder is how the SDK is asked for it.
/// </summary>
internal static class SinkInstaller
{
    /// <summary>The file name (without .dll) of the assembly the install publishes beside the sink; its .deps.json
    /// lists the sink's assemblies and native library.</summary>
    public static string EntryName(string package) => "wsgw-sink-" + package[(package.LastIndexOf('.') + 1)..].ToLowerInvariant();

    /// <summary>A package version from an informational version (<c>1.2.0+3f2c…</c> → <c>1.2.0</c>).</summary>
    public static string? PackageVersion(string? informational)
        => informational is null ? null : informational.Split('+')[0];

    /// <summary>This <c>wsgw</c>'s version, which the sink's package must have.</summary>
    public static string ToolVersion
        => PackageVersion(typeof(SinkInstaller).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion) ?? "1.0.0";

    /// <summary>Installs <paramref name="package"/> into <paramref name="target"/> (replacing what is there).</summary>
    /// <param name="package">The package: <c>WsGateway.Sinks.Kafka</c>.</param>
    /// <param name="version">The package version.</param>
    /// <param name="target">The sink's folder: <c>~/.local/share/wsgw/sinks/kafka</c>.</param>
    /// <param name="sources">Package sources besides the user's configured ones (a folder of .nupkg files, a feed URL).</param>
    /// <param name="log">Where dotnet's output goes when it fails (standard error).</param>
    /// <param name="cancellationToken">Stops the install; the target is left as it was.</param>
    /// <returns>null when installed, else what went wrong, in one line.</returns>
    public static async Task<string?> InstallAsync(string package, string version, string target, IReadOnlyList<string> sources, TextWriter log, CancellationToken cancellationToken)
    {
        string work = Directory.CreateTempSubdirectory("wsgw-sink-").FullName;
        try
        {
            string entry = EntryName(package);
            string project = Path.Combine(work, entry + ".csproj");
            string rid = RuntimeInformation.RuntimeIdentifier;
            string feeds = string.Join(';', sources.Select(s => Directory.Exists(s) ? Path.GetFullPath(s) : s));
            await File.WriteAllTextAsync(project, string.Create(CultureInfo.InvariantCulture, $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <TargetFramework>net{Environment.Version.Major}.{Environment.Version.Minor}</TargetFramework>
                    <RuntimeIdentifier>{rid}</RuntimeIdentifier>
                    <SelfContained>false</SelfContained>
                    <EnableDynamicLoading>true</EnableDynamicLoading>
                    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
                    <RestoreAdditionalProjectSources>{SecurityElement.Escape(feeds)}</RestoreAdditionalProjectSources>
                    <GenerateDocumentationFile>false</GenerateDocumentationFile>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="{SecurityElement.Escape(package)}" Version="[{SecurityElement.Escape(version)}]" />
                  </ItemGroup>
                </Project>
                """), cancellationToken).ConfigureAwait(false);

            // A Directory.Build.props or global.json above the temporary folder must not change the build.
            await File.WriteAllTextAsync(Path.Combine(work, "Directory.Build.props"), "<Project />", cancellationToken).ConfigureAwait(false);
            await File.WriteAllTextAsync(Path.Combine(work, "Directory.Build.targets"), "<Project />", cancellationToken).ConfigureAwait(false);
            await File.WriteAllTextAsync(Path.Combine(work, "Directory.Packages.props"), "<Project />", cancellationToken).ConfigureAwait(false);

            string staging = Path.Combine(work, "out");
            (int exit, string output) = await RunDotnetAsync(work, ["publish", project, "-c", "Release", "-o", staging, "--nologo", "-v", "quiet"], cancellationToken).ConfigureAwait(false);
            if (exit != 0)
            {
                await log.WriteAsync(output).ConfigureAwait(false);
                return exit == -1 ? output.Trim()
                    : $"dotnet publish of {package} {version} for {rid} failed (exit {exit}; its output is above). Is the package on a source? --source adds a folder or feed";
            }

            string parent = Path.GetDirectoryName(Path.GetFullPath(target))!;
            Directory.CreateDirectory(parent);
            string old = target + ".old-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
            if (Directory.Exists(target))
            {
                Directory.Move(target, old);
            }

            CopyDirectory(staging, target);
            if (Directory.Exists(old))
            {
                Directory.Delete(old, recursive: true);
            }

            return null;
        }
        finally
        {
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>The size of a folder and everything under it, in bytes.</summary>
    public static long SizeOf(string folder)
    {
        long bytes = 0;
        foreach (FileInfo file in new DirectoryInfo(folder).EnumerateFiles("*", SearchOption.AllDirectories))
        {
            bytes += file.Length;
        }

        return bytes;
    }

    // A move across file systems (/tmp to the home folder) is a copy.
    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string destination = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination, overwrite: true);
        }
    }

    private static async Task<(int Exit, string Output)> RunDotnetAsync(string directory, string[] args, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // Not the tool's own environment: `dotnet wsgw.dll` under a test host sets variables meant for that host.
        info.Environment.Remove("MSBuildExtensionsPath");
        info.Environment.Remove("MSBUILD_EXE_PATH");
        info.Environment.Remove("MSBuildSDKsPath");
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, $"the .NET SDK's dotnet command is needed to install a sink and could not be started: {e.Message}");
        }

        using (process)
        {
            Task<string> stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            Task<string> stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            try
            {
                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            return (process.ExitCode, await stdout.ConfigureAwait(false) + await stderr.ConfigureAwait(false));
        }
    }
}
