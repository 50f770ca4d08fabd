// dotnet run --project examples/WsGateway.Examples.Runner -- queue --port 9001 --capacity 1024 --policy drop --work-us 0
// Then, in another terminal (a slow consumer and a small queue show the policy at work: --capacity 16 --work-us 100):
// dotnet run --project examples/WsGateway.Examples.Runner -- client --url ws://127.0.0.1:9001/ --count 100000
using System.Diagnostics;

namespace WsGateway.Examples.Runner;

/// <summary>A gateway whose handlers only decode and enqueue; one consumer task processes the trades
/// (<see cref="QueueHandler"/>, <see cref="TradeQueue"/>).</summary>
internal static class QueueServer
{
    public static async Task RunAsync(int port, int capacity, QueueFullPolicy policy, int workMicroseconds, TextWriter output, CancellationToken cancellationToken)
    {
        // The "processing elsewhere": sum the volume, and burn workMicroseconds per trade to play a slow consumer.
        // Runs on the queue's consumer task only, so plain fields are enough.
        ulong volume = 0;
        void Process(Sbe.Trade trade)
        {
            volume += trade.Quantity;
            if (workMicroseconds > 0)
            {
                long until = Stopwatch.GetTimestamp() + (workMicroseconds * Stopwatch.Frequency / 1_000_000);
                while (Stopwatch.GetTimestamp() < until)
                {
                    Thread.SpinWait(10);
                }
            }
        }

        TradeQueue queue = new(capacity, policy, Process);
        await using (var server = new WebSocketServer($"127.0.0.1:{port}", queue.CreateHandler))
        {
            await server.StartAsync(cancellationToken).ConfigureAwait(false);
            output.WriteLine($"queue: listening on {server.Url}, capacity {capacity}, when full {policy} (Ctrl+C stops)");
            await ExampleRunner.WhenCancelled(cancellationToken).ConfigureAwait(false);

            // 1. Stop the server: every trade received reaches a handler and, if there is room, the queue.
            await server.StopAsync().ConfigureAwait(false);
        }

        // 2. Then drain the queue: every accepted trade is processed, exactly once.
        await queue.CompleteAsync().ConfigureAwait(false);
        output.WriteLine(
            $"queue: stopped; accepted {queue.Accepted}, processed {queue.Processed} (volume {volume}), "
            + $"dropped {queue.Dropped}, connections closed {queue.ConnectionsClosed}");
    }
}
