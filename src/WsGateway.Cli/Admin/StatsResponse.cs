using System.Text.Json;
using System.Text.Json.Serialization;

namespace WsGateway.Cli.Admin;

// The JSON of GET /api/stats (camelCase). Rates are per second, latencies in microseconds (bucket upper bounds).

/// <summary>One answer of <c>/api/stats</c>.</summary>
internal sealed record StatsResponse(long Time, double UptimeSeconds, GatewayInfo Gateway, TotalsInfo Totals, RatesInfo Rates, ErrorsInfo Errors, DispatchInfo Dispatch, SeriesInfo Series)
{
    /// <summary>The sink (<c>--sink</c>), or null without one.</summary>
    public SinkInfo? Sink { get; init; }
}

/// <summary>The sink pipeline now: its health as /health says it, counts since the start, what is in flight.</summary>
internal sealed record SinkInfo(
    string Name, string Health, string? Description, long Stored, long InFlightTrades, int MaxInFlightTrades, long InFlightBytes,
    int PausedConnections, long Retries, long Acks, double LagMs, double FailingForSeconds, string? LastError)
{
    /// <summary>Trades stored that the sink already held (resends, re-runs with the same ids) since the start; null
    /// when the sink cannot tell (kafka).</summary>
    public long? Duplicates { get; init; }

    public static SinkInfo From(WsGateway.Sinks.SinkPipeline pipeline)
    {
        WsGateway.Sinks.SinkStatus s = pipeline.GetStatus();
        Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult health = WsGateway.Sinks.SinkHealthCheck.Evaluate(s, pipeline.Options);
        return new SinkInfo(
            s.Sink, health.Status.ToString(), health.Description, s.TradesStored, s.InFlightTrades, s.MaxInFlightTrades, s.InFlightBytes,
            s.PausedConnections, s.Retries, s.AcknowledgementsSent, Math.Round(s.Lag.TotalMilliseconds, 1), Math.Round(s.FailingFor.TotalSeconds, 1), s.LastError)
        {
            Duplicates = s.TradesDuplicate,
        };
    }
}

internal sealed record GatewayInfo(string? Url, bool Listening);

internal sealed record TotalsInfo(long Connections, long Opened, long Rejected, long Messages, long Trades, long Bytes, long Errors);

internal sealed record RatesInfo(double Messages, double Trades, double Bytes);

/// <summary>Errors by kind; protocol closes by close code, refused handshakes by HTTP status.</summary>
internal sealed record ErrorsInfo(long Decode, long Handler, long Protocol, SortedDictionary<string, long> ProtocolByCloseCode, SortedDictionary<string, long> RejectedByStatus);

/// <summary>Handler time per socket read (<c>wsgateway.dispatch.duration</c>): over the last seconds and since the start.</summary>
internal sealed record DispatchInfo(int WindowSeconds, LatencySummary Recent, LatencySummary SinceStart);

/// <summary>One value a second, oldest first.</summary>
internal sealed record SeriesInfo(int IntervalSeconds, long[] Time, double[] Messages, double[] Trades, double[] Bytes, long[] Errors, long[] Connections, double?[] DispatchP50, double?[] DispatchP99);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(StatsResponse))]
internal sealed partial class AdminJsonContext : JsonSerializerContext;
