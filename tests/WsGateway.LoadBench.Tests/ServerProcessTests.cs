namespace WsGateway.LoadBench.Tests;

/// <summary>The server processes: each kind on the transport it is named after, pinned by <c>taskset</c> when asked.</summary>
public sealed class ServerProcessTests
{
    [Theory]
    [InlineData("gateway", "native, 1 event loop")]
    [InlineData("gateway-kestrel", "kestrel")]
    [InlineData("baseline", "kestrel+System.Net.WebSockets")]
    public async Task A_server_pinned_to_cpu_0_runs_every_thread_there_on_its_transport(string kind, string transport)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        ServerProcess server = await ServerProcess.StartAsync(kind, "count", allocProfile: false, cpus: "0", timeout.Token);
        await using (server)
        {
            ServerStats stats = await server.StatsAsync(cancellationToken: timeout.Token);

            Assert.Equal(transport, stats.Transport);
            Assert.Equal("0", stats.Cpus);
            Assert.Equal(1, stats.ProcessorCount);
            if (OperatingSystem.IsLinux())
            {
                // Every thread, the runtime's own included, not just the one that asked.
                foreach (string task in Directory.GetDirectories($"/proc/{server.ProcessId}/task"))
                {
                    string? allowed = File.ReadLines(Path.Combine(task, "status")).FirstOrDefault(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal));
                    Assert.Equal("Cpus_allowed_list:\t0", allowed);
                }
            }
        }
    }

    [Fact]
    public async Task An_unpinned_server_may_run_on_every_cpu()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        ServerProcess server = await ServerProcess.StartAsync("gateway", "count", allocProfile: false, cpus: null, timeout.Token);
        await using (server)
        {
            ServerStats stats = await server.StatsAsync(cancellationToken: timeout.Token);

            Assert.Equal(Environment.ProcessorCount, stats.ProcessorCount);
            Assert.Equal(CpuAffinity.Current(), stats.Cpus);
        }
    }
}
