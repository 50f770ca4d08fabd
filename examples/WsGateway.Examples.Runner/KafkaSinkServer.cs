// dotnet run --project examples/WsGateway.Examples.Runner -- kafka --port 9001 --bootstrap 127.0.0.1:9092 --topic trades
// Then: dotnet run --project examples/WsGateway.Examples.Runner -- client --url ws://127.0.0.1:9001/ --count 100000 --batch 100
using WsGateway.Sinks.Kafka;

namespace WsGateway.Examples.Runner;

/// <summary>A gateway whose trades go to a Kafka topic (<see cref="WsGateway.Sinks.SinkPipeline"/>, <see cref="KafkaTradeSink"/>).</summary>
internal static class KafkaSinkServer
{
    public static Task RunAsync(int port, string bootstrapServers, string topic, TextWriter output, CancellationToken cancellationToken)
    {
        var sink = new KafkaTradeSink(new KafkaSinkOptions { BootstrapServers = bootstrapServers, Topic = topic });
        return SinkServer.RunAsync("kafka", $"topic {topic} on {bootstrapServers}", sink, port, output, cancellationToken);
    }
}
