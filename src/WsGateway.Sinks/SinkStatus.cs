namespace WsGateway.Sinks;

/// <summary>A snapshot of a <see cref="SinkPipeline"/>, for health checks and dashboards.</summary>
/// <param name="Sink">The sink's name.</param>
/// <param name="TradesStored">Trades the sink has acknowledged since the start.</param>
/// <param name="InFlightTrades">Trades handed to the sink and not yet acknowledged.</param>
/// <param name="InFlightBytes">Their bytes.</param>
/// <param name="MaxInFlightTrades">The bound on <paramref name="InFlightTrades"/>.</param>
/// <param name="PausedConnections">Connections not read because the bound was reached.</param>
/// <param name="Retries">Failed publish attempts since the start.</param>
/// <param name="AcknowledgementsSent">TradeAck messages sent to clients since the start.</param>
/// <param name="Lag">Age of the oldest unacknowledged trade; zero when none is in flight.</param>
/// <param name="FailingFor">How long publishing has failed without a success; zero while it works.</param>
/// <param name="LastError">The last publish error while failing; <see langword="null"/> while it works.</param>
public readonly record struct SinkStatus(
    string Sink,
    long TradesStored,
    long InFlightTrades,
    long InFlightBytes,
    int MaxInFlightTrades,
    int PausedConnections,
    long Retries,
    long AcknowledgementsSent,
    TimeSpan Lag,
    TimeSpan FailingFor,
    string? LastError)
{
    /// <summary>Why the sink is not ready while its start-up check is retried (a pipeline started degraded:
    /// <see cref="SinkPipeline.StartCheckingSink"/>); null once ready, or when no check was asked for.</summary>
    public string? NotReadyReason { get; init; }

    /// <summary>Trades stored that the sink already held when they came (resends, re-runs with the same trade ids),
    /// since the start; <see langword="null"/> when the sink cannot tell (Kafka).</summary>
    public long? TradesDuplicate { get; init; }
}
