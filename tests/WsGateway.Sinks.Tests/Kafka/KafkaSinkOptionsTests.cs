using WsGateway.Sinks.Kafka;

namespace WsGateway.Sinks.Tests.Kafka;

/// <summary>The options and their URI form (<c>wsgw serve --sink kafka://host:9092/topic</c>); no broker needed.</summary>
public sealed class KafkaSinkOptionsTests
{
    [Fact]
    public void A_uri_gives_the_broker_the_topic_and_librdkafka_properties()
    {
        KafkaSinkOptions options = KafkaSinkOptions.FromUri(new Uri("kafka://broker1.example:9093/market.trades?linger.ms=1&compression.type=lz4"));

        Assert.Equal("broker1.example:9093", options.BootstrapServers);
        Assert.Equal("market.trades", options.Topic);
        Assert.Equal(new Dictionary<string, string> { ["linger.ms"] = "1", ["compression.type"] = "lz4" }, options.Config);
    }

    [Fact]
    public void A_uri_without_a_port_uses_9092_and_bootstrap_servers_names_more_brokers()
    {
        Assert.Equal("kafka.internal:9092", KafkaSinkOptions.FromUri(new Uri("kafka://kafka.internal/trades")).BootstrapServers);

        KafkaSinkOptions options = KafkaSinkOptions.FromUri(new Uri("kafka://a:9092/trades?bootstrap.servers=a:9092,b:9092,c:9092"));
        Assert.Equal("a:9092,b:9092,c:9092", options.BootstrapServers);
        Assert.Empty(options.Config);
    }

    [Fact]
    public void The_parts_of_a_uri_parsed_elsewhere_give_the_brokers_with_their_ports_and_the_properties()
    {
        KafkaSinkOptions options = KafkaSinkOptions.FromParts("k1:9093,k2,[::1]:9094", "trades", [new("acks", "all"), new("linger.ms", "2")]);

        Assert.Equal("k1:9093,k2:9092,[::1]:9094", options.BootstrapServers);
        Assert.Equal("trades", options.Topic);
        Assert.Equal(new Dictionary<string, string> { ["acks"] = "all", ["linger.ms"] = "2" }, options.Config);
        Assert.Equal(
            "kafka sink: a user name or password in the URI is not used; expected the brokers alone, and SASL as properties (?security.protocol=SASL_SSL&sasl.mechanism=...).",
            Assert.Throws<ArgumentException>(() => KafkaSinkOptions.FromParts("user@k1", "trades", [])).Message);
        Assert.Equal(
            "kafka sink: acks=0: a trade counts as stored only once every in-sync replica has it; expected all or nothing.",
            Assert.Throws<ArgumentException>(() => KafkaSinkOptions.FromParts("k1", "trades", [new("acks", "0")])).Message);
    }

    [Theory]
    [InlineData("postgres://a:9092/trades", "the scheme must be kafka")]
    [InlineData("kafka://a:9092/", "topic '' is not a Kafka topic name")]
    [InlineData("kafka://a:9092/trades/more", "topic 'trades/more' is not a Kafka topic name")]
    [InlineData("kafka://a:9092/trades?enable.idempotence=false", "enable.idempotence=false: the sink's producer is always idempotent")]
    [InlineData("kafka://a:9092/trades?acks=1", "acks=1: a trade counts as stored only once every in-sync replica has it; expected all")]
    [InlineData("kafka://a:9092/trades?linger.ms", "query part 'linger.ms' has no value")]
    public void A_bad_uri_is_an_error_naming_the_part_and_the_expected_form(string uri, string expected)
    {
        ArgumentException ex = Assert.Throws<ArgumentException>(() => KafkaSinkOptions.FromUri(new Uri(uri)));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.StartsWith("kafka sink", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_librdkafka_property_is_refused_when_the_sink_is_created()
    {
        var options = new KafkaSinkOptions { BootstrapServers = "127.0.0.1:9092", Topic = "trades" };
        options.Config["message.max.bytes"] = "huge";

        ArgumentException ex = Assert.Throws<ArgumentException>(() => new KafkaTradeSink(options));
        Assert.StartsWith("kafka sink: librdkafka refused the producer configuration", ex.Message, StringComparison.Ordinal);
        Assert.Contains("configuration property \"message.max.bytes\"", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_without_brokers_or_topic_are_refused_with_the_expected_form()
    {
        Assert.Contains("no bootstrap servers; expected host:port",
            Assert.Throws<ArgumentException>(() => new KafkaTradeSink(new KafkaSinkOptions { Topic = "t" })).Message, StringComparison.Ordinal);
        Assert.Contains("topic 'a b' is not a Kafka topic name",
            Assert.Throws<ArgumentException>(() => new KafkaTradeSink(new KafkaSinkOptions { BootstrapServers = "h:1", Topic = "a b" })).Message, StringComparison.Ordinal);
    }
}
