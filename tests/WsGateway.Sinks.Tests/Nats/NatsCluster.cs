using System.Diagnostics;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using WsGateway.Sinks.Tests.Infrastructure;

namespace WsGateway.Sinks.Tests.Nats;

/// <summary>
/// A three-node JetStream cluster of real <c>nats-server</c> processes on 127.0.0.1: own client and route ports, own
/// temp store folders, killed and deleted at the end. Nodes can be killed with SIGKILL and started again on the same
/// ports and store. <c>./test.sh</c> installs nats-server (apt) when it is missing.
/// </summary>
public sealed class NatsCluster : IAsyncLifetime
{
    private static readonly TimeSpan s_ready = TimeSpan.FromSeconds(30);

    private readonly string _root = Directory.CreateTempSubdirectory("wsgw-nats-").FullName;
    private readonly int[] _clientPorts;
    private readonly int[] _routePorts;
    private readonly Process?[] _nodes = new Process?[3];

    public NatsCluster()
    {
        int[] ports = FreePorts.Take(6);
        _clientPorts = ports[..3];
        _routePorts = ports[3..];
    }

    /// <summary>Every node's URL, comma-separated, as NatsOpts.Url and the nats:// sink take them.</summary>
    public string Url => string.Join(',', _clientPorts.Select(p => $"nats://127.0.0.1:{p}"));

    /// <summary>The hosts for a <c>--sink nats://...</c> value.</summary>
    public string Hosts => string.Join(',', _clientPorts.Select(p => $"127.0.0.1:{p}"));

    public async Task InitializeAsync()
    {
        string server = FindServer();
        for (int i = 0; i < 3; i++)
        {
            Start(i, server);
        }

        await WaitForJetStreamAsync();
    }

    public Task DisposeAsync()
    {
        for (int i = 0; i < 3; i++)
        {
            Kill(i);
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }

        return Task.CompletedTask;
    }

    /// <summary>SIGKILL: no shutdown, no flush.</summary>
    public void Kill(int node)
    {
        if (_nodes[node] is { } process)
        {
            if (!process.HasExited)
            {
                process.Kill(); // SIGKILL ends a stopped (SIGSTOP) process too
                process.WaitForExit(10_000);
            }

            process.Dispose();
            _nodes[node] = null;
        }
    }

    /// <summary>SIGSTOP (<paramref name="stop"/>) or SIGCONT: the node freezes with its connections open, answering
    /// nothing, then goes on where it was.</summary>
    public void Freeze(int node, bool stop)
    {
        using Process kill = Process.Start("kill", $"{(stop ? "-STOP" : "-CONT")} {_nodes[node]!.Id}");
        kill.WaitForExit(10_000);
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill {(stop ? "-STOP" : "-CONT")} of node n{node} failed with exit code {kill.ExitCode}");
        }
    }

    /// <summary>Starts a killed node again, same ports and store.</summary>
    public void Restart(int node, bool ifKilled = false)
    {
        if (ifKilled && _nodes[node] is not null)
        {
            return;
        }

        Start(node, FindServer());
    }

    /// <summary>The index of the node named <paramref name="serverName"/> (n0, n1, n2).</summary>
    public static int NodeIndex(string serverName) => serverName[^1] - '0';

    public NatsConnection Connect() => new(NatsOpts.Default with { Url = Url, Name = "wsgw-tests", RequestTimeout = TimeSpan.FromSeconds(5) });

    /// <summary>Waits until the meta leader is elected and a stream with 3 replicas can be created (bounded).</summary>
    public async Task WaitForJetStreamAsync()
    {
        await using NatsConnection nats = Connect();
        var js = new NatsJSContext(nats);
        var clock = Stopwatch.StartNew();
        string probe = "PROBE_" + Guid.NewGuid().ToString("N")[..8];
        Exception? last = null;
        while (clock.Elapsed < s_ready)
        {
            try
            {
                await js.CreateStreamAsync(new StreamConfig(probe, [probe.ToLowerInvariant()]) { NumReplicas = 3, Storage = StreamConfigStorage.Memory });
                await js.DeleteStreamAsync(probe);
                return;
            }
            catch (Exception e) when (e is NatsException or NatsJSApiException or TimeoutException or OperationCanceledException)
            {
                last = e;
                await Task.Delay(200);
            }
        }

        throw new TimeoutException($"the JetStream cluster at {Url} was not ready within {s_ready.TotalSeconds} s: {last?.Message}");
    }

    /// <summary>The node that leads <paramref name="stream"/> (it takes the stream's writes), once there is one.</summary>
    public async Task<int> LeaderOfAsync(string stream)
    {
        await using NatsConnection nats = Connect();
        var js = new NatsJSContext(nats);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < s_ready)
        {
            INatsJSStream info = await js.GetStreamAsync(stream);
            if (info.Info.Cluster?.Leader is { Length: > 0 } leader)
            {
                return NodeIndex(leader);
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"stream {stream} has no leader after {s_ready.TotalSeconds} s");
    }

    /// <summary>Waits until every replica of <paramref name="stream"/> is current (after a node came back).</summary>
    public async Task WaitForReplicasAsync(string stream)
    {
        await using NatsConnection nats = Connect();
        var js = new NatsJSContext(nats);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < s_ready)
        {
            try
            {
                INatsJSStream info = await js.GetStreamAsync(stream);
                ClusterInfo? cluster = info.Info.Cluster;
                if (cluster?.Leader is not null && cluster.Replicas is { Count: 2 } replicas && replicas.All(r => r.Current && !r.Offline))
                {
                    return;
                }
            }
            catch (Exception e) when (e is NatsException or NatsJSApiException or TimeoutException or OperationCanceledException)
            {
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"stream {stream}: its replicas were not all current within {s_ready.TotalSeconds} s");
    }

    private void Start(int node, string server)
    {
        string store = Path.Combine(_root, $"n{node}");
        Directory.CreateDirectory(store);
        var info = new ProcessStartInfo(server) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in (string[])[
            "-a", "127.0.0.1", "-p", _clientPorts[node].ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-n", $"n{node}", "-js", "-sd", store,
            "--cluster_name", "wsgw", "--cluster", $"nats://127.0.0.1:{_routePorts[node]}",
            "--routes", string.Join(',', _routePorts.Where((_, i) => i != node).Select(p => $"nats://127.0.0.1:{p}")),
        ])
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {server}");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _nodes[node] = process;
    }

    private static string FindServer()
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Append("/usr/sbin").Append("/usr/bin"))
        {
            string candidate = Path.Combine(dir, "nats-server");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("nats-server is not installed: ./test.sh installs it (apt-get install nats-server)");
    }
}

[CollectionDefinition(Name)]
public sealed class NatsClusterCollection : ICollectionFixture<NatsCluster>
{
    public const string Name = "nats cluster";
}
