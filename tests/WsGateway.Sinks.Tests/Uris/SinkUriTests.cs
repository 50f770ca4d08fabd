using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using WsGateway.Sinks.Kafka;
using WsGateway.Sinks.Nats;
using WsGateway.Sinks.Postgres;

namespace WsGateway.Sinks.Tests.Uris;

/// <summary><c>wsgw serve --sink</c> values: what they set, and one clear line for each mistake.</summary>
public sealed class SinkUriTests
{
    [Fact]
    public async Task A_nats_uri_sets_the_sink_and_pipeline_options()
    {
        SinkPlan plan = SinkFactory.Plan("nats://127.0.0.1:4222,127.0.0.1:4223?stream=ORDERS&subject=orders.eu&replicas=3&duplicate-window=10m&ack-timeout=1500ms&create=false&max-in-flight=5000&concurrency=2");
        Assert.Equal(5000, plan.Pipeline.MaxInFlightTrades);
        Assert.Equal(2, plan.Pipeline.MaxConcurrentBatches);
        await using var sink = (NatsJetStreamSink)plan.CreateSink(NullLoggerFactory.Instance);
        NatsSinkOptions options = sink.Options;
        Assert.Equal("nats://127.0.0.1:4222,nats://127.0.0.1:4223", options.Url);
        Assert.Equal("ORDERS", options.Stream);
        Assert.Equal("orders.eu", options.Subject);
        Assert.Equal(3, options.Replicas);
        Assert.Equal(TimeSpan.FromMinutes(10), options.DuplicateWindow);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), options.AckTimeout);
        Assert.False(options.CreateStream);
    }

    [Fact]
    public async Task Defaults_apply_when_the_query_is_empty()
    {
        SinkPlan plan = SinkFactory.Plan("nats://localhost:4222");
        await using var sink = (NatsJetStreamSink)plan.CreateSink(NullLoggerFactory.Instance);
        Assert.Equal(("TRADES", "trades", 1), (sink.Options.Stream, sink.Options.Subject, sink.Options.Replicas));
        Assert.Equal(new SinkPipelineOptions().MaxInFlightTrades, plan.Pipeline.MaxInFlightTrades);
    }

    [Fact]
    public void A_kafka_uri_publishes_64_batches_at_once_by_default_and_concurrency_sets_it()
    {
        // Each Kafka publish waits at least linger.ms for its reports while librdkafka batches across publishes: 4 at
        // once would hold reads of one trade to a few thousand per second (docs/sinks.md, Kafka defaults).
        Assert.Equal(64, KafkaSinkOptions.DefaultConcurrentBatches);
        Assert.Equal(KafkaSinkOptions.DefaultConcurrentBatches, SinkFactory.Plan("kafka://k1:9092/trades").Pipeline.MaxConcurrentBatches);
        Assert.Equal(8, SinkFactory.Plan("kafka://k1:9092/trades?concurrency=8").Pipeline.MaxConcurrentBatches);
        Assert.Equal(new SinkPipelineOptions().MaxConcurrentBatches, SinkFactory.Plan("nats://localhost:4222").Pipeline.MaxConcurrentBatches);
        Assert.Equal(new SinkPipelineOptions().MaxConcurrentBatches, SinkFactory.Plan("postgres://u@db/trades").Pipeline.MaxConcurrentBatches);
    }

    [Fact]
    public async Task Credentials_apply_to_every_host()
    {
        SinkPlan plan = SinkFactory.Plan("nats://gw:s3cret@127.0.0.1:4222,127.0.0.2:4222");
        await using var sink = (NatsJetStreamSink)plan.CreateSink(NullLoggerFactory.Instance);
        Assert.Equal("nats://gw:s3cret@127.0.0.1:4222,nats://gw:s3cret@127.0.0.2:4222", sink.Options.Url);
    }

    [Theory]
    [InlineData("false", false)]
    [InlineData("NO", false)]
    [InlineData("0", false)]
    [InlineData("True", true)]
    [InlineData("yes", true)]
    public async Task A_boolean_is_true_1_or_yes_or_false_0_or_no_in_any_case(string text, bool expected)
    {
        await using var sink = (NatsJetStreamSink)SinkFactory.Plan("nats://127.0.0.1:4222?create=" + text).CreateSink(NullLoggerFactory.Instance);
        Assert.Equal(expected, sink.Options.CreateStream);
        Assert.Equal(expected, (await PostgresOptionsAsync("postgres://u@127.0.0.1/db?create_tables=" + text)).CreateTables);
    }

    [Fact]
    public async Task A_kafka_uri_gives_the_broker_the_topic_and_librdkafka_properties()
    {
        KafkaSinkOptions options = await KafkaOptionsAsync("kafka://broker1.example:9093/market.trades?linger.ms=1&compression.type=lz4");

        Assert.Equal("broker1.example:9093", options.BootstrapServers);
        Assert.Equal("market.trades", options.Topic);
        Assert.Equal(new Dictionary<string, string> { ["linger.ms"] = "1", ["compression.type"] = "lz4" }, options.Config);
    }

    [Fact]
    public async Task A_kafka_uri_without_a_port_uses_9092_and_bootstrap_servers_names_more_brokers()
    {
        Assert.Equal("kafka.internal:9092", (await KafkaOptionsAsync("kafka://kafka.internal/trades")).BootstrapServers);

        KafkaSinkOptions options = await KafkaOptionsAsync("kafka://a:9092/trades?bootstrap.servers=a:9092,b:9092,c:9092");
        Assert.Equal("a:9092,b:9092,c:9092", options.BootstrapServers);
        Assert.Empty(options.Config);
    }

    [Fact]
    public async Task A_postgres_uri_gives_host_port_user_password_database_table_and_npgsql_keywords()
    {
        PostgresSinkOptions options = await PostgresOptionsAsync(
            "postgres://wsgw:p%40ss%3Aword@db.example:6543/trading?table=market.trades&create_tables=false&Maximum%20Pool%20Size=7");

        var builder = new NpgsqlConnectionStringBuilder(options.ConnectionString);
        Assert.Equal("db.example:6543", builder.Host);
        Assert.Equal("wsgw", builder.Username);
        Assert.Equal("p@ss:word", builder.Password);
        Assert.Equal("trading", builder.Database);
        Assert.Equal(7, builder.MaxPoolSize);
        Assert.Equal("market.trades", options.Table);
        Assert.False(options.CreateTables);
    }

    [Fact]
    public async Task A_postgres_uri_sets_the_writers_and_the_trades_per_commit()
    {
        PostgresSinkOptions options = await PostgresOptionsAsync("postgres://wsgw@127.0.0.1/trading?writers=3&max_trades_per_commit=5000");

        Assert.Equal(3, options.Writers);
        Assert.Equal(5000, options.MaxTradesPerCommit);
    }

    [Fact]
    public async Task A_postgres_uri_without_port_table_or_database_takes_the_defaults()
    {
        PostgresSinkOptions options = await PostgresOptionsAsync("postgresql://wsgw@127.0.0.1");

        var builder = new NpgsqlConnectionStringBuilder(options.ConnectionString);
        Assert.Equal("127.0.0.1:5432", builder.Host);
        Assert.Null(builder.Database);
        Assert.Equal("trades", options.Table);
        Assert.True(options.CreateTables);
        Assert.Equal(2, options.Writers);
        Assert.Equal(100_000, options.MaxTradesPerCommit);
    }

    [Theory]
    [InlineData("postgres://u:hunter2@127.0.0.1/db?create_tables=maybe", "create_tables=maybe is not a boolean")]
    [InlineData("postgres://u:hunter2@127.0.0.1/db?table=a&table=b", "--sink 'postgres://u:***@127.0.0.1/db?table=a&table=b': 'table' is given twice")]
    [InlineData("postgres://u:hunter2@127.0.0.1/db?table", "--sink 'postgres://u:***@127.0.0.1/db?table': query part 'table' has no value")]
    [InlineData("nats://gw:hunter2@127.0.0.1:4222/TRADES", "--sink 'nats://gw:***@127.0.0.1:4222/TRADES': a nats:// sink has no path")]
    [InlineData("u:hunter2@127.0.0.1:4222", "--sink 'u:***@127.0.0.1:4222': expected a URI such as")]
    public void An_error_about_a_uri_never_shows_its_password(string value, string expected)
    {
        FormatException error = Assert.Throws<FormatException>(() => SinkFactory.Plan(value));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error.Message, StringComparison.Ordinal);
    }

    private static async Task<KafkaSinkOptions> KafkaOptionsAsync(string value)
    {
        await using var sink = (KafkaTradeSink)SinkFactory.Plan(value).CreateSink(NullLoggerFactory.Instance);
        return sink.Options;
    }

    private static async Task<PostgresSinkOptions> PostgresOptionsAsync(string value)
    {
        await using var sink = (PostgresTradeSink)SinkFactory.Plan(value).CreateSink(NullLoggerFactory.Instance);
        return sink.Options;
    }

    [Fact]
    public async Task Serve_refuses_a_sink_with_a_handler_that_is_not_the_trade_handler()
    {
        var error = new StringWriter();
        int exit = await WsGateway.Cli.CommandLine.InvokeAsync(
            new System.CommandLine.RootCommand { WsGateway.Cli.ServeCommand.Create() },
            ["serve", "--handler", "echo", "--sink", "nats://127.0.0.1:4222"],
            error);
        Assert.Equal(2, exit);
        Assert.Contains("--sink stores SBE trades and works with --handler stats (the default), got --handler echo", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.1:4222", "expected a URI such as nats://127.0.0.1:4222?stream=TRADES")]
    [InlineData("rabbit://127.0.0.1:5672", "unknown scheme 'rabbit'; expected one of kafka://, nats://, postgres://, postgresql://")]
    [InlineData("kafka://127.0.0.1:9092", "--sink kafka: ")]
    [InlineData("postgres://127.0.0.1:5432/db?tabel=t", "--sink postgres: ")]
    [InlineData("nats://?stream=T", "no host; expected nats://host:port")]
    [InlineData("nats://127.0.0.1:4222?strem=T", "unknown option 'strem'; nats takes")]
    [InlineData("nats://127.0.0.1:4222?replicas=7", "replicas=7: expected a whole number from 1 to 5")]
    [InlineData("nats://127.0.0.1:4222?duplicate-window=2", "duplicate-window=2: expected a positive duration such as 500ms, 30s, 2m or 1h")]
    [InlineData("nats://127.0.0.1:4222?stream=MY.STREAM", "Stream must be a JetStream stream name")]
    [InlineData("nats://127.0.0.1:4222?subject=trades.>", "Subject must be a NATS subject without spaces or wildcards")]
    [InlineData("nats://127.0.0.1:4222/TRADES", "a nats:// sink has no path; name the stream with ?stream=TRADES")]
    [InlineData("nats://127.0.0.1:4222?max-in-flight=0", "max-in-flight=0: expected a whole number from 1")]
    [InlineData("nats://127.0.0.1:4222?stream=A&stream=B", "'stream' is given twice")]
    [InlineData("nats://127.0.0.1:4222?create", "query part 'create' has no value; expected name=value pairs separated by '&'")]
    // kafka://: the path is the topic, other keys librdkafka properties (KafkaSinkOptions.FromParts).
    [InlineData("kafka://a:9092/", "--sink kafka: kafka sink: topic '' is not a Kafka topic name")]
    [InlineData("kafka://a:9092/trades/more", "topic 'trades/more' is not a Kafka topic name")]
    [InlineData("kafka://a:9092/trades?enable.idempotence=false", "enable.idempotence=false: the sink's producer is always idempotent")]
    [InlineData("kafka://a:9092/trades?acks=1", "acks=1: a trade counts as stored only once every in-sync replica has it; expected all")]
    [InlineData("kafka://a:9092/trades?linger.ms", "query part 'linger.ms' has no value")]
    // postgres://: the path is the database, other keys the sink's or Npgsql's (PostgresSinkOptions.FromParts).
    [InlineData("postgres://u@127.0.0.1/db?table=trades;drop", "--sink postgres: postgres sink: table 'trades;drop' is not a plain table name")]
    [InlineData("postgres://u@127.0.0.1/db?table=a.b.c", "table 'a.b.c' is not a plain table name")]
    [InlineData("postgres://u@127.0.0.1/db/more", "is not one database name")]
    [InlineData("postgres://u@127.0.0.1/db?create_tables=maybe", "create_tables=maybe is not a boolean")]
    [InlineData("postgres://u@127.0.0.1/db?Frobnicate=1", "'Frobnicate=1' is neither table, create_tables, writers, max_trades_per_commit nor an Npgsql connection-string keyword")]
    [InlineData("postgres://u@127.0.0.1/db?writers=0", "writers must be between 1 and 64, got 0")]
    [InlineData("postgres://u@127.0.0.1/db?writers=65", "writers must be between 1 and 64, got 65")]
    [InlineData("postgres://u@127.0.0.1/db?writers=two", "'writers=two' is not a whole number")]
    [InlineData("postgres://u@127.0.0.1/db?max_trades_per_commit=0", "max_trades_per_commit must be at least 1, got 0")]
    [InlineData("postgres://u@127.0.0.1/db?Port=x", "'Port=x' is neither")]
    [InlineData("postgres://u@127.0.0.1/db?table", "query part 'table' has no value")]
    public void A_bad_value_is_refused_with_what_was_wrong_and_what_was_expected(string value, string expected)
    {
        FormatException error = Assert.Throws<FormatException>(() => SinkFactory.Plan(value));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}
