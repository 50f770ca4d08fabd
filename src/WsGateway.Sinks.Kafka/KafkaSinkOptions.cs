namespace WsGateway.Sinks.Kafka;

/// <summary>Where and how <see cref="KafkaTradeSink"/> produces trades.</summary>
public sealed class KafkaSinkOptions
{
    /// <summary>The brokers to bootstrap from, <c>host:port[,host:port...]</c> (librdkafka's
    /// <c>bootstrap.servers</c>).</summary>
    public string BootstrapServers { get; set; } = "";

    /// <summary>The topic every trade goes to.</summary>
    public string Topic { get; set; } = "";

    /// <summary>
    /// More librdkafka producer properties (<c>linger.ms</c>, <c>compression.type</c>, <c>security.protocol</c>,
    /// <c>sasl.*</c>, <c>statistics.interval.ms</c>, ...: see librdkafka's CONFIGURATION.md). <c>enable.idempotence</c>
    /// and <c>acks</c> are the sink's own (true and all): setting them otherwise is an error. A property set here
    /// replaces the sink's default of the same name (<see cref="ProducerDefaults"/>): <c>linger.ms=0</c> for the
    /// lowest latency when the load is light, at the cost of throughput under load.
    /// </summary>
    public IDictionary<string, string> Config { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// Batches a <see cref="SinkPipeline"/> in front of this sink should publish at once
    /// (<see cref="SinkPipelineOptions.MaxConcurrentBatches"/>): 64, what a <c>kafka://</c> <c>--sink</c> URI gets
    /// unless it says <c>concurrency=</c>; set it yourself when you build the pipeline. A pipeline batch is one socket
    /// read, and each publish waits for its delivery reports, at least <c>linger.ms</c> (1 ms): with the pipeline's
    /// default of 4, reads of one trade each could not be stored faster than about 3,200 trades/s. librdkafka batches
    /// the messages of all publishes in flight, so more at once costs nothing when reads are large (measured: 0.97x of
    /// a plain producer at 64 against 0.92x at 4) and lets small reads through (about 54,000 single-trade batches/s,
    /// more than <c>linger.ms=0</c> at 4).
    /// </summary>
    public const int DefaultConcurrentBatches = 64;

    /// <summary>
    /// The librdkafka properties the sink sets unless <see cref="Config"/> sets them: <c>linger.ms=1</c>, chosen by
    /// measurement (docs/sinks.md, "Kafka: defaults, chosen by measurement"). With <c>linger.ms=0</c> librdkafka wakes
    /// its broker thread for nearly every message handed over while it keeps up (500 to 1,100 wakeups per 1,000
    /// messages, 100 to 140 messages per request, measured), which under full load costs the gateway more than its own
    /// path: 0.76x to 0.89x of a plain idempotent producer on the same cluster. 1 ms cut the wakeups to 120 to 270 per
    /// 1,000 and gave 0.87x to 0.97x, for about 1 ms more on a lone trade (librdkafka waits in whole milliseconds, so
    /// a smaller value delays as long and batches less); librdkafka's own default, 5 ms, gained little more. Batch
    /// limits (<c>batch.num.messages</c> 10,000, <c>batch.size</c> 1 MB) and the local queue
    /// (<c>queue.buffering.max.messages</c> 100,000, the pipeline's default in-flight bound) stay librdkafka's:
    /// requests carried at most about 2,000 records.
    /// </summary>
    public static IReadOnlyDictionary<string, string> ProducerDefaults { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["linger.ms"] = "1",
    };

    /// <summary>How long <see cref="KafkaTradeSink.DisposeAsync"/> waits for messages still in flight. Default 10 s.</summary>
    public TimeSpan FlushTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Reads the options from the parts of a <c>kafka://host[:port][,host[:port]...]/topic[?property=value...]</c>
    /// sink URI, taken apart by <see cref="SinkUri"/> (<see cref="SinkFactory.Plan"/>, what <c>wsgw serve --sink</c>
    /// takes): the brokers (port 9092 by default), the topic, and the query parameters not taken by the pipeline
    /// (librdkafka producer properties, such as <c>?linger.ms=1&amp;compression.type=lz4</c>;
    /// <c>bootstrap.servers=a:9092,b:9092</c> names more brokers than the URI's hosts).
    /// </summary>
    /// <param name="authority">The brokers.</param>
    /// <param name="topic">The topic.</param>
    /// <param name="properties">Decoded query parameters: librdkafka producer properties, <c>bootstrap.servers</c> included.</param>
    /// <returns>The options.</returns>
    /// <exception cref="ArgumentException">A bad part; the message names it and the expected form.</exception>
    public static KafkaSinkOptions FromParts(string authority, string topic, IEnumerable<KeyValuePair<string, string>> properties)
    {
        ArgumentNullException.ThrowIfNull(authority);
        ArgumentNullException.ThrowIfNull(topic);
        ArgumentNullException.ThrowIfNull(properties);
        if (authority.Contains('@', StringComparison.Ordinal))
        {
            throw new ArgumentException(
                "kafka sink: a user name or password in the URI is not used; expected the brokers alone, and SASL as properties (?security.protocol=SASL_SSL&sasl.mechanism=...).");
        }

        var options = new KafkaSinkOptions { BootstrapServers = SinkUri.HostList(authority, 9092), Topic = topic };
        if (options.BootstrapServers.Length == 0)
        {
            throw new ArgumentException("kafka sink: no host; expected kafka://host[:port][,host[:port]...]/topic[?librdkafka.property=value&...].");
        }

        foreach ((string name, string value) in properties)
        {
            if (name == "bootstrap.servers")
            {
                options.BootstrapServers = value;
            }
            else
            {
                options.Config[name] = value;
            }
        }

        options.Validate();
        return options;
    }

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentException">The message names the bad option and what was expected.</exception>
    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(BootstrapServers))
        {
            throw new ArgumentException("kafka sink: no bootstrap servers; expected host:port[,host:port...].");
        }

        if (!IsTopicName(Topic))
        {
            throw new ArgumentException(
                $"kafka sink: topic '{Topic}' is not a Kafka topic name; expected 1 to 249 characters of letters, digits, '.', '_' and '-'.");
        }

        if (Config.TryGetValue("enable.idempotence", out string? idempotence) && !string.Equals(idempotence, "true", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException(
                $"kafka sink: enable.idempotence={idempotence}: the sink's producer is always idempotent (no duplicates or reordering from its own retries); expected true or nothing.");
        }

        if (Config.TryGetValue("acks", out string? acks) && acks is not ("all" or "-1"))
        {
            throw new ArgumentException(
                $"kafka sink: acks={acks}: a trade counts as stored only once every in-sync replica has it; expected all or nothing.");
        }

        if (Config.ContainsKey("bootstrap.servers"))
        {
            throw new ArgumentException("kafka sink: bootstrap.servers belongs in BootstrapServers, not Config.");
        }
    }

    private static bool IsTopicName(string topic)
    {
        if (topic.Length is 0 or > 249 || topic is "." or "..")
        {
            return false;
        }

        foreach (char c in topic)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }
}
