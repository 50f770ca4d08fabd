namespace WsGateway.LoadBench.Sinks;

/// <summary>
/// One engine of the <c>sinks</c> benchmark (JetStream, PostgreSQL, Kafka): a server started by the benchmark (or one
/// given), the engine's own client at its fastest as the baseline, and the <c>--sink</c> URI that stores the gateway's
/// trades in it. Every measurement gets a fresh destination (stream, table, topic) named by the caller, so runs do not
/// see each other's records or duplicates.
/// </summary>
internal interface ISinkEngine : IAsyncDisposable
{
    /// <summary>The sink's scheme: <c>nats</c>, <c>postgres</c>, <c>kafka</c>.</summary>
    string Name { get; }

    /// <summary>What runs the engine, for the table (<c>nats-server 2.9.10, single node, file storage</c>).</summary>
    string Server { get; }

    /// <summary>What the baseline is, for the table (<c>NATS.Net async publisher, 4,000 in flight, Msg-Id</c>).</summary>
    string Baseline { get; }

    /// <summary>The engine's own client storing 29-byte trades (the rows or records the sink would write) into
    /// <paramref name="destination"/>: records stored and acknowledged per second over
    /// <see cref="SinkBenchSettings.Duration"/>, after a second of warm-up.</summary>
    Task<double> BaselineAsync(string destination, SinkBenchSettings settings, CancellationToken cancellationToken);

    /// <summary>The engine's own client storing one record at a time, each waiting for its acknowledgement:
    /// <paramref name="recorder"/> gets every round trip after a warm-up of 100.</summary>
    Task BaselineRoundTripAsync(string destination, LatencyRecorder recorder, CancellationToken cancellationToken);

    /// <summary>The gateway's <c>--sink</c> URI storing into <paramref name="destination"/>, with
    /// <paramref name="query"/> (<c>key=value&amp;...</c>, may be empty) added.</summary>
    string SinkUri(string destination, string query);
}

/// <summary>The sizes of one <c>sinks</c> benchmark run.</summary>
/// <param name="Runs">Measured runs of each throughput configuration (medians are reported).</param>
/// <param name="Duration">Seconds measured per throughput run, after one second of warm-up.</param>
/// <param name="Connections">Client connections sending at once.</param>
/// <param name="Batch">Trades per frame.</param>
/// <param name="RoundTrips">Round trips measured (one trade, wait for its acknowledgement).</param>
/// <param name="Outage">Seconds the JetStream server is stopped in the memory measurement.</param>
internal sealed record SinkBenchSettings(int Runs, double Duration, int Connections, int Batch, int RoundTrips, double Outage);
