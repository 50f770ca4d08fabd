using System.Runtime.InteropServices;
using System.Text;
using Confluent.Kafka;

namespace WsGateway.Testing;

/// <summary>
/// librdkafka's built-in mock Kafka cluster (no Kafka broker can be installed on these machines): a client handle
/// created with <c>test.mock.num.brokers=3</c> runs three mock brokers on 127.0.0.1 in this process. The sink and the
/// test's consumer connect to them through <c>bootstrap.servers</c>, as to a real cluster. The mock cluster's control
/// functions (create a topic, take a broker down and up, add latency) are librdkafka C functions that Confluent.Kafka
/// does not wrap: they are called here directly in the librdkafka the Confluent.Kafka package ships. Used (WsGateway.TestServers)
/// by the sink tests, the examples' tests and the load benchmark's Kafka engine (which hosts the cluster in the
/// benchmark's process while the gateway's process connects to it).
/// </summary>
public sealed class KafkaMockCluster : IDisposable
{
    private const string Lib = "librdkafka";
    private readonly IntPtr _handle;
    private readonly IntPtr _cluster;

    static KafkaMockCluster()
    {
        // The imports below bind to the librdkafka Confluent.Kafka loaded: its loader falls back from librdkafka.so to
        // the package's other Linux builds (centos8-librdkafka.so) when a dependency of the first (libsasl2) is
        // missing, so the same order is tried here, in the package's runtimes folder.
        Library.Load();
        NativeLibrary.SetDllImportResolver(typeof(KafkaMockCluster).Assembly, (name, _, _) =>
        {
            if (name != Lib)
            {
                return IntPtr.Zero;
            }

            string native = Path.Combine(AppContext.BaseDirectory, "runtimes", RuntimeInformation.RuntimeIdentifier.StartsWith("linux-arm64", StringComparison.Ordinal) ? "linux-arm64" : "linux-x64", "native");
            foreach (string file in (string[])["librdkafka.so", "centos8-librdkafka.so", "alpine-librdkafka.so"])
            {
                if (NativeLibrary.TryLoad(Path.Combine(native, file), out IntPtr handle))
                {
                    return handle;
                }
            }

            return IntPtr.Zero;
        });
    }

    public KafkaMockCluster(int brokers = 3)
    {
        IntPtr conf = rd_kafka_conf_new();
        var error = new StringBuilder(512);
        Check(rd_kafka_conf_set(conf, "test.mock.num.brokers", brokers.ToString(System.Globalization.CultureInfo.InvariantCulture), error, (UIntPtr)error.Capacity), error);
        Check(rd_kafka_conf_set(conf, "log_level", "3", error, (UIntPtr)error.Capacity), error);
        _handle = rd_kafka_new(0 /* RD_KAFKA_PRODUCER */, conf, error, (UIntPtr)error.Capacity);
        if (_handle == IntPtr.Zero)
        {
            throw new InvalidOperationException($"librdkafka could not create the mock cluster's handle: {error}");
        }

        _cluster = rd_kafka_handle_mock_cluster(_handle);
        if (_cluster == IntPtr.Zero)
        {
            throw new InvalidOperationException("librdkafka has no mock cluster for a handle made with test.mock.num.brokers");
        }

        BootstrapServers = Marshal.PtrToStringUTF8(rd_kafka_mock_cluster_bootstraps(_cluster))!;
    }

    /// <summary>The mock brokers' addresses, <c>127.0.0.1:port,...</c>.</summary>
    public string BootstrapServers { get; }

    public void CreateTopic(string topic, int partitions, int replicationFactor) =>
        CheckError(rd_kafka_mock_topic_create(_cluster, topic, partitions, replicationFactor), $"create topic {topic}");

    /// <summary>The broker stops answering: its connections are closed and new ones refused until <see cref="SetUp"/>.</summary>
    public void SetDown(int brokerId) => CheckError(rd_kafka_mock_broker_set_down(_cluster, brokerId), $"set broker {brokerId} down");

