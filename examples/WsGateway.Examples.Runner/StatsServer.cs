// dotnet run --project examples/WsGateway.Examples.Runner -- stats --port 9001 --interval 5
// Then, in another terminal (run it several times, or several at once):
// dotnet run --project examples/WsGateway.Examples.Runner -- client --url ws://127.0.0.1:9001/ --count 1000
namespace WsGateway.Examples.Runner;

/// <summary>A gateway keeping per-symbol VWAP statistics over every connection (<see cref="VwapStatsHandler"/>).</summary>
internal static class StatsServer
{
    public static async Task RunAsync(int port, TimeSpan interval, TextWriter output, CancellationToken cancellationToken)
    {
        // One handler instance for every connection: the statistics are shared, so the handler is thread-safe.
        // (The library's StatsHandler is the per-connection alternative: `wsgw serve --handler stats`.)
        var stats = new VwapStatsHandler();
        await using var server = new WebSocketServer($"127.0.0.1:{port}", stats);
        await server.StartAsync(cancellationToken).ConfigureAwait(false);
        output.WriteLine($"stats: listening on {server.Url} (Ctrl+C stops)");

        // Print the table every interval, when something changed. Reading takes the handler's lock briefly.
        using var timer = new PeriodicTimer(interval);
        long printed = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                if (stats.Trades != printed)
                {
                    printed = stats.Trades;
                    stats.WriteTable(output);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C.
        }

        await server.StopAsync().ConfigureAwait(false);
        output.WriteLine("stats: stopped; final table:");
        stats.WriteTable(output);
    }
}
