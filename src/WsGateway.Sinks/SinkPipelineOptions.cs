namespace WsGateway.Sinks;

/// <summary>Bounds, retries and health thresholds of a <see cref="SinkPipeline"/>. Every value has a default; a value
/// out of range is refused by the pipeline's constructor with a message naming the option.</summary>
public sealed class SinkPipelineOptions
{
    /// <summary>Trades handed to the sink and not yet acknowledged by it, at most (the bound). A connection whose read
    /// takes the count to the bound stops being read (<see cref="IGatewayConnection.PauseReceiving"/>) until the count
    /// falls to <see cref="ResumeFraction"/> of it; each connection may overshoot by the trades of one read.
    /// Default 100,000 (2.9 MB of 29-byte trades).</summary>
    public int MaxInFlightTrades { get; set; } = 100_000;

    /// <summary>Bytes of trades handed to the sink and not yet acknowledged, at most; the same rule as
    /// <see cref="MaxInFlightTrades"/>, whichever is reached first. Default 16 MiB.</summary>
    public long MaxInFlightBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>The low-water mark as a fraction of the bounds: paused connections resume once both the trades and
    /// the bytes in flight are at or below it. Default 0.5; between 0 and 1.</summary>
    public double ResumeFraction { get; set; } = 0.5;

    /// <summary>Batches (one per socket read) published at the same time. With more than one, batches of different
    /// reads may be stored in another order than they arrived (each trade still once); 1 keeps the arrival order.
    /// Default 4.</summary>
    public int MaxConcurrentBatches { get; set; } = 4;

    /// <summary>Wait before the first retry of a failed publish; doubled at each failure up to
    /// <see cref="RetryMaxDelay"/>, with up to 20 % random jitter. Default 50 ms.</summary>
    public TimeSpan RetryInitialDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Longest wait between retries. A batch is retried until it is stored or the pipeline stops: never
    /// dropped. Default 2 s.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Health: Degraded when the oldest unacknowledged batch is older than this (the sink lags). Default 5 s.</summary>
    public TimeSpan LagDegraded { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Health: Unhealthy when publishing has failed without a success for this long, or the sink lags by
    /// this much. Before that a failing sink is Degraded. Default 30 s.</summary>
    public TimeSpan Unhealthy { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long stopping the pipeline may take in all: waiting for the batches in flight to be stored, then
    /// closing the sink (Kafka's flush included) with what is left. Batches still in flight then are given up and
    /// counted (<see cref="SinkPipeline.TradesNotStored"/>; their clients were not acknowledged, so they resend them
    /// after reconnecting). <see cref="SinkPipeline.StopAsync"/> may shorten it. Default 10 s.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Checks the options, returning the first problem found or <see langword="null"/>.</summary>
    /// <returns>A sentence naming the option, its value and what is expected, or <see langword="null"/>.</returns>
    public string? Validate()
    {
        if (MaxInFlightTrades < 1)
        {
            return $"MaxInFlightTrades must be at least 1, got {MaxInFlightTrades}";
        }

        if (MaxInFlightBytes < 1024)
        {
            return $"MaxInFlightBytes must be at least 1024 bytes, got {MaxInFlightBytes}";
        }

        if (!(ResumeFraction >= 0 && ResumeFraction < 1))
        {
            return $"ResumeFraction must be at least 0 and below 1, got {ResumeFraction}";
        }

        if (MaxConcurrentBatches is < 1 or > 1024)
        {
            return $"MaxConcurrentBatches must be between 1 and 1024, got {MaxConcurrentBatches}";
        }

        if (RetryInitialDelay <= TimeSpan.Zero || RetryMaxDelay < RetryInitialDelay)
        {
            return $"RetryInitialDelay must be positive and RetryMaxDelay at least as long, got {RetryInitialDelay} and {RetryMaxDelay}";
        }

        if (LagDegraded <= TimeSpan.Zero || Unhealthy <= TimeSpan.Zero || DrainTimeout < TimeSpan.Zero)
        {
            return $"LagDegraded and Unhealthy must be positive and DrainTimeout not negative, got {LagDegraded}, {Unhealthy} and {DrainTimeout}";
        }

        return null;
    }
}
