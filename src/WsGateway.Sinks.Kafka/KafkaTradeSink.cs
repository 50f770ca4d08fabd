using System.Buffers.Binary;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace WsGateway.Sinks.Kafka;

/// <summary>
/// Produces each trade as one Kafka message to a topic: key = the trade id (8 bytes, big-endian, as Kafka's
/// <c>LongSerializer</c> writes it for ids below 2^63), value = the SBE message exactly as received. The producer is
/// idempotent (<c>enable.idempotence=true</c>, <c>acks=all</c>): librdkafka's own retries (a broker down, a
/// leader change, a lost response) never write a message twice nor reorder a partition. <see cref="PublishAsync"/>
/// completes when every message of the batch has its delivery report, that is when every in-sync replica has it.
/// </summary>
/// <remarks>
/// <para>What holds, precisely. Within one producer session (this sink object, until a fatal producer error), each
/// message <see cref="PublishAsync"/> is given is written once. A batch published <em>again</em> — the pipeline's
/// retry of a batch that failed, or a resend after a gateway restart — is a new send of the same messages: Kafka
/// stores them again. Exactly once for a consumer therefore needs the consumer to deduplicate on the key (the trade
/// id), for example with a compacted topic, an upsert on the id, or a set of seen ids over the window in which a
/// resend can happen.</para>
/// <para>The messages of a batch are spread over partitions by the key (librdkafka's default partitioner), so the
/// trades of one id always go to one partition. Thread-safe: batches may be published concurrently.</para>
/// <para>Cost per trade. Confluent.Kafka's produce API takes arrays; librdkafka copies key and value into its own
/// queue before <c>Produce</c> returns, so a batch's trades go through one <see cref="Message{TKey, TValue}"/> and one
/// key and value array, overwritten for each trade: the sink allocates nothing per trade itself. What remains per
/// trade is Confluent.Kafka's: a delivery-handler object and a <c>GCHandle</c> at <c>Produce</c>, and about 350 bytes
/// of report objects when the delivery report comes back (about 400 bytes per trade in all, measured in the gateway).
/// Delivery reports carry no fields but the outcome (<c>dotnet.producer.delivery.report.fields=none</c>).</para>
/// </remarks>
public sealed class KafkaTradeSink : ITradeSink
{
    private readonly ProducerConfig _config;
    private readonly string _topic;
    private readonly TopicPartition _topicPartition;
    private readonly Headers _noHeaders = [];
    private readonly TimeSpan _flushTimeout;
    private readonly ILogger _logger;
    private readonly Lock _producerLock = new();
    private IProducer<byte[], byte[]> _producer;
    private volatile bool _fatal;
    private bool _disposed;

    /// <summary>Creates the sink and its producer (which connects in the background).</summary>
    /// <param name="options">The options.</param>
    /// <param name="loggerFactory">For producer errors and librdkafka's log; none by default.</param>
    /// <exception cref="ArgumentException">Bad options; the message names the option and what was expected.</exception>
    public KafkaTradeSink(KafkaSinkOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _topic = options.Topic;
        _topicPartition = new TopicPartition(options.Topic, Partition.Any);
        _flushTimeout = options.FlushTimeout;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<KafkaTradeSink>();
        var config = new Dictionary<string, string>(KafkaSinkOptions.ProducerDefaults, StringComparer.Ordinal);
        foreach ((string name, string value) in options.Config)
        {
            config[name] = value;
        }

        _config = new ProducerConfig(config)
        {
            BootstrapServers = options.BootstrapServers,
            EnableIdempotence = true,
            Acks = Acks.All,
            // The delivery report only needs the outcome (its Error): no key, value, headers, timestamp or persistence
            // status (one more call into librdkafka per message) read back into .NET.
            DeliveryReportFields = "none",
        };
        try
        {
            _producer = Build();
        }
        catch (Exception ex) when (ex is ArgumentException or KafkaException or InvalidOperationException)
        {
            throw new ArgumentException($"kafka sink: librdkafka refused the producer configuration: {ex.Message}", ex);
        }
    }

    /// <inheritdoc/>
    public string Name => "kafka";

    /// <summary>The topic the sink produces to.</summary>
    public string Topic => _topic;

    /// <summary>The options the sink was created with.</summary>
    public KafkaSinkOptions Options { get; }

