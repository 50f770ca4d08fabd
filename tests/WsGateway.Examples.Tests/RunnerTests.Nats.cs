using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace WsGateway.Examples.Tests;

/// <summary>The NATS example against a real single-node <c>nats-server -js</c> (installed by ./test.sh), fed by the
/// reliable client example.</summary>
public sealed partial class RunnerTests
{
    [Fact]
    public async Task Nats_stores_every_trade_in_the_stream_and_the_reliable_client_sees_them_acknowledged()
    {
        using var nats = NatsServerProcess.Start();
        await using RunningExample example = await RunningExample.StartAsync("nats", "--port", "0", "--nats", nats.Url, "--stream", "EXAMPLE", "--interval", "3600");

        var client = new Infrastructure.LineWriter();
        long acknowledged = await ReliableSender.SendAsync(example.Url, count: 2_500, batchSize: 100, client, TimeSpan.FromSeconds(5));

        Assert.Equal(2_500, acknowledged);
        Assert.Contains("2500 trades acknowledged as stored (last trade id 2500", client.Lines.Single(l => l.Contains("acknowledged as stored", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Equal(0, await example.StopAsync());
        Assert.StartsWith("nats: stopped; 2500 trades stored", example.Lines.Lines[^1], StringComparison.Ordinal);

        await using var connection = new NatsConnection(NatsOpts.Default with { Url = nats.Url });
        INatsJSStream stream = await new NatsJSContext(connection).GetStreamAsync("EXAMPLE");
        Assert.Equal(2_500L, (long)stream.Info.State.Messages);
    }

    /// <summary>One <c>nats-server -js</c> on a free loopback port with a temp store, killed and deleted at the end.</summary>
    private sealed class NatsServerProcess : IDisposable
    {
        private readonly Process _process;
        private readonly string _store;

        private NatsServerProcess(Process process, string store, int port)
        {
            _process = process;
            _store = store;
            Url = $"nats://127.0.0.1:{port}";
        }

        public string Url { get; }

        public static NatsServerProcess Start()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            string store = Directory.CreateTempSubdirectory("wsgw-example-nats-").FullName;
            string server = File.Exists("/usr/sbin/nats-server") ? "/usr/sbin/nats-server" : "nats-server";
            var info = new ProcessStartInfo(server) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string arg in (string[])["-a", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-js", "-sd", store])
            {
                info.ArgumentList.Add(arg);
            }

            Process process = Process.Start(info) ?? throw new InvalidOperationException("nats-server did not start: ./test.sh installs it (apt-get install nats-server)");
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return new NatsServerProcess(process, store, port);
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
    }
}
