using System.CommandLine;
using System.Globalization;
using WsGateway.Sinks;

namespace WsGateway.Cli.Sinks;

/// <summary><c>wsgw sink install kafka</c> and <c>wsgw sink list</c>: the sinks the tool does not carry
/// (<see cref="SinkPlugins"/>).</summary>
internal static class SinkCommand
{
    public static Command Create()
    {
        Argument<string> scheme = new("scheme") { Description = "The sink to install: kafka" };
        scheme.AcceptOnlyFromAmong("kafka");
        Option<string[]> source = new("--source")
        {
            Description = "A package source besides the configured ones: a folder of .nupkg files or a feed URL; repeatable",
            AllowMultipleArgumentsPerToken = true,
        };
        Option<string?> version = new("--version") { Description = "The package version (default: this wsgw's version, which the sink must match)" };
        Option<DirectoryInfo?> folder = new("--folder")
        {
            Description = $"The folder of sinks to install into (default: $WSGW_SINKS when set, else {SinkPlugins.UserFolder}); the sink goes into its <scheme> subfolder",
        };
        Command install = new("install", "Install a sink wsgw does not carry (kafka: WsGateway.Sinks.Kafka with librdkafka for this platform only), with the .NET SDK's NuGet restore")
        {
            scheme, source, version, folder,
        };
        install.SetAction(async (result, cancellationToken) =>
        {
            string name = result.GetValue(scheme)!;
            string package = SinkFactory.PackageOf(name)!;
            string target = Path.Combine(result.GetValue(folder)?.FullName
                ?? (Environment.GetEnvironmentVariable(SinkPlugins.FolderVariable) is { Length: > 0 } configured ? Path.GetFullPath(configured) : SinkPlugins.UserFolder), name);
            string packageVersion = result.GetValue(version) ?? SinkInstaller.ToolVersion;
            await Console.Error.WriteLineAsync($"wsgw sink: installing {package} {packageVersion} into {target} ...").ConfigureAwait(false);
            string? problem = await SinkInstaller.InstallAsync(package, packageVersion, target, result.GetValue(source) ?? [], Console.Error, cancellationToken).ConfigureAwait(false);
            if (problem is not null)
            {
                await Console.Error.WriteLineAsync($"wsgw sink: {name} not installed: {problem}").ConfigureAwait(false);
                return 1;
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wsgw sink: {name} installed in {target} ({SinkInstaller.SizeOf(target) / 1024.0 / 1024.0:0.0} MB)"));
            return 0;
        });

        Command list = new("list", "Show where each sink wsgw does not carry is looked for, and which are installed");
        list.SetAction(_ =>
        {
            foreach (string name in SinkFactory.Schemes)
            {
                if (SinkFactory.PackageOf(name) is not { } package)
                {
                    Console.WriteLine($"{name}: built in");
                    continue;
                }

                string? found = null;
                foreach (string candidate in SinkPlugins.Folders(name))
                {
                    if (Directory.Exists(candidate))
                    {
                        found = candidate;
                        break;
                    }
                }

                Console.WriteLine(found is null
                    ? $"{name}: not installed ({package}; wsgw sink install {name})"
                    : string.Create(CultureInfo.InvariantCulture, $"{name}: {found} ({SinkInstaller.SizeOf(found) / 1024.0 / 1024.0:0.0} MB)"));
            }

            return 0;
        });

        return new Command("sink", "Sinks wsgw does not carry: install kafka, list") { install, list };
    }
}
