using Microsoft.Extensions.Logging;

namespace WsGateway.Sinks;

/// <summary>The sink pipeline's log messages (event ids 500-599).</summary>
internal static partial class Log
{
    [LoggerMessage(500, LogLevel.Warning, "Sink {Sink}: publishing {Trades} trades failed (attempt {Attempt}), retrying in {DelayMs} ms: {Error}")]
    public static partial void PublishFailed(ILogger logger, string sink, int trades, int attempt, long delayMs, string error);

    [LoggerMessage(501, LogLevel.Information, "Sink {Sink}: publishing again after {Failures} failed attempts over {Seconds:0.0} s")]
    public static partial void Recovered(ILogger logger, string sink, int failures, double seconds);

    [LoggerMessage(502, LogLevel.Debug, "Sink {Sink}: {Trades} unacknowledged trades in flight reached the bound; pausing connection {ConnectionId}")]
    public static partial void Paused(ILogger logger, string sink, long trades, long connectionId);

    [LoggerMessage(503, LogLevel.Debug, "Sink {Sink}: back under the low-water mark; resuming {Count} connections")]
    public static partial void Resumed(ILogger logger, string sink, int count);

    [LoggerMessage(504, LogLevel.Warning, "Sink {Sink}: stopped with {Trades} trades not stored by the stop's deadline; their clients were not acknowledged and resend them")]
    public static partial void Abandoned(ILogger logger, string sink, long trades);

    [LoggerMessage(505, LogLevel.Warning, "Sink {Sink}: sending an acknowledgement to connection {ConnectionId} failed")]
    public static partial void AckFailed(ILogger logger, string sink, long connectionId, Exception exception);

    [LoggerMessage(506, LogLevel.Warning, "Sink {Sink}: not ready, retrying: {Reason}")]
    public static partial void NotReady(ILogger logger, string sink, string reason);

    [LoggerMessage(507, LogLevel.Information, "Sink {Sink}: ready after {Attempts} attempts of the start-up check")]
    public static partial void Ready(ILogger logger, string sink, int attempts);

    [LoggerMessage(508, LogLevel.Warning, "Sink {Sink}: did not close within {Seconds:0.0} s; left to finish on its own")]
    public static partial void CloseTimedOut(ILogger logger, string sink, double seconds);
}
