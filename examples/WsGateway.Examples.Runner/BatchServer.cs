// dotnet run --project examples/WsGateway.Examples.Runner -- batch --port 9001
// Then, in another terminal:
// dotnet run --project examples/WsGateway.Examples.Runner -- client --url ws://127.0.0.1:9001/ --count 3 --batch 100
namespace WsGateway.Examples.Runner;

/// <summary>A gateway that commits each frame of trades as one batch (<see cref="BatchHandler"/>).</summary>
internal static class BatchServer
{
    public static async Task RunAsync(int port, TextWriter output, CancellationToken cancellationToken)
    {
        // One sink shared by every connection (it only writes lines to a synchronized writer: thread-safe);
        // one BatchHandler, with its own reusable buffer, per connection.
        var sink = new SummaryBatchSink(output);
        await using var server = new WebSocketServer($"127.0.0.1:{port}", _ => new BatchHandler(sink));
        await server.StartAsync(cancellationToken).ConfigureAwait(false);
        output.WriteLine($"batch: listening on {server.Url} (Ctrl+C stops)");

        await ExampleRunner.WhenCancelled(cancellationToken).ConfigureAwait(false);

        await server.StopAsync().ConfigureAwait(false);
        output.WriteLine("batch: stopped");
    }
}
