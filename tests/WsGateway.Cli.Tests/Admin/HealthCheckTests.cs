using Microsoft.Extensions.Diagnostics.HealthChecks;
using WsGateway.Client;
using WsGateway.Diagnostics;

namespace WsGateway.Cli.Tests.Admin;

/// <summary><see cref="WebSocketServerHealthCheck"/> in each state of a real server.</summary>
public sealed class HealthCheckTests
{
    private static Task<HealthCheckResult> CheckAsync(WebSocketServerHealthCheck check) => check.CheckHealthAsync(new HealthCheckContext());

    [Fact]
    public async Task Unhealthy_before_start_healthy_while_listening_unhealthy_once_stopping()
    {
        using var stopping = new CancellationTokenSource();
        await using var server = new WebSocketServer("127.0.0.1:0", _ => new Handlers.EchoHandler());
        var check = new WebSocketServerHealthCheck(server, stopping: stopping.Token);

        HealthCheckResult before = await CheckAsync(check);
        Assert.Equal((HealthStatus.Unhealthy, "not listening"), (before.Status, before.Description));

        await server.StartAsync();
        HealthCheckResult listening = await CheckAsync(check);
        Assert.Equal((HealthStatus.Healthy, $"listening on {server.Url}, 0 connections"), (listening.Status, listening.Description));
        Assert.Equal(0, listening.Data["connections"]);

        await stopping.CancelAsync();
        HealthCheckResult stopped = await CheckAsync(check);
        Assert.Equal((HealthStatus.Unhealthy, $"shutting down on {server.Url}, 0 connections"), (stopped.Status, stopped.Description));
    }

    [Fact]
    public async Task Degraded_at_the_connection_limit()
    {
        var options = new TradeGatewayOptions { MaxConnections = 1 };
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new Handlers.EchoHandler(), options).Start();
        var check = new WebSocketServerHealthCheck(server, options);

        await using TradeClient client = await TradeClient.ConnectAsync(server.Url);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (server.ConnectionCount < 1 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(5);
        }

        HealthCheckResult full = await CheckAsync(check);
        Assert.Equal((HealthStatus.Degraded, $"at the connection limit on {server.Url}, 1 connection"), (full.Status, full.Description));
    }
}
