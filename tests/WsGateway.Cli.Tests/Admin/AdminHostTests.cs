using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using WsGateway.Cli.Admin;

namespace WsGateway.Cli.Tests.Admin;

/// <summary>Issue 11, finding 10: the admin endpoints answer only their own host names (DNS rebinding).</summary>
[Collection(AdminCollection.Name)]
public sealed class AdminHostTests
{
    [Theory]
    [InlineData("/api/stats")]
    [InlineData("/metrics")]
    public async Task A_foreign_Host_header_is_refused_and_the_admin_address_is_answered(string path)
    {
        var recorder = new RecordingHandler();
        await using ServeHost host = await ServeHost.StartAsync(new ServeSettings("127.0.0.1:0", "127.0.0.1:0", new TradeGatewayOptions()), recorder.Create, NullLoggerFactory.Instance);
        using var http = new HttpClient { BaseAddress = host.AdminUrl };

        using var rebound = new HttpRequestMessage(HttpMethod.Get, path);
        rebound.Headers.Host = "evil.example";
        using HttpResponseMessage refused = await http.SendAsync(rebound);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);

        using HttpResponseMessage answered = await http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
    }
}
