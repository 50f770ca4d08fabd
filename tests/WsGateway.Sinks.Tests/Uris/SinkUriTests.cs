using WsGateway.Sinks.Kafka;
using WsGateway.Sinks.Nats;

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
        await using var sink = (NatsJetStreamSink)plan.CreateSink(Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
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
        await using var sink = (NatsJetStreamSink)plan.CreateSink(Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
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
        await using var sink = (NatsJetStreamSink)plan.CreateSink(Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        Assert.Equal("nats://gw:s3cret@127.0.0.1:4222,nats://gw:s3cret@127.0.0.2:4222", sink.Options.Url);
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
    public void A_bad_value_is_refused_with_what_was_wrong_and_what_was_expected(string value, string expected)
    {
        FormatException error = Assert.Throws<FormatException>(() => SinkFactory.Plan(value));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}
