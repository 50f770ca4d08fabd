using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace WsGateway.Diagnostics;

/// <summary>
/// The health of a standalone <see cref="WebSocketServer"/>, for ASP.NET Core health checks: healthy while it listens
/// (the description gives its address and how many WebSocket connections are open), degraded at its connection
/// limit (new clients get 503), unhealthy before it starts and once it shuts down.
/// </summary>
/// <example>
/// <code>
/// builder.Services.AddHealthChecks().AddCheck("gateway", new WebSocketServerHealthCheck(server, options));
/// app.MapHealthChecks("/health");
/// </code>
/// </example>
public sealed class WebSocketServerHealthCheck : IHealthCheck
{
    private readonly WebSocketServer _server;
    private readonly int _maxConnections;
    private readonly CancellationToken _stopping;

    /// <summary>Creates the check.</summary>
    /// <param name="server">The server to watch.</param>
    /// <param name="options">The server's options, for its connection limit; no limit is checked when null.</param>
    /// <param name="stopping">Cancelled when the application starts shutting the server down: from then on the
    /// check reports unhealthy, so that a load balancer stops sending clients while connections drain.</param>
    public WebSocketServerHealthCheck(WebSocketServer server, TradeGatewayOptions? options = null, CancellationToken stopping = default)
    {
        ArgumentNullException.ThrowIfNull(server);
        _server = server;
        _maxConnections = options?.MaxConnections ?? int.MaxValue;
        _stopping = stopping;
    }

    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (_server.LocalEndPoint is null)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("not listening"));
        }

        Uri url = _server.Url;

        int connections = _server.ConnectionCount;
        var data = new Dictionary<string, object>
        {
            ["url"] = url.ToString(),
            ["connections"] = connections,
        };
        if (_stopping.IsCancellationRequested)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy(Describe("shutting down", url, connections), data: data));
        }

        if (connections >= _maxConnections)
        {
            return Task.FromResult(HealthCheckResult.Degraded(Describe("at the connection limit", url, connections), data: data));
        }

        return Task.FromResult(HealthCheckResult.Healthy(Describe("listening", url, connections), data));
    }

    private static string Describe(string state, Uri url, int connections)
        => string.Create(CultureInfo.InvariantCulture, $"{state} on {url}, {connections} {(connections == 1 ? "connection" : "connections")}");
}
