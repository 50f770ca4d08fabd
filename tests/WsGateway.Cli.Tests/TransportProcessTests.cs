using System.Net.WebSockets;
using WsGateway.Cli.Tests.Infrastructure;

namespace WsGateway.Cli.Tests;

/// <summary><c>wsgw serve --transport</c> as a user runs it: each transport serves, the banner says which one runs,
/// and a choice that cannot serve is one line and exit 2.</summary>
public sealed class TransportProcessTests
{
    [Theory]
    [InlineData("native", "transport: native, 2 event loops", "--event-loops", "2")]
    [InlineData("kestrel", "transport: kestrel", null, null)]
    public async Task Each_transport_serves_and_the_banner_names_it(string transport, string expected, string? option, string? value)
    {
        string[] args = option is null
            ? ["--transport", transport, "--stats-interval", "0", "--admin", "none"]
            : ["--transport", transport, option, value!, "--stats-interval", "0", "--admin", "none"];
        (WsgwProcess serve, Uri url) = await WsgwProcess.StartServeAsync(args);
        using WsgwProcess _ = serve;
        Assert.Contains(serve.Stderr, line => line.Contains(expected, StringComparison.Ordinal));

        using (var client = new ClientWebSocket())
        {
            await client.ConnectAsync(url, CancellationToken.None);
            byte[] trade = Convert.FromHexString("15000100010000003930000000000000420000000000205940e8030000");
            await client.SendAsync(trade, WebSocketMessageType.Binary, true, CancellationToken.None);
            await client.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }

        await serve.WaitForStdoutLinesAsync(1);
        await serve.StopAsync();
        Assert.Equal(0, serve.ExitCode);
        Assert.Matches(@"Session stats: connection \d+ \(127\.0\.0\.1:\d+\): 1 trades, total quantity 1000, 0 errors, closed 1000", string.Join('\n', serve.Stdout));
    }

    [Theory]
    [InlineData(new[] { "--transport", "fast" }, "--transport must be auto, native or kestrel, got 'fast'")]
    [InlineData(new[] { "--event-loops", "0" }, "--event-loops must be between 1 and 1024")]
    public async Task A_bad_transport_choice_is_one_line_and_exit_2(string[] options, string expected)
    {
        using WsgwProcess serve = await WsgwProcess.RunAsync(["serve", .. options, "--listen", "127.0.0.1:0", "--admin", "none"]);
        Assert.Equal(2, serve.ExitCode);
        string line = Assert.Single(serve.Stderr);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.Empty(serve.Stdout);
    }

    [Fact]
    public void The_tool_s_runtimeconfig_promotes_hot_methods_without_the_call_counting_delay()
    {
        // Warm-up under load from the start: see docs/tuning.md.
        string path = Path.Combine(AppContext.BaseDirectory, "wsgw.runtimeconfig.json");
        using System.Text.Json.JsonDocument config = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path));
        System.Text.Json.JsonElement properties = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");
        Assert.Equal(0, properties.GetProperty("System.Runtime.TieredCompilation.CallCountingDelayMs").GetInt32());
        Assert.False(properties.TryGetProperty("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit", out _), "the default spinning measured best for the Kestrel transport");
    }
}
