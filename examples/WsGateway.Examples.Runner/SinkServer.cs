using WsGateway.Sinks;

namespace WsGateway.Examples.Runner;

/// <summary>The part the PostgreSQL and Kafka examples share: a gateway feeding a <see cref="SinkPipeline"/>, which
/// batches each read's trades, keeps at most 100,000 unacknowledged (pausing the connections beyond that), retries
/// while the sink is down, and acknowledges each client's trades with a <c>TradeAck</c> once they are stored.</summary>
internal static class SinkServer
{
    public static async Task RunAsync(string name, string where, ITradeSink sink, int port, TextWriter output, CancellationToken cancellationToken)
    {
        await using var pipeline = new SinkPipeline(sink, new SinkPipelineOptions { MaxInFlightTrades = 100_000, DrainTimeout = TimeSpan.FromSeconds(10) });
        await using (var server = new WebSocketServer($"127.0.0.1:{port}", _ => pipeline.CreateHandler()))
        {
            await server.StartAsync(cancellationToken).ConfigureAwait(false);
            output.WriteLine($"{name}: listening on {server.Url}, storing trades in {where} (Ctrl+C stops)");
            await ExampleRunner.WhenCancelled(cancellationToken).ConfigureAwait(false);

            // 1. Stop the server: every trade received reaches the pipeline.
            await server.StopAsync().ConfigureAwait(false);
        }

        // 2. Then the pipeline stores what is in flight (giving a sink that is down 10 s) and closes the sink.
        output.WriteLine($"{name}: stopping; storing what is in flight");
        await pipeline.DisposeAsync().ConfigureAwait(false);
        SinkStatus status = pipeline.GetStatus();
        output.WriteLine($"{name}: stopped; {status.TradesStored} trades stored, {status.AcknowledgementsSent} acks sent, {status.Retries} retries, {status.InFlightTrades} not stored");
    }
}
