using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using WsGateway.Cli;
using WsGateway.Cli.Admin;
using WsGateway.Sbe;

namespace WsGateway.Browser.Tests;

/// <summary>
/// A real headless chromium against a real gateway: the /client page encodes SBE trades in JavaScript and sends them
/// over a WebSocket; the gateway must deliver exactly those trades; the dashboard must show them. Screenshots go to
/// <c>TestResults/browser/</c>.
/// </summary>
public sealed class BrowserEndToEndTests
{
    private static readonly TimeSpan s_scriptTimeout = TimeSpan.FromSeconds(120);

    private static Task<ServeHost> StartAsync(RecordingHandler recorder, TradeGatewayOptions? options = null)
        => ServeHost.StartAsync(new ServeSettings("127.0.0.1:0", "127.0.0.1:0", options ?? new TradeGatewayOptions()), recorder.Create, NullLoggerFactory.Instance);

    [Fact]
    public async Task Trades_sent_from_the_browser_client_arrive_exactly_and_the_dashboard_shows_them()
    {
        const int Count = 1237;
        const int Batch = 25;
        const ulong FirstId = 9_007_199_254_740_993; // 2^53 + 1: not a JavaScript number, only a BigInt holds it
        const char Symbol = 'Z';
        const string Price = "98765.4321";
        const uint Quantity = 4_000_000_000; // over int.MaxValue: a u32 on the wire
        string chromium = BrowserTools.Chromium();
        var recorder = new RecordingHandler();
        await using ServeHost host = await StartAsync(recorder);

        JsonElement result = await BrowserTools.RunScriptAsync("e2e.mjs", new
        {
            admin = host.AdminUrl!.ToString(),
            chromium,
            count = Count,
            batch = Batch,
            firstId = FirstId.ToString(CultureInfo.InvariantCulture),
            symbol = Symbol.ToString(),
            price = Price,
            quantity = Quantity,
            expectTrades = Count,
            screenshotDir = BrowserTools.ArtifactDirectory("trades"),
        }, s_scriptTimeout);

        // What the client page reported.
        JsonElement client = result.GetProperty("client");
        Assert.Equal(host.GatewayUrl.ToString(), client.GetProperty("prefilledUrl").GetString());
        Assert.Equal("closed", client.GetProperty("state").GetString());
        Assert.Equal(Count, client.GetProperty("sent").GetInt32());
        Assert.Equal((Count + Batch - 1) / Batch, client.GetProperty("frames").GetInt32());
        Assert.Equal(Count * Trade.EncodedSize, client.GetProperty("bytes").GetInt32());
        Assert.Equal(1000, client.GetProperty("closeCode").GetInt32());
        var first = new Trade(FirstId, (byte)Symbol, double.Parse(Price, CultureInfo.InvariantCulture), Quantity);
        Assert.Equal(Convert.ToHexString(first.Encode()).ToLowerInvariant(), client.GetProperty("firstTradeHex").GetString()!.Replace(" ", string.Empty, StringComparison.Ordinal));

        // What the gateway delivered: every trade once, in order, every field as the form said.
        await recorder.WaitForDisconnectsAsync(1);
        Trade[] expected = [.. Enumerable.Range(0, Count).Select(i => new Trade(FirstId + (ulong)i, (byte)Symbol, double.Parse(Price, CultureInfo.InvariantCulture), Quantity))];
        Assert.Equal(expected, recorder.DecodedTrades);
        Assert.Equal([.. Enumerable.Repeat(Batch, Count / Batch), Count % Batch], recorder.MessageSizes);
        Assert.Empty(recorder.Errors);
        Assert.Equal(new WebSocketCloseInfo(1000, "done", InitiatedByClient: true, Clean: true), Assert.Single(recorder.Closes));
        GatewayMonitor.Snapshot totals = host.Monitor.Read();
        Assert.Equal((Count, (Count + Batch - 1) / Batch, 0L), (totals.Trades, totals.Messages, totals.Errors));

        // What the dashboard showed.
        JsonElement dashboard = result.GetProperty("dashboard");
        Assert.Equal(Count, dashboard.GetProperty("tradesTotal").GetInt64());
        Assert.Equal(Count.ToString("N0", CultureInfo.GetCultureInfo("en-US")), dashboard.GetProperty("tradesText").GetString());
        Assert.Equal((Count + Batch - 1) / Batch, dashboard.GetProperty("messagesTotal").GetInt64());
        Assert.Equal(0, dashboard.GetProperty("connections").GetInt64());
        Assert.Equal(host.GatewayUrl.ToString(), dashboard.GetProperty("gatewayUrl").GetString());
        Assert.Equal("healthy", dashboard.GetProperty("health").GetString());
        Assert.NotEqual("0", dashboard.GetProperty("dispatchReads").GetString());
        Assert.True(dashboard.GetProperty("chartPixels").GetInt32() > 1000, "the rate chart was drawn");
        Assert.Empty(result.GetProperty("console").EnumerateArray()); // no script errors, nothing blocked by the CSP
        AssertScreenshots(result);
    }

