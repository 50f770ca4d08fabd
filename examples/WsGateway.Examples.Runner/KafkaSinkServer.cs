// dotnet run --project examples/WsGateway.Examples.Runner -- kafka --port 9001 --bootstrap 127.0.0.1:9092 --topic trades
// Then: dotnet run --project examples/WsGateway.Examples.Runner -- client --url ws://127.0.0.1:9001/ --count 100000 --batch 100
using WsGateway.Sinks.Kafka;

namespace WsGateway.Examples.Runner;

/// <summary>A gateway whose trades go to a Kafka topic (<see cref="WsGateway.Sinks.SinkPipeline"/>, <see cref="KafkaTradeSink"/>).</summary>
internal static class KafkaSinkServer
{
    public static Task RunAsync(int port, string bootstrapServers, string topic, TextWriter output, CancellationToken cancellationToken)
    {
        var options = new KafkaSinkOptions { BootstrapServers = bootstrapServers, Topic = topic };

        // The sink logs through the example's logger: a broker that cannot be reached is said once (and again when it
        // changes), not at every reconnection attempt.
        return SinkServer.RunAsync("kafka", $"topic {topic} on {bootstrapServers}", loggerFactory => new KafkaTradeSink(options, loggerFactory), port, output, cancellationToken);
    }
}
