using System.Diagnostics;
using System.Globalization;
using WsGateway.Cli.Tests.Infrastructure;
using WsGateway.Sinks.Tests.Infrastructure;

namespace WsGateway.Sinks.Tests.Deployment;

/// <summary>
/// Several real <c>wsgw serve</c> processes, each on its own gateway and admin port (kept across restarts, as a
/// deployment's are), storing into one engine: killed (SIGKILL), stopped (SIGTERM: drain, close 1001) and started
/// again one by one.
/// </summary>
internal sealed class GatewayFleet : IDisposable
{
    private readonly Func<int, string[]> _arguments;
    private readonly WsgwProcess?[] _gateways;

    public GatewayFleet(int count, Func<(int Port, int Admin), string[]> serve)
    {
        int[] ports = FreePorts.Take(count * 2);
        Addresses = [.. Enumerable.Range(0, count).Select(i => (ports[2 * i], ports[(2 * i) + 1]))];
        _gateways = new WsgwProcess?[count];
        _arguments = i => serve(Addresses[i]);
    }

    /// <summary>Each gateway's port and admin port.</summary>
    public (int Port, int Admin)[] Addresses { get; }

    /// <summary>Every gateway's URL, for clients that fail over without a balancer.</summary>
    public Uri[] Urls => [.. Addresses.Select(a => new Uri($"ws://127.0.0.1:{a.Port.ToString(CultureInfo.InvariantCulture)}/"))];

    /// <summary>The lines a gateway wrote on standard output so far (its session lines and totals).</summary>
    public IReadOnlyList<string> Stdout(int gateway) => _gateways[gateway]?.Stdout ?? [];

    /// <summary>Starts gateway <paramref name="gateway"/> and returns once /health says it is ready (200).</summary>
    public async Task StartAsync(int gateway)
    {
        WsgwProcess process = WsgwProcess.Start(_arguments(gateway));
        _gateways[gateway] = process;
        await process.WaitForStderrAsync(l => l.Contains("listening on", StringComparison.Ordinal));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using HttpResponseMessage health = await http.GetAsync($"http://127.0.0.1:{Addresses[gateway].Admin}/health");
                if (health.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"gateway {gateway} was not healthy 30 s after it started");
            await Task.Delay(100);
        }
    }

    /// <summary>Waits until every running gateway's /health says Healthy (its sink publishing, not lagging): the step
    /// a rolling upgrade waits for before it stops the next gateway.</summary>
    public async Task WaitAllHealthyAsync(TimeSpan within)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < _gateways.Length; i++)
        {
            string last = "not asked";
            while (_gateways[i] is not null)
            {
                try
                {
                    string health = await http.GetStringAsync($"http://127.0.0.1:{Addresses[i].Admin}/health");
                    using var json = System.Text.Json.JsonDocument.Parse(health);
                    last = json.RootElement.GetProperty("status").GetString() ?? "none";
                    if (last == "Healthy")
                    {
                        break;
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    last = e.Message;
                }

                Assert.True(clock.Elapsed < within, $"gateway {i} was not Healthy within {within.TotalSeconds} s: {last}");
                await Task.Delay(200);
            }
        }
    }

    /// <summary>SIGKILL: no drain, no last acknowledgements, connections reset.</summary>
    public void Kill(int gateway)
    {
        _gateways[gateway]?.Dispose();
        _gateways[gateway] = null;
    }

    /// <summary>SIGTERM and the exit: the gateway closes its connections with 1001 and drains its sink. Returns its
    /// exit code and its last lines.</summary>
    public async Task<(int ExitCode, IReadOnlyList<string> Stderr)> StopAsync(int gateway)
    {
        WsgwProcess process = _gateways[gateway] ?? throw new InvalidOperationException($"gateway {gateway} is not running");
        await process.StopAsync();
        _gateways[gateway] = null;
        (int, IReadOnlyList<string>) result = (process.ExitCode, process.Stderr);
        process.Dispose();
        return result;
    }

    public void Dispose()
    {
        for (int i = 0; i < _gateways.Length; i++)
        {
            Kill(i);
        }
    }
}