    [Fact]
    public async Task A_frame_over_the_message_limit_is_closed_1009_and_the_dashboard_lists_it()
    {
        string chromium = BrowserTools.Chromium();
        var recorder = new RecordingHandler();
        await using ServeHost host = await StartAsync(recorder, new TradeGatewayOptions { MaxMessageSize = 1024 });

        JsonElement result = await BrowserTools.RunScriptAsync("e2e.mjs", new
        {
            admin = host.AdminUrl!.ToString(),
            chromium,
            count = 200,
            batch = 100, // 2,900 bytes a frame
            firstId = "1",
            symbol = "A",
            price = "1.5",
            quantity = 1,
            expectTrades = 0,
            screenshotDir = BrowserTools.ArtifactDirectory("too-big"),
        }, s_scriptTimeout);

        JsonElement client = result.GetProperty("client");
        Assert.Equal(1009, client.GetProperty("closeCode").GetInt32());
        await recorder.WaitForDisconnectsAsync(1);
        Assert.Empty(recorder.DecodedTrades);
        Assert.Equal(1009, Assert.Single(recorder.Closes).Code);

        JsonElement dashboard = result.GetProperty("dashboard");
        Assert.Equal(0, dashboard.GetProperty("tradesTotal").GetInt64());
        Assert.Contains(dashboard.GetProperty("errors").EnumerateArray(), row => row.GetProperty("kind").GetString() == "close 1009" && row.GetProperty("count").GetString() == "1");
        AssertScreenshots(result);
    }

    [Fact]
    public async Task With_a_server_certificate_the_https_client_page_sends_over_wss_and_the_trades_arrive()
    {
        const int Count = 120;
        const int Batch = 10;
        string chromium = BrowserTools.Chromium();
        using X509Certificate2 certificate = SelfSignedLocalhost();
        var recorder = new RecordingHandler();
        await using ServeHost host = await StartAsync(recorder, new TradeGatewayOptions { ServerCertificate = certificate });
        Assert.Equal("https", host.AdminUrl!.Scheme);
        Assert.Equal("wss", host.GatewayUrl.Scheme);

        JsonElement result = await BrowserTools.RunScriptAsync("e2e.mjs", new
        {
            admin = host.AdminUrl.ToString(),
            chromium,
            count = Count,
            batch = Batch,
            firstId = "1",
            symbol = "S",
            price = "10.5",
            quantity = 3,
            expectTrades = Count,
            screenshotDir = BrowserTools.ArtifactDirectory("wss"),

            // Chromium trusts this one certificate (by its public key), and no other certificate error.
            trustSpki = Convert.ToBase64String(SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo())),
        }, s_scriptTimeout);

        JsonElement client = result.GetProperty("client");
        Assert.Equal(host.GatewayUrl.ToString(), client.GetProperty("prefilledUrl").GetString());
        Assert.Equal("closed", client.GetProperty("state").GetString());
        Assert.Equal(1000, client.GetProperty("closeCode").GetInt32());
        await recorder.WaitForDisconnectsAsync(1);
        Assert.Equal(Count, recorder.DecodedTrades.Count);
        Assert.Equal(Count, result.GetProperty("dashboard").GetProperty("tradesTotal").GetInt64());
        Assert.Empty(result.GetProperty("console").EnumerateArray()); // no mixed-content or certificate errors
    }

    private static X509Certificate2 SelfSignedLocalhost()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(30));
    }

    private static void AssertScreenshots(JsonElement result)
    {
        foreach (JsonElement shot in result.GetProperty("screenshots").EnumerateArray())
        {
            byte[] png = File.ReadAllBytes(shot.GetString()!);
            Assert.True(png.Length > 10_000, $"{shot} is only {png.Length} bytes");
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        }
    }
}
