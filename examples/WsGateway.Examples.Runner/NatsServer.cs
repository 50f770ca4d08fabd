// dotnet run --project examples/WsGateway.Examples.Runner -- nats --port 9001 --nats nats://127.0.0.1:4222 --stream TRADES
// (with a JetStream server running: nats-server -js). Then, in another terminal:
// dotnet run --project examples/WsGateway.Examples.Runner -- reliable-client --url ws://127.0.0.1:9001/ --count 100000
using WsGateway.Sinks;
using WsGateway.Sinks.Nats;

namespace WsGateway.Examples.Runner;

/// <summary>
/// A gateway whose trades go into a NATS JetStream stream (<see cref="NatsJetStreamSink"/>, the trade id as message
/// id) through a <see cref="SinkPipeline"/>, which acknowledges each client's trades with a <c>TradeAck</c> once they
/// are stored. Prints the sink's state every interval, and the health check's verdict.
/// </summary>
internal static class NatsServer
{
    public static async Task RunAsync(int port, string natsUrl, string stream, TimeSpan interval, TextWriter output, CancellationToken cancellationToken)
    {
        // The sink creates the stream if it is missing (1 replica here; replicas=3 on a cluster).
        var sink = new NatsJetStreamSink(new NatsSinkOptions { Url = natsUrl, Stream = stream, Subject = stream.ToLowerInvariant() });

        // The pipeline: at most 100,000 trades unacknowledged by NATS; beyond that the connections feeding it are
        // paused (TCP slows their clients) until acknowledgements bring it back under half.
        await using var pipeline = new SinkPipeline(sink, new SinkPipelineOptions { MaxInFlightTrades = 100_000 });
        var health = new SinkHealthCheck(pipeline);

        // One handler per connection; it copies each read's trades into a batch and hands it over without waiting.
        await using var server = new WebSocketServer($"127.0.0.1:{port}", _ => pipeline.CreateHandler());
        await server.StartAsync(cancellationToken).ConfigureAwait(false);
        output.WriteLine($"nats: listening on {server.Url}, storing into stream {stream} on {natsUrl} (Ctrl+C stops)");

        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                var result = await health.CheckHealthAsync(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext(), cancellationToken).ConfigureAwait(false);
                output.WriteLine($"nats: {result.Status}: {result.Description}");
            }
        }
        catch (OperationCanceledException)
        {
        }

        // Stop the gateway first (connections hand over their last reads), then the pipeline stores what is in flight.
        await server.StopAsync().ConfigureAwait(false);
        await pipeline.DisposeAsync().ConfigureAwait(false);
        SinkStatus status = pipeline.GetStatus();
        output.WriteLine($"nats: stopped; {status.TradesStored} trades stored, {status.AcknowledgementsSent} acks sent, {status.Retries} retries");
    }
}
