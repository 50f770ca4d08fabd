using System.IO.Pipelines;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Net.Http.Headers;
using WsGateway.Connections;
using WsGateway.Connections.Handshake;
using WsGateway.Hosting;

namespace WsGateway;

/// <summary>Maps the trade gateway's WebSocket endpoint in an ASP.NET Core application.</summary>
public static class TradeGatewayEndpointRouteBuilderExtensions
{
    /// <summary>Accepts WebSocket connections at <paramref name="pattern"/> and runs them through the gateway
    /// registered with <c>AddTradeGateway</c>. The returned builder composes with endpoint conventions such as
    /// <c>RequireAuthorization()</c>; the authenticated user reaches handlers as <see cref="IGatewayConnection.User"/>.</summary>
    /// <param name="endpoints">The route builder.</param>
    /// <param name="pattern">The route pattern, for example <c>/trades</c>.</param>
    /// <returns>The endpoint's convention builder.</returns>
    public static IEndpointConventionBuilder MapTradeGateway(this IEndpointRouteBuilder endpoints, string pattern)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(pattern);
        if (endpoints.ServiceProvider.GetService<TradeGatewayService>() is null)
        {
            throw new InvalidOperationException("MapTradeGateway needs the gateway's services: call services.AddTradeGateway(...) first.");
        }

        return endpoints.MapGet(pattern, AcceptAsync).WithDisplayName("Trade gateway " + pattern);
    }

    private static async Task AcceptAsync(HttpContext context)
    {
        TradeGatewayService gateway = context.RequestServices.GetRequiredService<TradeGatewayService>();
        ConnectionManager manager = gateway.Manager;
        IHttpUpgradeFeature? upgrade = context.Features.Get<IHttpUpgradeFeature>();
        IHeaderDictionary headers = context.Request.Headers;

        string? problem = HandshakeValidator.Validate(
            upgradable: upgrade?.IsUpgradableRequest == true,
            upgrade: headers.Upgrade.ToString(),
            version: headers.SecWebSocketVersion.ToString(),
            key: headers.SecWebSocketKey.Count == 1 ? headers.SecWebSocketKey.ToString() : null,
            out int status);
        if (problem is not null)
        {
            await RejectAsync(context, status, problem).ConfigureAwait(false);
            return;
        }

        if (!manager.TryAcquireSlot())
        {
            string reason = manager.IsStopping
                ? "The gateway is shutting down"
                : $"Connection limit reached: {manager.Options.MaxConnections} connections are open";
            await RejectAsync(context, StatusCodes.Status503ServiceUnavailable, reason).ConfigureAwait(false);
            return;
        }

        string key = headers.SecWebSocketKey.ToString();
        context.Response.Headers.Connection = HeaderNames.Upgrade;
        context.Response.Headers.Upgrade = "websocket";
        context.Response.Headers.SecWebSocketAccept = HandshakeResponse.ComputeAccept(key);

        Stream stream;
        try
        {
            stream = await upgrade!.UpgradeAsync().ConfigureAwait(false);
        }
        catch
        {
            manager.ReleaseSlot();
            throw;
        }

        var transport = new StreamDuplexPipe(
            PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true)),
            PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true)));
        var connection = new WebSocketConnection(transport, manager, RemoteEndPoint(context), LocalEndPoint(context));
        await connection.RunUpgradedAsync(context.Request.Path.Value ?? "/", context.User).ConfigureAwait(false);
    }

    private static Task RejectAsync(HttpContext context, int status, string reason)
    {
        context.RequestServices.GetRequiredService<TradeGatewayService>().Manager.Metrics.ConnectionRejected(status);
        context.Response.StatusCode = status;
        if (status == StatusCodes.Status426UpgradeRequired)
        {
            context.Response.Headers.SecWebSocketVersion = "13";
        }

        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(reason + "\n");
    }

    private static System.Net.IPEndPoint? RemoteEndPoint(HttpContext context)
        => context.Connection.RemoteIpAddress is { } ip ? new System.Net.IPEndPoint(ip, context.Connection.RemotePort) : null;

    private static System.Net.IPEndPoint? LocalEndPoint(HttpContext context)
        => context.Connection.LocalIpAddress is { } ip ? new System.Net.IPEndPoint(ip, context.Connection.LocalPort) : null;

    private sealed class StreamDuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
