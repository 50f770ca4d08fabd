using System.Net.WebSockets;
using System.Security.Claims;
using Microsoft.Extensions.Time.Testing;
using WsGateway.Tests.Hosting;
using WsGateway.Tests.Infrastructure;

namespace WsGateway.Tests.Security;

/// <summary>The standalone server's handshake validator: credentials checked before the 101, the identity handed to
/// the handler as <see cref="IGatewayConnection.User"/>, refusals with 401/403 and a challenge.</summary>
public sealed class HandshakeValidationTests
{
    internal static ValueTask<HandshakeResult> ApiKeyValidator(HandshakeContext context)
    {
        string? key = context.ApiKey ?? context.GetQueryValue("api_key");
        if (key is null)
        {
            return ValueTask.FromResult(HandshakeResult.Unauthorized("An API key is required (X-Api-Key header)", "ApiKey"));
        }

        if (key != "alice-key")
        {
            return ValueTask.FromResult(HandshakeResult.Forbidden("This API key may not trade"));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "alice"), new Claim("desk", "fx"), new Claim("path", context.Path)], "ApiKey");
        return ValueTask.FromResult(HandshakeResult.Accept(new ClaimsPrincipal(identity)));
    }

    [Fact]
    public async Task A_valid_key_is_accepted_and_the_handler_sees_the_identity_at_OnConnect()
    {
        var handler = new UserCapturingHandler();
        await using var connection = InMemoryConnection.Raw(handler, new TradeGatewayOptions { ValidateHandshake = ApiKeyValidator });

        await connection.SendAsync(SecurityTestKit.RequestWith("X-Api-Key: alice-key"));

        Assert.StartsWith("HTTP/1.1 101 ", await connection.ReadHttpResponseAsync(), StringComparison.Ordinal);
        await SecurityTestKit.WaitUntil(() => handler.UserAtConnect is not null);
        Assert.Equal("alice", handler.UserAtConnect!.Identity!.Name);
        Assert.True(handler.UserAtConnect.Identity.IsAuthenticated);
        Assert.Equal("fx", handler.UserAtConnect.FindFirst("desk")?.Value);
        Assert.Equal("/trades", handler.UserAtConnect.FindFirst("path")?.Value);
    }

    [Fact]
    public async Task A_key_in_the_query_string_is_readable_by_the_validator()
    {
        var handler = new UserCapturingHandler();
        await using var connection = InMemoryConnection.Raw(handler, new TradeGatewayOptions { ValidateHandshake = ApiKeyValidator });

        await connection.SendAsync(SecurityTestKit.RequestWith().Replace("GET /trades ", "GET /trades?api_key=alice%2Dkey ", StringComparison.Ordinal));

        Assert.StartsWith("HTTP/1.1 101 ", await connection.ReadHttpResponseAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "HTTP/1.1 401 ", "An API key is required")]
    [InlineData("X-Api-Key: mallory-key", "HTTP/1.1 403 ", "This API key may not trade")]
    public async Task Missing_or_wrong_credentials_are_refused_before_the_101(string? header, string status, string reason)
    {
        var handler = new RecordingHandler();
        await using var connection = InMemoryConnection.Raw(handler, new TradeGatewayOptions { ValidateHandshake = ApiKeyValidator });

        await connection.SendAsync(header is null ? SecurityTestKit.RequestWith() : SecurityTestKit.RequestWith(header));
        string response = await connection.ReadHttpResponseAsync();

        Assert.StartsWith(status, response, StringComparison.Ordinal);
        Assert.Contains(reason, response, StringComparison.Ordinal);
        if (status.Contains("401", StringComparison.Ordinal))
        {
            Assert.Contains("\r\nWWW-Authenticate: ApiKey\r\n", response, StringComparison.Ordinal);
        }

        await connection.WaitClosedAsync();
        Assert.Equal(0, handler.Connects);
        Assert.Equal(0, connection.Manager.OpenWebSockets);
    }

    [Fact]
    public async Task A_validator_that_throws_is_answered_500_without_the_exception_text()
    {
        var handler = new RecordingHandler();
        var options = new TradeGatewayOptions { ValidateHandshake = _ => throw new InvalidOperationException("secret connection string") };
        await using var connection = InMemoryConnection.Raw(handler, options);

        await connection.SendAsync(SecurityTestKit.RequestWith());
        string response = await connection.ReadHttpResponseAsync();

        Assert.StartsWith("HTTP/1.1 500 ", response, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", response, StringComparison.Ordinal);
        await connection.WaitClosedAsync();
        Assert.Equal(0, connection.Manager.OpenWebSockets);
    }

    [Fact]
    public async Task A_validator_that_hangs_is_cut_off_by_the_handshake_timeout_with_503()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var handler = new RecordingHandler();
        CancellationToken seen = default;
        var options = new TradeGatewayOptions
        {
            HandshakeTimeout = TimeSpan.FromSeconds(5),
            ValidateHandshake = async context =>
            {
                seen = context.Aborted;
                await Task.Delay(Timeout.Infinite, CancellationToken.None);
                return HandshakeResult.Accept();
            },
        };
        await using var connection = InMemoryConnection.Raw(handler, options, time);

        await connection.SendAsync(SecurityTestKit.RequestWith());
        await SecurityTestKit.WaitUntil(() => seen.CanBeCanceled);
        time.Advance(TimeSpan.FromSeconds(4));
        await Task.Delay(50);
        Assert.False(connection.Running.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(2));

        string response = await connection.ReadHttpResponseAsync();
        Assert.StartsWith("HTTP/1.1 503 ", response, StringComparison.Ordinal);
        Assert.Contains("handshake timeout", response, StringComparison.Ordinal);
        Assert.True(seen.IsCancellationRequested);
        await connection.WaitClosedAsync();
        Assert.Equal(0, handler.Connects);
        Assert.Equal(0, connection.Manager.OpenWebSockets);
    }

    [Fact]
    public void A_challenge_with_a_line_break_cannot_be_built()
        => Assert.Throws<ArgumentException>(() => HandshakeResult.Unauthorized("no", "Bearer\r\nSet-Cookie: x=1"));

    [Fact]
    public async Task Over_a_real_socket_the_header_credential_reaches_the_handler_as_User()
    {
        var handler = new UserCapturingHandler();
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => handler, new TradeGatewayOptions { ValidateHandshake = ApiKeyValidator }).Start();

        (System.Net.HttpStatusCode refused, ClientWebSocket anonymous) = await SecurityTestKit.TryConnectAsync(server.Url);
        anonymous.Dispose();
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, refused);

        (System.Net.HttpStatusCode status, ClientWebSocket client) = await SecurityTestKit.TryConnectAsync(server.Url, o => o.SetRequestHeader("X-Api-Key", "alice-key"));
        using (client)
        {
            Assert.Equal(System.Net.HttpStatusCode.SwitchingProtocols, status);
            await client.SendBinaryAsync(ClientFrames.Trade(7));
            await client.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }

        await handler.Disconnected.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("alice", handler.UserAtConnect?.Identity?.Name);
        Assert.Single(handler.Trades);
    }

    /// <summary>Records the user the connection had when OnConnect ran.</summary>
    internal sealed class UserCapturingHandler : RecordingHandler
    {
        public ClaimsPrincipal? UserAtConnect { get; private set; }

        public override void OnConnect(IGatewayConnection connection)
        {
            UserAtConnect = connection.User;
            base.OnConnect(connection);
        }
    }
}
