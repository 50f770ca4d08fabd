// dotnet run --project examples/WsGateway.Examples.Runner -- printing --port 9001
// Then, in another terminal:
// dotnet run --project examples/WsGateway.Examples.Runner -- client --url ws://127.0.0.1:9001/ --count 10 --batch 5
namespace WsGateway.Examples.Runner;

/// <summary>A gateway that prints every trade (<see cref="PrintingHandler"/>).</summary>
internal static class PrintingServer
{
    public static async Task RunAsync(int port, TextWriter output, CancellationToken cancellationToken)
    {
        // A factory: one PrintingHandler per connection, so its callbacks never run concurrently.
        await using var server = new WebSocketServer($"127.0.0.1:{port}", _ => new PrintingHandler(output));
        await server.StartAsync(cancellationToken).ConfigureAwait(false);
        output.WriteLine($"printing: listening on {server.Url} (Ctrl+C stops)");

        await ExampleRunner.WhenCancelled(cancellationToken).ConfigureAwait(false);

        // Graceful: every connection is closed with 1001 and what it sent before reaches its handler.
        await server.StopAsync().ConfigureAwait(false);
        output.WriteLine("printing: stopped");
    }
}
