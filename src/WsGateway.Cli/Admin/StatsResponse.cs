using System.Text.Json;
using System.Text.Json.Serialization;

namespace WsGateway.Cli.Admin;

// The JSON of GET /api/stats (camelCase). Rates are per second, latencies in microseconds (bucket upper bounds).

/// <summary>One answer of <c>/api/stats</c>.</summary>
internal sealed record StatsResponse(long Time, double UptimeSeconds, GatewayInfo Gateway, TotalsInfo Totals, RatesInfo Rates, ErrorsInfo Errors, DispatchInfo Dispatch, SeriesInfo Series);

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
