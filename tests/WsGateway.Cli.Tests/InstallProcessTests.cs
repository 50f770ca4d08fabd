using System.Diagnostics;
using System.Globalization;
using WsGateway.Cli.Tests.Infrastructure;
using WsGateway.Client;
using WsGateway.Sbe;

namespace WsGateway.Cli.Tests;

/// <summary>
/// The tool as a user installs it: <c>dotnet pack</c> of this build into a folder feed, <c>dotnet tool install</c>
/// from it, the installed size, then the Kafka sink, which the tool does not carry: the error that says how to get it,
/// <c>wsgw sink install kafka</c>, and a gateway storing into Kafka with it (librdkafka's mock cluster, started by the
/// sink's own producer through <c>test.mock.num.brokers</c>: no Kafka broker can be installed here).
/// </summary>
/// <remarks>The packages get a version of their own (<c>1.0.0-install.&lt;ticks&gt;</c>) so that NuGet's package cache
/// never serves an earlier build's; those cache entries are removed at the end.</remarks>
public sealed class InstallProcessTests : IDisposable
{
    /// <summary>The installed tool's target (issue 20): linux-x64, without Kafka.</summary>
    private const long MaxInstallBytes = 15L * 1024 * 1024;

    private static readonly string[] s_packages = ["WsGateway", "WsGateway.Sbe", "WsGateway.Sinks", "WsGateway.Sinks.Kafka", "WsGateway.Cli"];
    private readonly string _work = Directory.CreateTempSubdirectory("wsgw-install-").FullName;
    private readonly string _version = "1.0.0-install." + DateTime.UtcNow.Ticks.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public async Task The_installed_tool_is_small_has_no_kafka_says_how_to_get_it_and_stores_into_kafka_once_installed()
    {
        string feed = Path.Combine(_work, "feed");
        string tools = Path.Combine(_work, "tools");
        string sinks = Path.Combine(_work, "sinks");
        string root = RepositoryRoot();
        foreach (string package in s_packages)
        {
            await RunAsync("dotnet", ["pack", Path.Combine(root, "src", package), "-c", "Release", "--no-build", "--nologo", "-o", feed, $"-p:PackageVersion={_version}"]);
        }

        await RunAsync("dotnet", ["tool", "install", "--tool-path", tools, "--add-source", feed, "WsGateway.Cli", "--version", _version]);
        string wsgw = Path.Combine(tools, "wsgw");

        // Small: everything the install put on disk, the package's own copy included; no native library, no Kafka.
        long installed = Size(tools);
        Assert.True(installed <= MaxInstallBytes, $"the installed tool takes {installed / 1024.0 / 1024.0:0.0} MB, more than the 15 MB target");
        string[] files = Directory.GetFiles(tools, "*", SearchOption.AllDirectories);
        Assert.DoesNotContain(files, f => f.Contains($"{Path.DirectorySeparatorChar}runtimes{Path.DirectorySeparatorChar}", StringComparison.Ordinal));
        Assert.DoesNotContain(files, f => Path.GetFileName(f).Contains("rdkafka", StringComparison.Ordinal) || Path.GetFileName(f) == "Confluent.Kafka.dll");

        var environment = new Dictionary<string, string> { ["WSGW_SINKS"] = sinks };

        // kafka:// before the sink is installed: one line that says what to run, exit 2, nothing listening.
        using (WsgwProcess missing = WsgwProcess.StartProgram(wsgw, environment, "serve", "--listen", "127.0.0.1:0", "--admin", "none", "--sink", "kafka://127.0.0.1:9/t"))
        {
            await missing.WaitForExitAsync();
            Assert.Equal(2, missing.ExitCode);
            string line = Assert.Single(missing.Stderr);
            Assert.Contains("the kafka sink is not installed", line, StringComparison.Ordinal);
            Assert.Contains("wsgw sink install kafka", line, StringComparison.Ordinal);
            Assert.DoesNotContain(missing.Stderr, l => l.Contains("listening on", StringComparison.Ordinal));
        }

        using (WsgwProcess install = WsgwProcess.StartProgram(wsgw, environment, "sink", "install", "kafka", "--source", feed, "--version", _version))
        {
            await install.WaitForExitAsync();
            Assert.True(install.ExitCode == 0, string.Join('\n', install.Stderr));
            Assert.Contains(install.Stdout, l => l.StartsWith($"wsgw sink: kafka installed in {Path.Combine(sinks, "kafka")}", StringComparison.Ordinal));
        }

        // This platform's librdkafka only, beside the assemblies; no runtimes/ folder of every platform's.
        string kafka = Path.Combine(sinks, "kafka");
        Assert.True(File.Exists(Path.Combine(kafka, "librdkafka.so")), "librdkafka.so was not installed");
        Assert.False(Directory.Exists(Path.Combine(kafka, "runtimes")), "the sink was installed with every platform's native libraries");

        using (WsgwProcess list = WsgwProcess.StartProgram(wsgw, environment, "sink", "list"))
        {
            await list.WaitForExitAsync();
            Assert.Contains(list.Stdout, l => l.StartsWith($"kafka: {kafka}", StringComparison.Ordinal));
            Assert.Contains("nats: built in", list.Stdout);
        }

        // A gateway storing into Kafka with the installed sink: every trade acknowledged once the producer has it.
        (WsgwProcess serve, Uri url) = await WsgwProcess.StartProgramServeAsync(wsgw, environment, "--admin", "none", "--stats-interval", "0", "--sink", "kafka://127.0.0.1:9/trades?test.mock.num.brokers=1");
        using (serve)
        {
            await using (ReliableTradeClient client = await ReliableTradeClient.ConnectAsync(url))
            {
                for (int i = 0; i < 200; i++)
                {
                    await client.SendAsync(new Trade((ulong)i + 1, (byte)'K', 10.5, 1));
                }

                using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await client.WaitForAllAcknowledgedAsync(deadline.Token);
                Assert.Equal(200, client.Acknowledged);
                await client.CloseAsync();
            }

            await serve.StopAsync();
            Assert.Equal(0, serve.ExitCode);
            Assert.Contains(serve.Stderr, l => l.Contains("sink: kafka://127.0.0.1:9/trades", StringComparison.Ordinal));
            Assert.Contains("wsgw: 1 connections, 200 trades, total quantity 200, 0 errors", serve.Stdout);
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_work, recursive: true);
        }
        catch (IOException)
        {
        }

        // This run's packages in NuGet's cache (the tool's and the sink's dependencies stay: they are shared).
        string cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (string package in s_packages)
        {
            string folder = Path.Combine(cache, package.ToLowerInvariant(), _version);
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    private static long Size(string folder)
    {
        long bytes = 0;
        foreach (FileInfo file in new DirectoryInfo(folder).EnumerateFiles("*", SearchOption.AllDirectories))
        {
            bytes += file.Length;
        }

        return bytes;
    }

    private static async Task RunAsync(string program, string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(info)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', args)} exited {process.ExitCode}:\n{await stdout}\n{await stderr}");
    }

    private static string RepositoryRoot()
    {
        DirectoryInfo? root = new(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "WsGateway.sln")))
        {
            root = root.Parent;
        }

        return root?.FullName ?? throw new InvalidOperationException($"WsGateway.sln not found above {AppContext.BaseDirectory}.");
    }
}
