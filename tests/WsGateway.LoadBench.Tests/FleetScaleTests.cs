using System.Diagnostics;
using System.Globalization;
using WsGateway.Cli.Tests.Infrastructure;
using WsGateway.Client;
using WsGateway.Sbe;
using Xunit.Abstractions;

namespace WsGateway.LoadBench.Tests;

/// <summary>
/// Connections at scale over several gateway processes on one host (issue 21): <c>wsgw serve</c> ×4 and client
/// processes (<c>WsGateway.LoadBench hold</c>) that each stay under this machine's hard descriptor limit (20,000),
/// opening idle connections to every gateway at once while one healthy client keeps sending trades and reading their
/// echoes. Reports the gateways' memory per connection, the time to accept them all, and the healthy client's trades
/// and latency meanwhile. 12,000 connections in <c>./test.sh</c>; <c>WSGW_SCALE_CONNECTIONS=60000</c> (what
/// <c>./test.sh --slow</c> sets) for the figure docs/deployment.md quotes.
/// </summary>
public sealed class FleetScaleTests(ITestOutputHelper output)
{
    private const int Gateways = 4;
    private const int PerClientProcess = 15_000;

    [Fact]
    public async Task Idle_connections_over_four_gateway_processes_are_all_accepted_while_a_healthy_client_keeps_trading()
    {
        int total = int.TryParse(Environment.GetEnvironmentVariable("WSGW_SCALE_CONNECTIONS"), CultureInfo.InvariantCulture, out int n) ? n : 12_000;
        int perGateway = (total + Gateways - 1) / Gateways;
        var gateways = new List<WsgwProcess>();
        var holders = new List<Process>();
        try
        {
            var urls = new List<Uri>();
            for (int g = 0; g < Gateways; g++)
            {
                (WsgwProcess process, Uri url) = await WsgwProcess.StartServeAsync("--admin", "none", "--stats-interval", "0", "--handler", "echo",
                    "--max-connections", (perGateway + 100).ToString(CultureInfo.InvariantCulture), "--event-loops", "1");
                gateways.Add(process);
                urls.Add(url);
            }

            long[] rssBefore = [.. gateways.Select(g => Rss(g.Id))];
            using var healthyStop = new CancellationTokenSource();
            Task<(long Trades, double P50, double P99, double Max)> healthy = Task.Run(() => HealthyClientAsync(urls[0], healthyStop.Token));
            await Task.Delay(500);

            // Client processes, each below the descriptor limit, each opening its share to every gateway at once.
            string[] endpoints = [.. urls.Select(u => $"127.0.0.1:{u.Port}")];
            var clock = Stopwatch.StartNew();
            for (int left = total; left > 0; left -= PerClientProcess)
            {
                holders.Add(StartHolder(endpoints, Math.Min(PerClientProcess, left)));
            }

            string?[] held = await Task.WhenAll(holders.Select(h => h.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(5))));
            TimeSpan accepted = clock.Elapsed;
            for (int i = 0; i < held.Length; i++)
            {
                if (held[i]?.StartsWith("HELD ", StringComparison.Ordinal) != true)
                {
                    // Its standard error ends when it does (it has failed, and exits).
                    Assert.Fail($"client process {i} did not hold its connections: {held[i]} {await holders[i].StandardError.ReadToEndAsync()}");
                }
            }

            await Task.Delay(1000);
            long[] rssAfter = [.. gateways.Select(g => Rss(g.Id))];
            await healthyStop.CancelAsync();
            (long trades, double p50, double p99, double max) = await healthy.WaitAsync(TimeSpan.FromSeconds(30));

            double perConnection = (rssAfter.Sum() - rssBefore.Sum()) / (double)total;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{total} idle connections over {Gateways} gateway processes from {holders.Count} client processes: all accepted in {accepted.TotalSeconds:0.0} s ({total / accepted.TotalSeconds:N0}/s); "
                + $"gateway RSS {rssBefore.Sum() >> 20} -> {rssAfter.Sum() >> 20} MiB, {perConnection / 1024:0.00} KiB per connection (per gateway: {string.Join(", ", rssAfter.Select((r, i) => $"{(r - rssBefore[i]) / 1024.0 / perGateway:0.00}"))} KiB); "
                + $"the healthy client meanwhile: {trades} trades echoed, round trip p50 {p50:0} us, p99 {p99:0} us, max {max / 1000:0.0} ms"));

            Assert.True(trades > 0, "the healthy client got nothing through while the connections arrived");
            Assert.True(perConnection < 16 * 1024, $"{perConnection / 1024:0.0} KiB per idle connection");
            foreach (WsgwProcess gateway in gateways)
            {
                Assert.True(gateway.IsRunning, $"a gateway exited: {string.Join('\n', gateway.Stderr)}");
                Assert.DoesNotContain(gateway.Stderr, l => l.Contains("fail", StringComparison.OrdinalIgnoreCase));
            }
        }
        finally
        {
            foreach (Process holder in holders)
            {
                try
                {
                    holder.StandardInput.WriteLine("quit");
                    holder.StandardInput.Close();
                }
                catch (IOException)
                {
                    // it has exited already
                }

                if (!holder.WaitForExit(30_000))
                {
                    holder.Kill(entireProcessTree: true);
                }

                holder.Dispose();
            }


            foreach (WsgwProcess gateway in gateways)
            {
                gateway.Dispose();
            }
        }
    }

    private static Process StartHolder(string[] endpoints, int connections)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(typeof(HoldCommand).Assembly.Location);
        info.ArgumentList.Add(HoldCommand.Name);
        info.ArgumentList.Add("--connections");
        info.ArgumentList.Add(connections.ToString(CultureInfo.InvariantCulture));
        foreach (string endpoint in endpoints)
        {
            info.ArgumentList.Add("--endpoint");
            info.ArgumentList.Add(endpoint);
        }

        return Process.Start(info)!;
    }

    /// <summary>One trade at a time, each waited for as its echo: how many got through and their round trips.</summary>
    private static async Task<(long Trades, double P50, double P99, double Max)> HealthyClientAsync(Uri url, CancellationToken stop)
    {
        await using TradeClient client = await TradeClient.ConnectAsync(url);
        var roundTrips = new List<double>();
        var clock = new Stopwatch();
        ulong id = 0;
        while (!stop.IsCancellationRequested)
        {
            clock.Restart();
            await client.SendTradeAsync(new Trade(++id, (byte)'H', 100.5, 1));
            ClientMessage echo = await client.ReceiveAsync();
            Assert.Equal(id, Trade.Decode(echo.Payload.Span).TradeId);
            roundTrips.Add(clock.Elapsed.TotalMicroseconds);
            await Task.Delay(1);
        }

        await client.CloseAsync();
        roundTrips.Sort();
        return (roundTrips.Count, roundTrips[roundTrips.Count / 2], roundTrips[(int)(roundTrips.Count * 0.99)], roundTrips[^1]);
    }

    private static long Rss(int pid)
    {
        string line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }
}