    public void SetUp(int brokerId) => CheckError(rd_kafka_mock_broker_set_up(_cluster, brokerId), $"set broker {brokerId} up");

    /// <summary>Every response of the broker is delayed by <paramref name="milliseconds"/> (what <c>test.mock.broker.rtt</c> sets for all).</summary>
    public void SetRtt(int brokerId, int milliseconds) => CheckError(rd_kafka_mock_broker_set_rtt(_cluster, brokerId, milliseconds), $"set broker {brokerId} rtt");

    public void SetLeader(string topic, int partition, int brokerId) =>
        CheckError(rd_kafka_mock_partition_set_leader(_cluster, topic, partition, brokerId), $"set the leader of {topic}[{partition}]");

    /// <summary>Every message of <paramref name="topic"/> from the beginning, read by a Confluent consumer with
    /// assigned partitions (no group), until <paramref name="expected"/> arrived and nothing more came for a moment,
    /// or <paramref name="timeout"/> passed.</summary>
    public List<ConsumeResult<byte[], byte[]>> ConsumeAll(string topic, int partitions, int expected, TimeSpan timeout)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = BootstrapServers,
            GroupId = "wsgw-tests",
            EnableAutoCommit = false,
            EnablePartitionEof = true,
            LogConnectionClose = false,
        };
        using IConsumer<byte[], byte[]> consumer = new ConsumerBuilder<byte[], byte[]>(config).SetLogHandler((_, _) => { }).Build();
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var messages = new List<ConsumeResult<byte[], byte[]>>();
        var atEnd = new HashSet<int>();
        DateTime deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            ConsumeResult<byte[], byte[]>? result = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (result is null)
            {
                continue;
            }

            if (result.IsPartitionEOF)
            {
                atEnd.Add(result.Partition.Value);
                if (messages.Count >= expected && atEnd.Count == partitions)
                {
                    break;
                }

                continue;
            }

            atEnd.Remove(result.Partition.Value);
            messages.Add(result);
        }

        consumer.Close();
        return messages;
    }

    public void Dispose()
    {
        rd_kafka_destroy(_handle); // destroys the mock cluster with it
    }

    private static void Check(int result, StringBuilder error)
    {
        if (result != 0)
        {
            throw new InvalidOperationException($"librdkafka configuration: {error}");
        }
    }

    private static void CheckError(int error, string what)
    {
        if (error != 0)
        {
            throw new InvalidOperationException($"mock cluster: {what}: librdkafka error {error}");
        }
    }

    [DllImport(Lib)]
    private static extern IntPtr rd_kafka_conf_new();

    [DllImport(Lib, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int rd_kafka_conf_set(IntPtr conf, string name, string value, StringBuilder errstr, UIntPtr errstrSize);

    [DllImport(Lib, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern IntPtr rd_kafka_new(int type, IntPtr conf, StringBuilder errstr, UIntPtr errstrSize);

    [DllImport(Lib)]
    private static extern void rd_kafka_destroy(IntPtr rk);

    [DllImport(Lib)]
    private static extern IntPtr rd_kafka_handle_mock_cluster(IntPtr rk);

    [DllImport(Lib)]
    private static extern IntPtr rd_kafka_mock_cluster_bootstraps(IntPtr mcluster);

    [DllImport(Lib, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int rd_kafka_mock_topic_create(IntPtr mcluster, string topic, int partitionCount, int replicationFactor);

    [DllImport(Lib, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int rd_kafka_mock_partition_set_leader(IntPtr mcluster, string topic, int partition, int brokerId);

    [DllImport(Lib)]
    private static extern int rd_kafka_mock_broker_set_down(IntPtr mcluster, int brokerId);

    [DllImport(Lib)]
    private static extern int rd_kafka_mock_broker_set_up(IntPtr mcluster, int brokerId);

    [DllImport(Lib)]
    private static extern int rd_kafka_mock_broker_set_rtt(IntPtr mcluster, int brokerId, int rttMs);
}
