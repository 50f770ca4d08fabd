using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WsGateway.Tests.Hosting;
using WsGateway.Tests.Infrastructure;

namespace WsGateway.Tests.Security;

/// <summary><c>MapTradeGateway(...).RequireAuthorization()</c> with a custom API-key authentication scheme, over
/// real sockets: 401 before the upgrade without a key, 101 with one, and the handler sees the user.</summary>
public sealed class AspNetCoreAuthenticationTests
{
    private static Task<(WebApplication App, Uri Url)> StartAsync(ConcurrentQueue<HandshakeValidationTests.UserCapturingHandler> handlers, Action<TradeGatewayOptions>? configure = null)
        => TestWebApp.StartAsync(
            services =>
            {
                services.AddAuthentication(ApiKeyHandler.SchemeName).AddScheme<AuthenticationSchemeOptions, ApiKeyHandler>(ApiKeyHandler.SchemeName, null);
                services.AddAuthorization();
                services.AddTradeGateway(TestWebApp.Collecting(handlers), configure);
            },
            app =>
            {
                app.UseAuthentication();
                app.UseAuthorization();
                app.MapTradeGateway("/trades").RequireAuthorization();
            });

    [Fact]
    public async Task Unauthenticated_is_401_and_authenticated_is_101_with_the_user_at_the_handler()
    {
        var handlers = new ConcurrentQueue<HandshakeValidationTests.UserCapturingHandler>();
        (WebApplication app, Uri url) = await StartAsync(handlers);
        await using (app)
        {
            (HttpStatusCode refused, ClientWebSocket anonymous) = await SecurityTestKit.TryConnectAsync(url);
            anonymous.Dispose();
            Assert.Equal(HttpStatusCode.Unauthorized, refused);

            (HttpStatusCode wrong, ClientWebSocket mallory) = await SecurityTestKit.TryConnectAsync(url, o => o.SetRequestHeader("X-Api-Key", "nope"));
            mallory.Dispose();
            Assert.Equal(HttpStatusCode.Unauthorized, wrong);
            Assert.Empty(handlers);

            (HttpStatusCode status, ClientWebSocket client) = await SecurityTestKit.TryConnectAsync(url, o => o.SetRequestHeader("X-Api-Key", "alice-key"));
            using (client)
            {
                Assert.Equal(HttpStatusCode.SwitchingProtocols, status);
                await client.SendBinaryAsync(ClientFrames.Trade(1));
                await client.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            }

            HandshakeValidationTests.UserCapturingHandler handler = Assert.Single(handlers);
            await handler.Disconnected.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal("alice", handler.UserAtConnect?.Identity?.Name);
            Assert.Equal("fx", handler.UserAtConnect?.FindFirst("desk")?.Value);
            Assert.Single(handler.Trades);
            await app.StopAsync();
        }
    }

    [Fact]
    public async Task The_handshake_validator_also_runs_in_AspNetCore_and_sees_the_authenticated_user()
    {
        var handlers = new ConcurrentQueue<HandshakeValidationTests.UserCapturingHandler>();
        (WebApplication app, Uri url) = await StartAsync(handlers, o => o.ValidateHandshake = context =>
            ValueTask.FromResult(context.User.FindFirst("desk")?.Value == "fx" && context.GetQueryValue("book") == "main"
                ? HandshakeResult.Accept()
                : HandshakeResult.Forbidden("Desk or book not allowed")));
        await using (app)
        {
            (HttpStatusCode refused, ClientWebSocket other) = await SecurityTestKit.TryConnectAsync(new Uri(url + "?book=side"), o => o.SetRequestHeader("X-Api-Key", "alice-key"));
            other.Dispose();
            Assert.Equal(HttpStatusCode.Forbidden, refused);

            (HttpStatusCode status, ClientWebSocket client) = await SecurityTestKit.TryConnectAsync(new Uri(url + "?book=main"), o => o.SetRequestHeader("X-Api-Key", "alice-key"));
            using (client)
            {
                Assert.Equal(HttpStatusCode.SwitchingProtocols, status);
                await client.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            }

            Assert.Equal("alice", (await SingleDisconnected(handlers))?.Identity?.Name);
            await app.StopAsync();
        }
    }

    private static async Task<ClaimsPrincipal?> SingleDisconnected(ConcurrentQueue<HandshakeValidationTests.UserCapturingHandler> handlers)
    {
        HandshakeValidationTests.UserCapturingHandler handler = Assert.Single(handlers);
        await handler.Disconnected.WaitAsync(TimeSpan.FromSeconds(10));
        return handler.UserAtConnect;
    }

    /// <summary>A minimal API-key scheme: the X-Api-Key header "alice-key" is the user alice of the fx desk.</summary>
    private sealed class ApiKeyHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string SchemeName = "ApiKey";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (!Request.Headers.TryGetValue("X-Api-Key", out Microsoft.Extensions.Primitives.StringValues key))
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            if (key != "alice-key")
            {
                return Task.FromResult(AuthenticateResult.Fail("Unknown API key"));
            }

            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "alice"), new Claim("desk", "fx")], SchemeName);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
        }
    }
}
