using WsGateway.Sinks.Kafka;

namespace WsGateway.Sinks.Tests.Kafka;

/// <summary>The options, and <see cref="KafkaSinkOptions.FromParts"/>; no broker needed. What a whole
/// <c>kafka://</c> <c>--sink</c> URI sets is in Uris/SinkUriTests.</summary>
public sealed class KafkaSinkOptionsTests
{
    [Fact]
    public void The_parts_of_a_uri_give_the_brokers_with_their_ports_and_the_properties()
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
