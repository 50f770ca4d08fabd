using WsGateway.Sinks.Kafka;

namespace WsGateway.LoadBench.Sinks;

/// <summary>The engines of the <c>sinks</c> benchmark and the sink configurations measured on each.</summary>
internal static class SinkEngines
{
    /// <summary>Every engine, in the table's order.</summary>
    public static IReadOnlyList<string> Names { get; } = ["nats", "postgres", "kafka"];

    /// <summary>Starts (or connects to) the engine called <paramref name="name"/>.</summary>
    /// <param name="name">One of <see cref="Names"/>.</param>
    /// <param name="natsUrl">A JetStream server or cluster to use instead of starting one.</param>
    /// <param name="replicas">Replicas of the streams on <paramref name="natsUrl"/>.</param>
    /// <param name="cancellationToken">Ends the start.</param>
    public static Task<ISinkEngine> StartAsync(string name, string? natsUrl, int replicas, CancellationToken cancellationToken) => name switch
    {
        "nats" => StartNatsAsync(natsUrl, replicas, cancellationToken),
        "postgres" => StartPostgresAsync(cancellationToken),
        "kafka" => Task.FromResult<ISinkEngine>(KafkaEngine.Start()),
        _ => throw new ArgumentException($"sinks: engine '{name}' is not measured yet; expected nats, postgres or kafka", nameof(name)),
    };

    private static async Task<ISinkEngine> StartNatsAsync(string? url, int replicas, CancellationToken cancellationToken)
        => await NatsEngine.StartAsync(url, replicas, cancellationToken).ConfigureAwait(false);

    private static async Task<ISinkEngine> StartPostgresAsync(CancellationToken cancellationToken)
        => await PostgresEngine.StartAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>The sink configurations measured on <paramref name="name"/>: a label for the table and the query added
    /// to the sink URI.</summary>
    public static IReadOnlyList<(string Label, string Query)> Modes(string name) => name switch
    {
        "nats" => [("one record per trade", string.Empty), ("one record per frame (record=frame)", "record=frame")],
        "postgres" => [("defaults (2 writers)", string.Empty), ("writers=1 (one connection, as the baseline)", "writers=1")],
        "kafka" => KafkaModes(),
        _ => [("one record per trade", string.Empty)],
    };

    /// <summary>Kafka's: the sink's defaults (<c>linger.ms=1</c>, 64 batches at once), and the measurement behind them:
    /// the sink's previous defaults (<c>linger.ms=0</c>, 4 at once), <c>linger.ms=1</c> at 4, and librdkafka's default
    /// <c>linger.ms=5</c>. <c>WSGW_KAFKA_MODES</c> (<c>;</c>-separated queries, <c>linger.ms=2&amp;concurrency=16</c>)
    /// adds more, to explore.</summary>
    private static IReadOnlyList<(string Label, string Query)> KafkaModes()
    {
        var modes = new List<(string, string)>
        {
            ($"one record per trade, defaults (linger.ms={KafkaSinkOptions.ProducerDefaults["linger.ms"]}, concurrency={KafkaSinkOptions.DefaultConcurrentBatches})", string.Empty),
            ("linger.ms=0&concurrency=4 (the defaults before)", "linger.ms=0&concurrency=4"),
            ("concurrency=4", "concurrency=4"),
            ("linger.ms=5 (librdkafka's default)", "linger.ms=5"),
        };
        foreach (string query in (Environment.GetEnvironmentVariable("WSGW_KAFKA_MODES") ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            modes.Add((query, query));
        }

        return modes;
    }
}
