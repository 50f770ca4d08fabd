using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text.RegularExpressions;

namespace WsGateway.Cli.Tests;

/// <summary>Issue 11, finding 10: <c>wsgw serve</c> refuses browsers from other origins unless
/// <c>--allow-origin</c> names them; clients without an <c>Origin</c> header are not browsers and get in.</summary>
public sealed partial class ProcessTests
{
    [Fact]
    public async Task Serve_refuses_a_foreign_origin_unless_allow_origin_names_it()
    {
        Assert.Equal(HttpStatusCode.Forbidden, await ConnectWithOriginAsync("https://evil.example"));
        Assert.Equal(HttpStatusCode.SwitchingProtocols, await ConnectWithOriginAsync(null));
        Assert.Equal(HttpStatusCode.SwitchingProtocols, await ConnectWithOriginAsync("https://evil.example", "--allow-origin", "https://evil.example"));
    }

    private static async Task<HttpStatusCode> ConnectWithOriginAsync(string? origin, params string[] extra)
    {
        using Process serve = Start(["serve", "--listen", "127.0.0.1:0", "--stats-interval", "0", "--admin", "none", .. extra]);
        try
        {
            string? banner = await serve.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Match url = ListeningOn().Match(banner ?? string.Empty);
            Assert.True(url.Success, $"unexpected first line: {banner}");
            using var client = new ClientWebSocket();
            client.Options.CollectHttpResponseDetails = true;
            if (origin is not null)
            {
                client.Options.SetRequestHeader("Origin", origin);
            }

            try
            {
                await client.ConnectAsync(new Uri(url.Groups[1].Value), CancellationToken.None);
            }
            catch (WebSocketException)
            {
            }

            return client.HttpStatusCode;
        }
        finally
        {
            serve.Kill();
            await serve.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
    }
}
