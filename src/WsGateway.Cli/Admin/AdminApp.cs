using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using WsGateway.Diagnostics;
using WsGateway.Sinks;

namespace WsGateway.Cli.Admin;

/// <summary>
/// The admin endpoints of <c>wsgw serve</c>, on their own HTTP port (HTTPS with <c>--cert</c>) (the gateway's port speaks WebSocket from the
/// first byte): <c>/metrics</c> (Prometheus, through OpenTelemetry), <c>/health</c>, <c>/</c> (dashboard),
/// <c>/client</c> (a browser client) and <c>/api/stats</c> (the dashboard's data).
/// </summary>
internal static class AdminApp
{
    /// <summary>Builds the app; <see cref="Map"/> adds the endpoints once the gateway exists. The gateway's metrics
    /// must come from this app's <see cref="System.Diagnostics.Metrics.IMeterFactory"/> for /metrics to show them.</summary>
    public static WebApplication Build((IPAddress? Address, int Port, bool Localhost) address, ILoggerFactory loggerFactory, AdminState state)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);

        // wsgw serve handles Ctrl+C and SIGTERM itself (graceful gateway shutdown first); the host must not.
        builder.Services.AddSingleton<IHostLifetime, NoSignalsHostLifetime>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;

            // With wsgw serve --cert the admin endpoints are https with the gateway's certificate: the browser client
            // served from here may then connect to wss:// (an https page cannot open ws://, mixed content), and
            // /metrics and /health are not readable on the way.
            Action<ListenOptions> configure = listen =>
            {
                if (state.Options?.ServerCertificate is { } certificate)
                {
                    listen.UseHttps(https =>
                    {
                        https.ServerCertificate = certificate;
                        https.ServerCertificateChain = state.Options.ServerCertificateChain;
                        https.SslProtocols = state.Options.SslProtocols;
                    });
                }
            };
            if (address.Localhost)
            {
                kestrel.ListenLocalhost(address.Port, configure);
            }
            else
            {
                kestrel.Listen(address.Address!, address.Port, configure);
            }
        });

        // DNS rebinding: a web page whose name resolves to 127.0.0.1 must not read the admin endpoints, so only the
        // names the app listens on are accepted as Host (ASP.NET Core's host filtering answers others 400).
        builder.Services.AddHostFiltering(o =>
        {
            o.AllowedHosts = AllowedHosts(address);
            o.AllowEmptyHosts = false;
        });
        builder.Services.AddOpenTelemetry().ConfigureResource(r => r.AddService("wsgw")).WithMetrics(metrics => metrics
            .AddMeter(GatewayMetrics.MeterName, "Microsoft.AspNetCore.Server.Kestrel")
            .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            "gateway",
            _ => new WebSocketServerHealthCheck(state.Server ?? throw new InvalidOperationException("The gateway has not started."), state.Options, state.Stopping),
            HealthStatus.Unhealthy,
            ["gateway"]));
        if (state.HasSink)
        {
            builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
                "sink",
                _ => new SinkHealthCheck(state.Sink ?? throw new InvalidOperationException("The sink has not started.")),
                HealthStatus.Unhealthy,
                ["sink"]));
        }

        return builder.Build();
    }

    /// <summary>Adds the endpoints.</summary>
    public static void Map(WebApplication app, AdminState state)
    {
        app.UseHostFiltering();
        app.MapPrometheusScrapingEndpoint();
        app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = WriteHealthAsync });
        app.MapGet("/api/stats", (HttpContext context) =>
        {
            context.Response.Headers.CacheControl = "no-store";
            Uri? url = state.Server?.LocalEndPoint is not null ? state.Server.Url : null;
            StatsResponse stats = state.Stats!.Read(url, url is not null && !state.Stopping.IsCancellationRequested);
            if (state.Sink is { } sink)
            {
                stats = stats with { Sink = SinkInfo.From(sink) };
            }

            return TypedResults.Json(stats, AdminJsonContext.Default.StatsResponse);
        });
        AdminPages.Map(app);
    }

    /// <summary>The <c>Host</c> names the admin app answers: loopback names, and the address it listens on; any name
    /// when it listens on every interface (the operator chose the exposure).</summary>
    internal static List<string> AllowedHosts((IPAddress? Address, int Port, bool Localhost) address)
    {
        if (address.Address is { } ip && (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any)))
        {
            return ["*"];
        }

        List<string> hosts = ["localhost", "127.0.0.1", "[::1]"];
        if (address.Address is { } listen && !IPAddress.IsLoopback(listen))
        {
            hosts.Add(listen.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{listen}]" : listen.ToString());
        }

        return hosts;
    }

    /// <summary>The address the app listens on, with loopback for "any".</summary>
    public static Uri ListeningUrl(WebApplication app)
    {
        var url = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return url.Host is "0.0.0.0" or "[::]" ? new UriBuilder(url) { Host = "127.0.0.1" }.Uri : url;
    }

    /// <summary><c>/health</c> as JSON: overall status, then each check with its description and data.</summary>
    private static async Task WriteHealthAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        await using var json = new Utf8JsonWriter(context.Response.Body, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("status", report.Status.ToString());
        json.WriteNumber("durationMs", Math.Round(report.TotalDuration.TotalMilliseconds, 3));
        json.WriteStartObject("checks");
        foreach ((string name, HealthReportEntry entry) in report.Entries)
        {
            json.WriteStartObject(name);
            json.WriteString("status", entry.Status.ToString());
            json.WriteString("description", entry.Description ?? entry.Exception?.Message);
            json.WriteStartObject("data");
            foreach ((string key, object value) in entry.Data)
            {
                switch (value)
                {
                    case int number:
                        json.WriteNumber(key, number);
                        break;
                    case long number:
                        json.WriteNumber(key, number);
                        break;
                    default:
                        json.WriteString(key, value.ToString());
                        break;
                }
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>A host lifetime that leaves process signals to the application.</summary>
    private sealed class NoSignalsHostLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

/// <summary>What the admin endpoints look at; filled in once the gateway exists (it needs the app's meter factory).</summary>
internal sealed class AdminState
{
    public WebSocketServer? Server { get; set; }

    public TradeGatewayOptions? Options { get; set; }

    public GatewayStats? Stats { get; set; }

    /// <summary>Whether serve has a sink (known before the app is built, which registers its health check).</summary>
    public bool HasSink { get; set; }

    /// <summary>The sink pipeline, once started.</summary>
    public SinkPipeline? Sink { get; set; }

    /// <summary>Cancelled when shutdown begins: /health turns unhealthy while connections drain.</summary>
    public CancellationToken Stopping { get; set; }
}
