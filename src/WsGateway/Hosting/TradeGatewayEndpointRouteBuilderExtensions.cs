using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;
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
            upgrade: headers.Upgrade,
            connection: headers.Connection,
            version: headers.SecWebSocketVersion,
            key: headers.SecWebSocketKey,
            out int status);
        if (problem is not null)
        {
            await RejectAsync(context, status, problem).ConfigureAwait(false);
            return;
        }

        string? origin = headers.Origin.Count == 0 ? null : headers.Origin.ToString();
        IPAddress? address = ConnectionManager.Normalize(context.Connection.RemoteIpAddress);
        long id = manager.NextConnectionId();
        AdmissionResult admission;
        using (var timeout = new CancellationTokenSource(manager.Options.HandshakeTimeout, manager.TimeProvider))
        using (var aborted = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, context.RequestAborted, manager.Stopping))
        {
            admission = await manager.AdmitAsync(id, origin, address, RemoteEndPoint(context), context.User, token => CreateContext(context, token), aborted.Token).ConfigureAwait(false);
        }

        if (!admission.IsAdmitted)
        {
            if (!context.RequestAborted.IsCancellationRequested)
            {
                if (admission.WwwAuthenticate is { } challenge)
                {
                    context.Response.Headers.WWWAuthenticate = challenge;
                }

                await RejectAsync(context, admission.StatusCode, admission.Reason ?? "Refused").ConfigureAwait(false);
            }

            return;
        }

        // From here the slot is ours: the lease goes back here unless the connection took it over.
        AdmissionLease? lease = admission.Lease;
        try
        {
            string key = headers.SecWebSocketKey.ToString();
            context.Response.Headers.Connection = HeaderNames.Upgrade;
            context.Response.Headers.Upgrade = "websocket";
            context.Response.Headers.SecWebSocketAccept = HandshakeResponse.ComputeAccept(key);
            Stream stream = await upgrade!.UpgradeAsync().ConfigureAwait(false);
            var transport = new UpgradedTransport(
                context,
                PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true)),
                PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true)));
            var connection = new WebSocketConnection(transport, manager, RemoteEndPoint(context), LocalEndPoint(context), id: id);
            AdmissionLease held = lease!;
            lease = null;
            await connection.RunUpgradedAsync(context.Request.Path.Value ?? "/", admission.User, held).ConfigureAwait(false);
        }
        finally
        {
            lease?.Dispose();
        }
    }

    private static HandshakeContext CreateContext(HttpContext context, CancellationToken aborted)
    {
        IHeaderDictionary headers = context.Request.Headers;
        string? query = context.Request.QueryString.HasValue ? context.Request.QueryString.Value![1..] : null;
        return new HandshakeContext(
            context.Request.Path.Value ?? "/",
            query,
            RemoteEndPoint(context),
            LocalEndPoint(context),
            context.Request.IsHttps,
            context.Connection.ClientCertificate,
            context.User,
            name => headers.TryGetValue(name, out StringValues values) ? values.ToString() : null,
            aborted);
    }

    private static Task RejectAsync(HttpContext context, int status, string reason)
    {
        context.RequestServices.GetRequiredService<TradeGatewayService>().Manager.Metrics.ConnectionRejected(status);
        context.Response.StatusCode = status;
        if (status == StatusCodes.Status426UpgradeRequired)
        {
            context.Response.Headers.SecWebSocketVersion = UpgradeRequestRules.SupportedVersion;
        }

        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(reason + "\n");
    }

    private static System.Net.IPEndPoint? RemoteEndPoint(HttpContext context)
        => context.Connection.RemoteIpAddress is { } ip ? new System.Net.IPEndPoint(ip, context.Connection.RemotePort) : null;

    private static System.Net.IPEndPoint? LocalEndPoint(HttpContext context)
        => context.Connection.LocalIpAddress is { } ip ? new System.Net.IPEndPoint(ip, context.Connection.LocalPort) : null;

    /// <summary>An upgraded request as the connection core's transport: <see cref="Abort"/> is
    /// <see cref="HttpContext.Abort"/>; Kestrel closes the connection itself once the endpoint returns, so
    /// <see cref="Closed"/> is complete at once (the core bounds its last flush).</summary>
    private sealed class UpgradedTransport(HttpContext context, PipeReader input, PipeWriter output) : IConnectionTransport
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;

        public Task Closed => Task.CompletedTask;

        public bool PeerClosed => context.RequestAborted.IsCancellationRequested;

        public void Abort(string reason) => context.Abort();
    }
}
