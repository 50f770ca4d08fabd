using System.Net;
using System.Net.WebSockets;
using WsGateway.Cli.Tests.Infrastructure;

namespace WsGateway.Cli.Tests;

/// <summary>Issue 11, finding 10: <c>wsgw serve</c> refuses browsers from other origins unless
/// <c>--allow-origin</c> names them; clients without an <c>Origin</c> header are not browsers and get in.</summary>
public sealed class OriginProcessTests
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
        (WsgwProcess serve, Uri url) = await WsgwProcess.StartServeAsync(["--stats-interval", "0", "--admin", "none", .. extra]);
        using WsgwProcess _ = serve;
        using var client = new ClientWebSocket();
        client.Options.CollectHttpResponseDetails = true;
        if (origin is not null)
        {
            client.Options.SetRequestHeader("Origin", origin);
        }

        try
        {
            await client.ConnectAsync(url, CancellationToken.None);
        }
        catch (WebSocketException)
        {
            // A refused handshake: the status code says which.
        }

        return client.HttpStatusCode;
    }
}
