using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace WsGateway.Sinks.Tests.Deployment;

/// <summary>
/// HAProxy from Debian's package (<c>./test.sh</c> installs it when missing) running <c>deploy/haproxy.cfg</c>, the
/// configuration docs/deployment.md shows, with only its addresses moved to the test's free ports: checked with
/// <c>haproxy -c</c>, then run in the foreground (<c>-db</c>) and killed at the end.
/// </summary>
internal sealed partial class Haproxy : IDisposable
{
    private readonly Process _process;
    private readonly string _config;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _log = new();

    private Haproxy(Process process, string config, int port)
    {
        _process = process;
        _config = config;
        Port = port;
    }

    /// <summary>What HAProxy logged (servers going down and up, errors).</summary>
    public IReadOnlyList<string> Log => [.. _log];

    /// <summary>The balancer's port on 127.0.0.1: what clients connect to.</summary>
    public int Port { get; }

    public Uri Url => new($"ws://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/");

    /// <summary>deploy/haproxy.cfg of the repository.</summary>
    public static string Template() => File.ReadAllText(Path.Combine(RepositoryRoot(), "deploy", "haproxy.cfg"));

    /// <summary>The template with its frontend on <paramref name="port"/> and its three servers on the gateways'
    /// ports (gateway and admin); nothing else changed.</summary>
    public static string Render(string template, int port, IReadOnlyList<(int Port, int Admin)> gateways)
    {
        string config = Bind().Replace(template, $"bind 127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}", 1);
        MatchCollection servers = Server().Matches(config);
        Assert.Equal(gateways.Count, servers.Count);
        for (int i = servers.Count - 1; i >= 0; i--)
        {
            Match server = servers[i];
            string replaced = string.Create(CultureInfo.InvariantCulture, $"server {server.Groups["name"].Value} 127.0.0.1:{gateways[i].Port} check port {gateways[i].Admin}");
            config = string.Concat(config.AsSpan(0, server.Index), replaced, config.AsSpan(server.Index + server.Length));
        }

        return config;
    }

    /// <summary>Checks <paramref name="config"/> with <c>haproxy -c</c>: the exit code and what it printed.</summary>
    public static async Task<(int ExitCode, string Output)> CheckAsync(string config)
    {
        string file = Path.Combine(Path.GetTempPath(), $"wsgw-haproxy-{Guid.NewGuid():N}.cfg");
        await File.WriteAllTextAsync(file, config);
        try
        {
            using Process check = Process.Start(new ProcessStartInfo(FindHaproxy(), ["-c", "-f", file]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            string output = await check.StandardOutput.ReadToEndAsync() + await check.StandardError.ReadToEndAsync();
            await check.WaitForExitAsync();
            return (check.ExitCode, output);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>Starts HAProxy on <paramref name="config"/> (checked first) and returns once its frontend accepts.</summary>
    public static async Task<Haproxy> StartAsync(string config, int port)
    {
        (int exit, string output) = await CheckAsync(config);
        Assert.True(exit == 0, $"haproxy -c refused the configuration:\n{output}");
        string file = Path.Combine(Path.GetTempPath(), $"wsgw-haproxy-{Guid.NewGuid():N}.cfg");
        await File.WriteAllTextAsync(file, config);
        var info = new ProcessStartInfo(FindHaproxy(), ["-db", "-f", file]) { RedirectStandardOutput = true, RedirectStandardError = true };
        Process process = Process.Start(info)!;
        var haproxy = new Haproxy(process, file, port);
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => haproxy.Collect(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", port);
                return haproxy;
            }
            catch (SocketException) when (clock.Elapsed < TimeSpan.FromSeconds(10) && !process.HasExited)
            {
                await Task.Delay(50);
            }
            catch (SocketException e)
            {
                await Task.Delay(200);
                haproxy.Dispose();
                throw new InvalidOperationException($"haproxy did not listen on port {port}: {e.Message}\n{string.Join('\n', haproxy.Log)}", e);
            }
        }
    }

    private void Collect(string? line)
    {
        // "<1>Server ..." repeats each "[WARNING] ... Server ..." line in syslog form: keep one of them.
        if (line is not null && !line.StartsWith('<'))
        {
            _log.Enqueue(line);
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(5000);
        }

        _process.Dispose();
        File.Delete(_config);
    }

    private static string FindHaproxy()
    {
        foreach (string candidate in (string[])["/usr/sbin/haproxy", "/usr/bin/haproxy", "/usr/local/sbin/haproxy"])
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return "haproxy"; // on PATH, or the start fails and says so
    }

    internal static string RepositoryRoot()
    {
        DirectoryInfo? root = new(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "WsGateway.sln")))
        {
            root = root.Parent;
        }

        return root?.FullName ?? throw new InvalidOperationException($"WsGateway.sln not found above {AppContext.BaseDirectory}.");
    }

    [GeneratedRegex(@"bind 127\.0\.0\.1:\d+")]
    private static partial Regex Bind();

    [GeneratedRegex(@"server (?<name>\S+) \S+ check port \d+")]
    private static partial Regex Server();
}
