using WsGateway.Sinks;

namespace WsGateway.Examples.Runner;

/// <summary>The part the PostgreSQL and Kafka examples share: a gateway feeding a <see cref="SinkForwarder"/>.</summary>
internal static class SinkServer
{
    public static async Task RunAsync(string name, string where, ITradeSink sink, int port, TextWriter output, CancellationToken cancellationToken)
    {
        var forwarder = new SinkForwarder(sink, capacity: 16);
        try
        {
            await using var server = new WebSocketServer($"127.0.0.1:{port}", forwarder.CreateHandler);
            await server.StartAsync(cancellationToken).ConfigureAwait(false);
            output.WriteLine($"{name}: listening on {server.Url}, storing trades in {where} (Ctrl+C stops)");
            await ExampleRunner.WhenCancelled(cancellationToken).ConfigureAwait(false);

            // 1. Stop the server: every trade received reaches the forwarder.
            await server.StopAsync().ConfigureAwait(false);
        }
        finally
        {
            // 2. Then publish what is queued, giving a sink that is down 10 s, and close the sink.
            output.WriteLine($"{name}: stopping; publishing what is queued");
            using var giveUp = new Timer(_ => forwarder.Abandon(), null, TimeSpan.FromSeconds(10), Timeout.InfiniteTimeSpan);
            await forwarder.DisposeAsync().ConfigureAwait(false);
        }

        output.WriteLine($"{name}: stopped; stored {forwarder.Published} trades in {forwarder.Batches} batches, {forwarder.Retries} retries, {forwarder.Pauses} pauses, {forwarder.NotStored} not stored");
    }
}