    /// <inheritdoc/>
    public async ValueTask PublishAsync(TradeBatch batch, CancellationToken cancellationToken)
    {
        batch.Validate(Name);
        if (batch.Count == 0)
        {
            return;
        }

        IProducer<byte[], byte[]> producer = CurrentProducer();
        var delivery = new BatchDelivery(batch.Count);
        var record = new Record(batch.MessageSize, _noHeaders);
        int produced = 0;
        KafkaException? refused = null;
        try
        {
            while ((produced = ProduceFrom(producer, batch, produced, record, delivery.Handler, out refused)) < batch.Count && refused is null)
            {
                // librdkafka's local queue (queue.buffering.max.messages/kbytes) is full: wait for deliveries.
                await Task.Delay(1, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException ex)
        {
            delivery.Abandon(batch.Count - produced, ex);
        }

        if (refused is not null)
        {
            // The rest of the batch is not sent; what was handed to librdkafka still gets its report.
            delivery.Abandon(batch.Count - produced, refused);
        }

        await delivery.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (delivery.FirstError is { } error)
        {
            throw new KafkaSinkException(
                $"kafka sink: {delivery.Failed} of {batch.Count} trades were not stored in topic '{_topic}': {error}", delivery.FirstException);
        }
    }

    /// <summary>Waits up to <see cref="KafkaSinkOptions.FlushTimeout"/> for messages still in flight, then closes
    /// the producer.</summary>
    /// <returns>A task that completes when the producer is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        IProducer<byte[], byte[]> producer;
        lock (_producerLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            producer = _producer;
        }

        await Task.Run(() =>
        {
            int left = producer.Flush(_flushTimeout);
            if (left > 0)
            {
                KafkaLog.NotFlushed(_logger, left, _topic, _flushTimeout.TotalSeconds);
            }

            producer.Dispose();
        }).ConfigureAwait(false);
    }

    /// <summary>Hands the trades of <paramref name="batch"/> from <paramref name="first"/> on to librdkafka, one
    /// message each through <paramref name="record"/>, until the batch ends, librdkafka's local queue is full, or
    /// librdkafka refuses a message (<paramref name="refused"/>).</summary>
    /// <returns>The index of the first trade not handed over (<see cref="TradeBatch.Count"/> when all were).</returns>
    private int ProduceFrom(
        IProducer<byte[], byte[]> producer, TradeBatch batch, int first, Record record, Action<DeliveryReport<byte[], byte[]>> handler, out KafkaException? refused)
    {
        refused = null;
        ReadOnlySpan<byte> messages = batch.Messages.Span;
        int size = batch.MessageSize;
        int i = first;
        try
        {
            for (; i < batch.Count; i++)
            {
                record.Set(messages.Slice(i * size, size));
                producer.Produce(_topicPartition, record.Message, handler);
            }
        }
        catch (ProduceException<byte[], byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
        {
            // Trade i was not taken: the caller waits for deliveries to make room and goes on from it.
        }
        catch (KafkaException ex)
        {
            refused = ex;
        }

        return i;
    }

    private IProducer<byte[], byte[]> CurrentProducer()
    {
        lock (_producerLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_fatal)
            {
                // A fatal error (for example the broker fenced the producer id) ends an idempotent producer: a new
                // one starts a new session. Messages the old one had not delivered failed their batches already.
                IProducer<byte[], byte[]> old = _producer;
                _fatal = false;
                _producer = Build();
                old.Dispose();
            }

            return _producer;
        }
    }

    private IProducer<byte[], byte[]> Build() =>
        new ProducerBuilder<byte[], byte[]>(_config)
            .SetErrorHandler((_, error) =>
            {
                if (error.IsFatal)
                {
                    _fatal = true;
                    KafkaLog.FatalError(_logger, _topic, error.Code, error.Reason);
                }
                else
                {
                    KafkaLog.ProducerError(_logger, _topic, error.Code, error.Reason);
                }
            })
            // Only called when statistics.interval.ms is set: librdkafka's counters (requests, batch sizes, wakeups,
            // queue latencies) as JSON, to see where a deployment's time goes.
            .SetStatisticsHandler((_, json) => KafkaLog.Statistics(_logger, _topic, json))
            .SetLogHandler((_, message) => KafkaLog.Librdkafka(_logger, message.LevelAs(LogLevelType.MicrosoftExtensionsLogging) is int level ? (LogLevel)level : LogLevel.Debug, message.Facility, message.Message))
            .Build();


    /// <summary>
    /// The one <see cref="Message{TKey, TValue}"/> a batch's trades are produced through, one after the other: its key
    /// and value arrays are overwritten for each trade. That is safe because <c>Produce</c> hands both to librdkafka
    /// with <c>RD_KAFKA_MSG_F_COPY</c> (librdkafka copies them into its own queue before <c>Produce</c> returns; the
    /// arrays are only pinned for the call), and with <c>dotnet.producer.delivery.report.fields=none</c> the delivery
    /// report keeps no reference to them. So a trade costs no array, no <c>Message</c> and no <c>Headers</c>.
    /// </summary>
    private sealed class Record
    {
        public Record(int messageSize, Headers noHeaders) =>
            Message = new Message<byte[], byte[]> { Key = new byte[sizeof(ulong)], Value = new byte[messageSize], Headers = noHeaders };

        public Message<byte[], byte[]> Message { get; }

        /// <summary>Key = the trade id, 8 bytes big-endian; value = the SBE message as received.</summary>
        public void Set(ReadOnlySpan<byte> sbe)
        {
            sbe.CopyTo(Message.Value);
            BinaryPrimitives.WriteUInt64BigEndian(Message.Key, TradeMessages.TradeId(sbe));
        }
    }

    /// <summary>Counts a batch's delivery reports down; completes when the last arrives. The handler runs on the
    /// producer's poll thread: it only counts.</summary>
    private sealed class BatchDelivery
    {
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _remaining;
        private int _failed;
        private string? _firstError;

        public BatchDelivery(int count)
        {
            _remaining = count;
            Handler = OnReport;
        }

        public Action<DeliveryReport<byte[], byte[]>> Handler { get; }

        public Task Task => _done.Task;

        public int Failed => Volatile.Read(ref _failed);

        public string? FirstError => Volatile.Read(ref _firstError);

        public Exception? FirstException { get; private set; }

        public void Abandon(int count, Exception reason)
        {
            if (count == 0)
            {
                return;
            }

            FirstException ??= reason;
            Interlocked.CompareExchange(ref _firstError, reason.Message, null);
            Interlocked.Add(ref _failed, count);
            if (Interlocked.Add(ref _remaining, -count) == 0)
            {
                _done.TrySetResult();
            }
        }

        private void OnReport(DeliveryReport<byte[], byte[]> report)
        {
            if (report.Error.IsError)
            {
                Interlocked.CompareExchange(ref _firstError, $"{report.Error.Code}: {report.Error.Reason}", null);
                Interlocked.Increment(ref _failed);
            }

            if (Interlocked.Decrement(ref _remaining) == 0)
            {
                _done.TrySetResult();
            }
        }
    }
}

/// <summary>Some trades of a batch were not stored in Kafka; the message says how many, the topic and the first
/// error (librdkafka's code and reason). The batch may be published again: a consumer deduplicates on the key.</summary>
public sealed class KafkaSinkException : Exception
{
    /// <summary>Creates the exception.</summary>
    public KafkaSinkException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    public KafkaSinkException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The cause, when an exception was the cause.</param>
    public KafkaSinkException(string message, Exception? innerException) : base(message, innerException)
    {
    }
}

internal static partial class KafkaLog
{
    [LoggerMessage(1350, LogLevel.Warning, "Kafka sink (topic {Topic}): producer error {Code}: {Reason}")]
    public static partial void ProducerError(ILogger logger, string topic, ErrorCode code, string reason);

    [LoggerMessage(1351, LogLevel.Error, "Kafka sink (topic {Topic}): fatal producer error {Code}: {Reason}; a new producer is started for the next batch")]
    public static partial void FatalError(ILogger logger, string topic, ErrorCode code, string reason);

    [LoggerMessage(EventId = 1352, Message = "librdkafka {Facility}: {Message}")]
    public static partial void Librdkafka(ILogger logger, LogLevel level, string facility, string message);

    [LoggerMessage(1353, LogLevel.Warning, "Kafka sink (topic {Topic}): {Count} messages still in flight after {Seconds} s when closing")]
    public static partial void NotFlushed(ILogger logger, int count, string topic, double seconds);

    [LoggerMessage(1354, LogLevel.Information, "Kafka sink (topic {Topic}): librdkafka statistics {Statistics}")]
    public static partial void Statistics(ILogger logger, string topic, string statistics);
}
