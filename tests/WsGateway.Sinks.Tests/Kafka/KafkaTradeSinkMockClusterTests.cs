using System.Buffers.Binary;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using WsGateway.Sbe;
using WsGateway.Sinks.Kafka;

using WsGateway.Sinks.Tests.Infrastructure;

namespace WsGateway.Sinks.Tests.Kafka;

/// <summary>
/// <see cref="KafkaTradeSink"/> against librdkafka's mock cluster (three mock brokers in this process; no real Kafka
/// broker can be installed here). The sink connects through bootstrap.servers exactly as to a real cluster.
/// </summary>
public sealed class KafkaTradeSinkMockClusterTests : IDisposable
{
    private static int s_topics;
    private readonly KafkaMockCluster _cluster = new();

    public void Dispose() => _cluster.Dispose();

    [Fact]
    public async Task MockCluster_a_batch_is_consumed_back_with_key_the_trade_id_and_value_the_exact_sbe_bytes()
    {
        string topic = NewTopic(partitions: 3);
        Trade[] trades = TestBatches.Range(1, 200);
        trades[7] = new Trade(ulong.MaxValue, (byte)'Z', -1.5, uint.MaxValue);
        TradeBatch batch = TestBatches.Of(trades);
        await using (var sink = new KafkaTradeSink(Options(topic)))
        {
            await sink.PublishAsync(batch, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        }

        List<ConsumeResult<byte[], byte[]>> consumed = _cluster.ConsumeAll(topic, 3, trades.Length, TimeSpan.FromSeconds(30));

        Assert.Equal(trades.Length, consumed.Count);
        var byId = consumed.ToDictionary(m => BinaryPrimitives.ReadUInt64BigEndian(m.Message.Key));
        for (int i = 0; i < trades.Length; i++)
        {
            ConsumeResult<byte[], byte[]> message = byId[trades[i].TradeId];
            Assert.Equal(8, message.Message.Key.Length);
            Assert.Equal(batch[i].ToArray(), message.Message.Value);
            Assert.Equal(trades[i], Trade.Decode(message.Message.Value));
        }

        Assert.True(consumed.Select(m => m.Partition.Value).Distinct().Count() > 1, "the keys spread over the partitions");
    }

    [Fact]
    public async Task MockCluster_a_partition_leader_down_in_the_middle_of_a_stream_delays_but_neither_loses_nor_doubles()
    {
        // One partition led by broker 1 that goes down while batches are in flight and comes back: librdkafka retries
        // the requests whose answer it did not get, and the idempotent producer's sequence numbers let the broker
        // drop what it already had. Every PublishAsync completes, and the topic holds each trade once.
        string topic = NewTopic(partitions: 1);
        _cluster.SetLeader(topic, 0, 1);
        const int Batches = 40;
        const int BatchSize = 100;
        await using var sink = new KafkaTradeSink(Options(topic));
        var publishes = new List<Task>();
        for (int b = 0; b < Batches; b++)
        {
            publishes.Add(sink.PublishAsync(TestBatches.Of(TestBatches.Range(1 + ((ulong)b * BatchSize), BatchSize)), CancellationToken.None).AsTask());
            if (b == Batches / 2)
            {
                _cluster.SetDown(1);
            }

            await Task.Delay(5);
        }

        await Task.Delay(500);
        Assert.Contains(publishes, p => !p.IsCompleted); // the broker being down held back deliveries
        _cluster.SetUp(1);
        await Task.WhenAll(publishes).WaitAsync(TimeSpan.FromSeconds(60));

        List<ConsumeResult<byte[], byte[]>> consumed = _cluster.ConsumeAll(topic, 1, Batches * BatchSize, TimeSpan.FromSeconds(30));
        ulong[] ids = [.. consumed.Select(m => BinaryPrimitives.ReadUInt64BigEndian(m.Message.Key))];
        Assert.Equal(Batches * BatchSize, ids.Length);
        Assert.Equal(Enumerable.Range(1, Batches * BatchSize).Select(i => (ulong)i), ids); // once each, and in order
    }

    [Fact]
    public async Task MockCluster_responses_slower_than_the_socket_timeout_make_librdkafka_resend_and_nothing_is_lost()
    {
        // The leader's answers take 1.2 s while the producer gives up on a request after 0.3 s (socket.timeout.ms):
        // the broker has appended the messages, the producer does not know and sends them again. A real broker drops
        // the resends of an idempotent producer by its producer id and sequence numbers. librdkafka's mock cluster
        // checks sequence numbers only for transactional producers (rd_kafka_mock_validate_records returns early
        // without a transactional.id), so here the resends ARE appended: this test shows what holds regardless —
        // PublishAsync completes, nothing is lost, and deduplicating on the key gives each trade once, in order.
        string topic = NewTopic(partitions: 1);
        _cluster.SetLeader(topic, 0, 1);
        KafkaSinkOptions options = Options(topic);
        options.Config["socket.timeout.ms"] = "300";
        await using var sink = new KafkaTradeSink(options);
        await sink.PublishAsync(TestBatches.Of(TestBatches.Range(1, 10)), CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        _cluster.SetRtt(1, 1200);
        Task slow = sink.PublishAsync(TestBatches.Of(TestBatches.Range(11, 90)), CancellationToken.None).AsTask();
        await Task.Delay(2000);
        Assert.False(slow.IsCompleted);
        _cluster.SetRtt(1, 0);
        await slow.WaitAsync(TimeSpan.FromSeconds(60));

        List<ConsumeResult<byte[], byte[]>> consumed = _cluster.ConsumeAll(topic, 1, 100, TimeSpan.FromSeconds(30));
        ulong[] ids = [.. consumed.Select(m => BinaryPrimitives.ReadUInt64BigEndian(m.Message.Key))];
        Assert.Equal(Enumerable.Range(1, 100).Select(i => (ulong)i), ids.Distinct());
        Assert.All(consumed, m => Assert.Equal(BinaryPrimitives.ReadUInt64BigEndian(m.Message.Key), Trade.Decode(m.Message.Value).TradeId));
    }

    [Fact]
    public async Task MockCluster_a_batch_published_again_is_stored_again_and_a_consumer_deduplicating_on_the_key_sees_each_trade_once()
    {
        // The pipeline's retry of a batch, or a client's resend after a gateway restart, is a new send: the idempotent
        // producer deduplicates only its own internal retries. The topic holds the trades twice; the key (the trade
        // id) lets a consumer keep each once.
        string topic = NewTopic(partitions: 2);
        TradeBatch batch = TestBatches.Of(TestBatches.Range(1000, 100));
        await using (var sink = new KafkaTradeSink(Options(topic)))
        {
            await sink.PublishAsync(batch, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            await sink.PublishAsync(batch, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(30)); // same session
        }

        await using (var restarted = new KafkaTradeSink(Options(topic)))
        {
            await restarted.PublishAsync(batch, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(30)); // new session
        }

        List<ConsumeResult<byte[], byte[]>> consumed = _cluster.ConsumeAll(topic, 2, 300, TimeSpan.FromSeconds(30));

        Assert.Equal(300, consumed.Count);
        var distinct = consumed.Select(m => BinaryPrimitives.ReadUInt64BigEndian(m.Message.Key)).ToHashSet();
        Assert.Equal(Enumerable.Range(1000, 100).Select(i => (ulong)i).ToHashSet(), distinct);
        Assert.All(consumed.GroupBy(m => BinaryPrimitives.ReadUInt64BigEndian(m.Message.Key)), g => Assert.Single(g.Select(m => Convert.ToHexString(m.Message.Value)).Distinct()));
    }

    [Fact]
    public async Task MockCluster_an_unreachable_cluster_fails_the_batch_after_the_message_timeout_naming_topic_and_error()
    {
        string topic = NewTopic(partitions: 1);
        var options = new KafkaSinkOptions { BootstrapServers = "127.0.0.1:1", Topic = topic };
        options.Config["message.timeout.ms"] = "1500";
        options.Config["log_level"] = "0";
        options.FlushTimeout = TimeSpan.Zero;
        await using var sink = new KafkaTradeSink(options);

        KafkaSinkException ex = await Assert.ThrowsAsync<KafkaSinkException>(
            () => sink.PublishAsync(TestBatches.Of(TestBatches.Range(1, 10)), CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Contains($"10 of 10 trades were not stored in topic '{topic}'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Local_MsgTimedOut", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MockCluster_a_batch_larger_than_librdkafkas_local_queue_waits_for_room_and_every_trade_arrives_once_keyed_by_its_id()
    {
        // queue.buffering.max.messages=64: Produce refuses the 65th trade of the batch until deliveries make room, and
        // the sink goes on from that trade with the key and value arrays it reuses for every trade. A resume that
        // skipped, repeated or mixed up a trade would show here.
        string topic = NewTopic(partitions: 3);
        KafkaSinkOptions options = Options(topic);
        options.Config["queue.buffering.max.messages"] = "64";
        options.Config["batch.num.messages"] = "64";
        Trade[] trades = TestBatches.Range(5_000, 2_000);
        TradeBatch batch = TestBatches.Of(trades);
        await using (var sink = new KafkaTradeSink(options))
        {
            await sink.PublishAsync(batch, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        }

        List<ConsumeResult<byte[], byte[]>> consumed = _cluster.ConsumeAll(topic, 3, trades.Length, TimeSpan.FromSeconds(30));

        Assert.Equal(trades.Length, consumed.Count);
        var byId = consumed.ToDictionary(m => BinaryPrimitives.ReadUInt64BigEndian(m.Message.Key)); // throws on a duplicate
        for (int i = 0; i < trades.Length; i++)
        {
            Assert.Equal(batch[i].ToArray(), byId[trades[i].TradeId].Message.Value);
        }
    }

    [Fact]
    public async Task MockCluster_messages_of_a_newer_schema_version_are_produced_whole_keyed_by_their_trade_id()
    {
        // A version-1 producer appended 4 bytes to the block (blockLength 25): each value is the 33 bytes as received.
        string topic = NewTopic(partitions: 1);
        byte[] messages = NewerVersionTrades.Encode(3, 700);

        await using (var sink = new KafkaTradeSink(Options(topic)))
        {
            await sink.PublishAsync(new TradeBatch(messages, 3, 33), CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        }

        List<ConsumeResult<byte[], byte[]>> consumed = _cluster.ConsumeAll(topic, 1, 3, TimeSpan.FromSeconds(30));

        Assert.Equal([700UL, 701UL, 702UL], consumed.Select(m => BinaryPrimitives.ReadUInt64BigEndian(m.Message.Key)));
        Assert.Equal([messages[..33], messages[33..66], messages[66..]], consumed.Select(m => m.Message.Value));
    }

    [Fact]
    public async Task MockCluster_producing_a_batch_allocates_nothing_per_trade_but_confluents_delivery_handler()
    {
        // The produce loop runs on the caller's thread until the batch waits for its reports: what it allocates there
        // is counted per trade. Confluent.Kafka itself allocates a delivery-handler object per Produce (48 bytes); a
        // key array, a value array, a Message, a TopicPartition or a Headers per trade (the sink before: ~270 bytes)
        // would each show.
        string topic = NewTopic(partitions: 3);
        await using var sink = new KafkaTradeSink(Options(topic));
        TradeBatch warmUp = TestBatches.Of(TestBatches.Range(1, 2_000));
        await sink.PublishAsync(warmUp, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        TradeBatch batch = TestBatches.Of(TestBatches.Range(10_001, 5_000));

        long before = GC.GetAllocatedBytesForCurrentThread();
        ValueTask publish = sink.PublishAsync(batch, CancellationToken.None);
        long perTrade = (GC.GetAllocatedBytesForCurrentThread() - before) / batch.Count;
        await publish.AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.InRange(perTrade, 0, 64);
    }

    [Fact]
    public async Task MockCluster_a_delivery_failure_of_part_of_a_batch_fails_the_batch_and_publishing_it_again_stores_it()
    {
        // Two partitions, one led by a broker that is down for longer than message.timeout.ms: the trades for the
        // other partition are stored, those for this one time out, and the batch fails with how many. The delivery
        // reports carry no fields but their error (delivery.report.fields=none): the failure must still be seen. The
        // pipeline's retry publishes the whole batch again once the broker is back: every trade is then stored.
        string topic = NewTopic(partitions: 2);
        _cluster.SetLeader(topic, 0, 1);
        _cluster.SetLeader(topic, 1, 2);
        KafkaSinkOptions options = Options(topic);
        options.Config["message.timeout.ms"] = "1500";
        options.Config["log_level"] = "0";
        await using var sink = new KafkaTradeSink(options);
        await sink.PublishAsync(TestBatches.Of(TestBatches.Range(1, 10)), CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        TradeBatch batch = TestBatches.Of(TestBatches.Range(100, 100));

        _cluster.SetDown(1);
        KafkaSinkException ex = await Assert.ThrowsAsync<KafkaSinkException>(
            () => sink.PublishAsync(batch, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(30)));
        _cluster.SetUp(1);
        await sink.PublishAsync(batch, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(60));

        int failed = int.Parse(ex.Message.Split(" of ")[0].Split(' ')[^1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(failed, 1, 99); // some trades went to the partition that was up
        Assert.Contains($"{failed} of 100 trades were not stored in topic '{topic}'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Local_MsgTimedOut", ex.Message, StringComparison.Ordinal);
        List<ConsumeResult<byte[], byte[]>> consumed = _cluster.ConsumeAll(topic, 2, 10 + 100 + (100 - failed), TimeSpan.FromSeconds(30));
        Assert.Equal(
            Enumerable.Range(100, 100).Select(i => (ulong)i).ToHashSet(),
            consumed.Select(m => BinaryPrimitives.ReadUInt64BigEndian(m.Message.Key)).Where(id => id >= 100).ToHashSet());
    }

    [Fact]
    public async Task MockCluster_by_default_a_lone_trade_waits_linger_ms_1_and_a_configured_linger_ms_replaces_it()
    {
        // The default (linger.ms=1, chosen by measurement) holds a lone message about a millisecond before it is sent:
        // the fastest of ten lone publishes takes at least that long (with linger.ms=0 it takes a fraction of it). A
        // linger.ms in Config replaces the default.
        Assert.Equal(new Dictionary<string, string> { ["linger.ms"] = "1" }, KafkaSinkOptions.ProducerDefaults);
        string topic = NewTopic(partitions: 1);
        await using (var sink = new KafkaTradeSink(Options(topic)))
        {
            Assert.InRange(await FastestLonePublishAsync(sink, 1), TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(100));
        }

        KafkaSinkOptions slow = Options(topic);
        slow.Config["linger.ms"] = "150";
        await using (var sink = new KafkaTradeSink(slow))
        {
            Assert.InRange(await FastestLonePublishAsync(sink, 1_000), TimeSpan.FromMilliseconds(150), TimeSpan.FromSeconds(10));
        }
    }

    [Fact]
    public async Task MockCluster_statistics_interval_ms_logs_librdkafkas_statistics()
    {
        string topic = NewTopic(partitions: 1);
        using var logs = new FakeLoggerProvider();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(logs));
        KafkaSinkOptions options = Options(topic);
        options.Config["statistics.interval.ms"] = "100";
        await using var sink = new KafkaTradeSink(options, loggerFactory);
        await sink.PublishAsync(TestBatches.Of(TestBatches.Range(1, 50)), CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        DateTime deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        FakeLogRecord? statistics = null;
        while (statistics is null && DateTime.UtcNow < deadline)
        {
            statistics = logs.Collector.GetSnapshot().FirstOrDefault(r => r.Id.Id == 1354 && r.Message.Contains("\"txmsgs\":50", StringComparison.Ordinal));
            await Task.Delay(50);
        }

        Assert.NotNull(statistics);
        Assert.Equal(LogLevel.Information, statistics.Level);
        Assert.StartsWith($"Kafka sink (topic {topic}): librdkafka statistics {{", statistics.Message, StringComparison.Ordinal);
    }

    private static async Task<TimeSpan> FastestLonePublishAsync(KafkaTradeSink sink, ulong firstId)
    {
        TimeSpan fastest = TimeSpan.MaxValue;
        for (int i = 0; i < 10; i++)
        {
            TradeBatch lone = TestBatches.Of(TestBatches.Range(firstId + (ulong)i, 1));
            long started = System.Diagnostics.Stopwatch.GetTimestamp();
            await sink.PublishAsync(lone, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            TimeSpan took = System.Diagnostics.Stopwatch.GetElapsedTime(started);
            fastest = took < fastest ? took : fastest;
        }

        return fastest;
    }

    private string NewTopic(int partitions)
    {
        string topic = $"trades-{Environment.ProcessId}-{Interlocked.Increment(ref s_topics)}";
        _cluster.CreateTopic(topic, partitions, replicationFactor: 3);
        return topic;
    }

    private KafkaSinkOptions Options(string topic)
    {
        var options = new KafkaSinkOptions { BootstrapServers = _cluster.BootstrapServers, Topic = topic };
        options.Config["log_level"] = "3";
        return options;
    }
}
