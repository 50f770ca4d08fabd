using System.Diagnostics;
using NATS.Client.Core;
using NATS.Client.JetStream;
using WsGateway.Cli.Tests.Infrastructure;
using WsGateway.Sinks.Tests.Infrastructure;
using Xunit.Abstractions;

namespace WsGateway.Sinks.Tests.Nats;

/// <summary>
/// <c>wsgw send --reliable</c> twice with the same trade ids against <c>wsgw serve --sink nats://...</c> and a real
/// single-node JetStream: the second run is reported as duplicates (JetStream's publish acknowledgement says
/// <c>"duplicate":true</c> within the stream's duplicate window), by send and in the session lines, and the stream
/// keeps one message per trade (or per frame, with <c>record=frame</c>).
/// </summary>
public sealed class ReliableSendNatsProcessTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _store = Directory.CreateTempSubdirectory("wsgw-nats-reliable-").FullName;
    private readonly int _port = FreePorts.Take(1)[0];
    private Process? _nats;

    public async Task InitializeAsync()
    {
        var info = new ProcessStartInfo(File.Exists("/usr/sbin/nats-server") ? "/usr/sbin/nats-server" : "nats-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { "-a", "127.0.0.1", "-p", _port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-js", "-sd", _store })
        {
            info.ArgumentList.Add(arg);
        }

        _nats = Process.Start(info)!;
        _nats.BeginOutputReadLine();
        _nats.BeginErrorReadLine();
        await using var nats = new NatsConnection(NatsOpts.Default with { Url = $"nats://127.0.0.1:{_port}" });
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await nats.ConnectAsync();
                await new NatsJSContext(nats).GetAccountInfoAsync();
                return;
            }
            catch (Exception) when (clock.Elapsed < TimeSpan.FromSeconds(20))
            {
                await Task.Delay(100);
            }
        }
    }

    public Task DisposeAsync()
    {
        if (_nats is { HasExited: false })
        {
            _nats.Kill();
            _nats.WaitForExit(10_000);
        }

        _nats?.Dispose();
        Directory.Delete(_store, recursive: true);
        return Task.CompletedTask;
    }

    [Theory]
    [InlineData("trade", 1, 3000L)]
    [InlineData("frame", 50, 60L)]
    public async Task A_rerun_with_the_same_ids_is_reported_as_duplicates_and_stored_once(string record, int batch, long messages)
    {
        string stream = "RELIABLE_" + record.ToUpperInvariant();
        using WsgwProcess gateway = WsgwProcess.Start(
            "serve", "--listen", "127.0.0.1:0", "--stats-interval", "0", "--admin", "none",
            "--sink", $"nats://127.0.0.1:{_port}?stream={stream}&subject=reliable.{record}&record={record}");
        string banner = await gateway.WaitForStderrAsync(l => l.Contains("listening on", StringComparison.Ordinal));
        string url = banner.Split(' ').First(w => w.StartsWith("ws://", StringComparison.Ordinal));
        try
        {
            string[] args = ["send", "--url", url, "--reliable", "--ack-timeout", "20", "--count", "3000", "--batch", batch.ToString(System.Globalization.CultureInfo.InvariantCulture), "--first-id", "7"];
            WsgwProcess first = await WsgwProcess.RunAsync(args);
            Assert.Equal(0, first.ExitCode);
            Assert.Contains("wsgw send: acknowledged 3000 of 3000 trades (0 duplicates reported by the gateway, 0 reconnects)", first.Stdout);

            WsgwProcess again = await WsgwProcess.RunAsync(args);
            Assert.Equal(0, again.ExitCode);
            Assert.Contains("wsgw send: acknowledged 3000 of 3000 trades (3000 duplicates reported by the gateway, 0 reconnects)", again.Stdout);

            var clock = Stopwatch.StartNew();
            while (gateway.Stdout.Count(l => l.StartsWith("Session stats:", StringComparison.Ordinal)) < 2)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), string.Join('\n', gateway.Stdout));
                await Task.Delay(20);
            }

            Assert.Contains(gateway.Stdout, l => l.EndsWith("closed 1000; sink: 3000 stored, 0 duplicates", StringComparison.Ordinal));
            Assert.Contains(gateway.Stdout, l => l.EndsWith("closed 1000; sink: 3000 stored, 3000 duplicates", StringComparison.Ordinal));

            await using var nats = new NatsConnection(NatsOpts.Default with { Url = $"nats://127.0.0.1:{_port}" });
            INatsJSStream info = await new NatsJSContext(nats).GetStreamAsync(stream);
            Assert.Equal(messages, (long)info.Info.State.Messages);
        }
        finally
        {
            foreach (string line in gateway.Stdout.Concat(gateway.Stderr).Take(20))
            {
                output.WriteLine(line);
            }
        }
    }
}
