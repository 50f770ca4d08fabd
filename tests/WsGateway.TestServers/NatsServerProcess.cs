using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace WsGateway.Testing;

/// <summary>One <c>nats-server -js</c> (Debian's package) on a free loopback port with its own temp store, ready when
/// <see cref="Start()"/> returns, killed and its store deleted at <see cref="Dispose"/>. Used (WsGateway.TestServers) by the examples'
/// tests and the load benchmark's sink scenario (the sink tests run a three-node cluster of their own).</summary>
public sealed class NatsServerProcess : IDisposable
{
    private readonly Process _process;
    private readonly string _store;

    private NatsServerProcess(Process process, string store, int port)
    {
        _process = process;
        _store = store;
        Url = $"nats://127.0.0.1:{port}";
    }

    /// <summary>The server's URL (<c>nats://127.0.0.1:PORT</c>).</summary>
    public string Url { get; }

    public static NatsServerProcess Start()
    {
        int port = FreePort();
        return Start(port, Directory.CreateTempSubdirectory("wsgw-nats-").FullName, []);
    }

    /// <summary>Starts one <c>nats-server -js</c> on <paramref name="port"/> (a port a test chose earlier, for a
    /// client already told to connect there).</summary>
    public static NatsServerProcess StartOn(int port) => Start(port, Directory.CreateTempSubdirectory("wsgw-nats-").FullName, []);

    /// <summary>Starts <paramref name="nodes"/> nodes of one JetStream cluster (named wsgw) on free loopback ports,
    /// each with its own temp store, routed to each other; listening when it returns (JetStream may still be electing
    /// its meta leader).</summary>
    public static NatsServerProcess[] StartCluster(int nodes)
    {
        int[] clientPorts = [.. Enumerable.Range(0, nodes).Select(_ => FreePort())];
        int[] routePorts = [.. Enumerable.Range(0, nodes).Select(_ => FreePort())];
        var started = new NatsServerProcess[nodes];
        for (int node = 0; node < nodes; node++)
        {
            string routes = string.Join(',', routePorts.Where((_, i) => i != node).Select(p => $"nats://127.0.0.1:{p}"));
            started[node] = Start(clientPorts[node], Directory.CreateTempSubdirectory("wsgw-nats-").FullName,
                ["-n", $"n{node}", "--cluster_name", "wsgw", "--cluster", $"nats://127.0.0.1:{routePorts[node]}", "--routes", routes]);
        }

        return started;
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static NatsServerProcess Start(int port, string store, string[] extra)
    {
        string server = File.Exists("/usr/sbin/nats-server") ? "/usr/sbin/nats-server" : "nats-server";
        var info = new ProcessStartInfo(server) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in (string[])["-a", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-js", "-sd", store, .. extra])
        {
            info.ArgumentList.Add(arg);
        }

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException("nats-server did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("nats-server is not installed: ./test.sh installs it (apt-get install nats-server)", e);
        }

        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var started = new NatsServerProcess(process, store, port);
        started.WaitUntilListening(port);
        return started;
    }

    /// <summary>Sends the process a signal (<c>STOP</c>, <c>CONT</c>, <c>KILL</c>).</summary>
    public void Signal(string signal)
    {
        using Process kill = Process.Start("kill", $"-{signal} {_process.Id}");
        kill.WaitForExit(10_000);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(10_000);
        }

        _process.Dispose();
        Directory.Delete(_store, recursive: true);
    }

    private void WaitUntilListening(int port)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"nats-server exited with code {_process.ExitCode} at start");
            }

            try
            {
                using var probe = new TcpClient();
                probe.Connect(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(20);
            }
        }

        throw new TimeoutException($"nats-server did not listen on 127.0.0.1:{port} within 10 s");
    }
}
