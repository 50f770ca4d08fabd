using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using WsGateway.Sbe;
using WsGateway.Sinks.Kafka;
using WsGateway.Testing;

namespace WsGateway.LoadBench.Sinks;

/// <summary>
/// Kafka: librdkafka's mock cluster (<c>test.mock.num.brokers</c>), hosted in <em>this</em> process (the benchmark's,
/// not the gateway's): no Kafka broker can be installed on the machines this is measured on. The gateway's server
/// process connects to it by <c>bootstrap.servers</c> like to any cluster. Each destination is a topic of
/// <see cref="Partitions"/> partitions (replication factor 3, leaders placed by the mock cluster). The baseline is a plain
/// Confluent.Kafka producer (<c>enable.idempotence=true</c>, <c>acks=all</c>, librdkafka's other defaults) producing
/// the records the sink writes (key = the trade id, 8 bytes big-endian; value = the 29-byte SBE trade).
/// </summary>
internal sealed class KafkaEngine : ISinkEngine
{
    /// <summary>Partitions of every topic the benchmark creates.</summary>
    public const int Partitions = 3;

    private const int Brokers = 3;

    private readonly KafkaMockCluster _cluster;

    private KafkaEngine(KafkaMockCluster cluster) => _cluster = cluster;

    public string Name => "kafka";

    public string Server => $"librdkafka {Library.VersionString} mock cluster, {Brokers} brokers, in the benchmark's process (not the gateway's); topics of {Partitions} partitions, RF 3";

    public string Baseline => $"Confluent.Kafka producer, enable.idempotence, acks=all, librdkafka defaults (linger.ms=5), delivery report fields none, Produce + delivery handler from {Environment.ProcessorCount} threads, key = trade id, 29-byte value";

    /// <summary>Starts the mock cluster in this process.</summary>
    public static KafkaEngine Start() => new(new KafkaMockCluster(Brokers));

    /// <summary>The sink's URI on a new topic; <c>WSGW_KAFKA_QUERY</c> (<c>linger.ms=1&amp;...</c>) is added to every
    /// one, the round trip's included, to explore.</summary>
    public string SinkUri(string destination, string query)
    {
        CreateTopic(destination);
        // The mode's own keys win over WSGW_KAFKA_QUERY's (a key given twice is an error).
        string[] own = query.Split('&', StringSplitOptions.RemoveEmptyEntries);
        IEnumerable<string> extra = (Environment.GetEnvironmentVariable("WSGW_KAFKA_QUERY") ?? string.Empty)
            .Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Where(e => !own.Any(o => o.Split('=')[0] == e.Split('=')[0]));
        string all = string.Join('&', extra.Concat(own));
        return $"kafka://{_cluster.BootstrapServers}/{destination}{(all.Length > 0 ? "?" + all : string.Empty)}";
    }

    /// <summary>A plain idempotent producer as fast as it goes: one producer, <see cref="Environment.ProcessorCount"/>
    /// threads calling <c>Produce</c> with one delivery handler for every record (no task per record), as many in flight
    /// as librdkafka's queue takes (a full queue is waited out), delivery report fields <c>none</c> as the sink's:
    /// records delivered per second over the measured window. <c>WSGW_KAFKA_BASELINE</c>
    /// (<c>threads=1&amp;linger.ms=0&amp;...</c>) changes the threads and librdkafka properties, to explore.</summary>
    public async Task<double> BaselineAsync(string destination, SinkBenchSettings settings, CancellationToken cancellationToken)
    {
        CreateTopic(destination);
        ProducerConfig config = ProducerConfig(lingerMs: null);
        config.DeliveryReportFields = "none";
        int threads = Environment.ProcessorCount;
        foreach (string pair in (Environment.GetEnvironmentVariable("WSGW_KAFKA_BASELINE") ?? string.Empty).Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] parts = pair.Split('=', 2);
            if (parts[0] == "threads")
            {
                threads = int.Parse(parts[1], CultureInfo.InvariantCulture);
            }
            else
            {
                config.Set(parts[0], parts[1]);
            }
        }

        using IProducer<byte[], byte[]> producer = new ProducerBuilder<byte[], byte[]>(config).Build();
        var counter = new DeliveryCounter();
        using var stop = new CancellationTokenSource();
        var loops = new Task[threads];
        for (int t = 0; t < threads; t++)
        {
            ulong firstId = ((ulong)t << 40) + 1;
            loops[t] = Task.Factory.StartNew(() => ProduceLoop(producer, destination, counter, firstId, stop.Token), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }

        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
        long from = counter.Delivered;
        var clock = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(settings.Duration), cancellationToken).ConfigureAwait(false);
        long to = counter.Delivered;
        double elapsed = clock.Elapsed.TotalSeconds;
        await stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(loops).ConfigureAwait(false);
        await Task.Run(() => producer.Flush(TimeSpan.FromSeconds(60)), cancellationToken).ConfigureAwait(false);
        if (counter.Failed > 0)
        {
            throw new InvalidOperationException($"kafka baseline: {counter.Failed} records not delivered: {counter.FirstError}");
        }

        return (to - from) / elapsed;
    }

    /// <summary>What a plain application does per record: a key and a value array, a <c>Message</c>, <c>Produce</c>.</summary>
    private static void ProduceLoop(IProducer<byte[], byte[]> producer, string topic, DeliveryCounter counter, ulong firstId, CancellationToken stop)
    {
        Action<DeliveryReport<byte[], byte[]>> handler = counter.OnReport;
        for (ulong id = firstId; !stop.IsCancellationRequested; id++)
        {
            var value = new byte[Trade.EncodedSize];
            new Trade(id, (byte)'B', 100.5, 10).Encode(value);
            byte[] key = new byte[sizeof(ulong)];
            BinaryPrimitives.WriteUInt64BigEndian(key, id);
            var message = new Message<byte[], byte[]> { Key = key, Value = value };
            while (true)
            {
                try
                {
                    producer.Produce(topic, message, handler);
                    break;
                }
                catch (ProduceException<byte[], byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
                {
                    Thread.Sleep(1); // librdkafka's queue (100,000 records by default) is full
                }
            }
        }
    }

    /// <summary>One record at a time, each awaiting its delivery report (<c>ProduceAsync</c>), with the sink's
    /// producer settings (<see cref="KafkaSinkOptions.ProducerDefaults"/>, <c>linger.ms=1</c>): the round trip the
    /// gateway adds to. The same with <c>linger.ms=0</c> (the fastest a lone record goes) is written to standard
    /// error.</summary>
    public async Task BaselineRoundTripAsync(string destination, LatencyRecorder recorder, CancellationToken cancellationToken)
    {
        CreateTopic(destination);
        var immediate = new LatencyRecorder(recorder.Capacity);
        ProducerConfig sinkLike = ProducerConfig(lingerMs: null);
        foreach ((string name, string value) in KafkaSinkOptions.ProducerDefaults)
        {
            sinkLike.Set(name, value);
        }

        await RoundTripsAsync(destination, ProducerConfig(lingerMs: 0), immediate, cancellationToken).ConfigureAwait(false);
        await RoundTripsAsync(destination, sinkLike, recorder, cancellationToken).ConfigureAwait(false);
        Console.Error.WriteLine($"sinks: kafka: bare round trip with linger.ms=0: p50 {immediate.Percentile(50):0} µs, p99 {immediate.Percentile(99):0} µs; "
            + $"with the sink's linger.ms={KafkaSinkOptions.ProducerDefaults["linger.ms"]}: p50 {recorder.Percentile(50):0} µs, p99 {recorder.Percentile(99):0} µs");
    }

    private static async Task RoundTripsAsync(string topic, ProducerConfig config, LatencyRecorder recorder, CancellationToken cancellationToken)
    {
        using IProducer<byte[], byte[]> producer = new ProducerBuilder<byte[], byte[]>(config).Build();
        for (int i = 1; i <= recorder.Capacity + 100; i++)
        {
            var payload = new byte[Trade.EncodedSize];
            new Trade((ulong)i, (byte)'L', 1.5, 1).Encode(payload);
            byte[] key = new byte[sizeof(ulong)];
            BinaryPrimitives.WriteUInt64BigEndian(key, (ulong)i);
            long started = Stopwatch.GetTimestamp();
            await producer.ProduceAsync(topic, new Message<byte[], byte[]> { Key = key, Value = payload }, cancellationToken).ConfigureAwait(false);
            if (i > 100)
            {
                recorder.Record(Stopwatch.GetTimestamp() - started); // the first 100 warm up
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _cluster.Dispose();
        return ValueTask.CompletedTask;
    }

    private void CreateTopic(string topic) => _cluster.CreateTopic(topic, Partitions, replicationFactor: Brokers);

    private ProducerConfig ProducerConfig(int? lingerMs) => new()
    {
        BootstrapServers = _cluster.BootstrapServers,
        EnableIdempotence = true,
        Acks = Acks.All,
        LingerMs = lingerMs,
    };

    /// <summary>Counts delivery reports (on the producer's poll thread).</summary>
    private sealed class DeliveryCounter
    {
        private long _delivered;
        private long _failed;

        public long Delivered => Volatile.Read(ref _delivered);

        public long Failed => Volatile.Read(ref _failed);

        public string? FirstError { get; private set; }

        public void OnReport(DeliveryReport<byte[], byte[]> report)
        {
            if (report.Error.IsError)
            {
                FirstError ??= $"{report.Error.Code}: {report.Error.Reason}";
                Interlocked.Increment(ref _failed);
            }
            else
            {
                Interlocked.Increment(ref _delivered);
            }
        }
    }
}
