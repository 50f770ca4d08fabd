using Microsoft.Extensions.Logging;
using WsGateway.Sinks;

namespace WsGateway.Examples.Runner;

/// <summary>The part the PostgreSQL and Kafka examples share: a gateway feeding a <see cref="SinkPipeline"/>, which
/// batches each read's trades, keeps at most 100,000 unacknowledged (pausing the connections beyond that), retries
/// while the sink is down, and acknowledges each client's trades with a <c>TradeAck</c> once they are stored.</summary>
internal static class SinkServer
{
    /// <summary>The start-up check's deadline, and the whole stop's (drain and the sink's close together).</summary>
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_stopTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Runs the example.</summary>
    /// <param name="name">The example's name, starting each line.</param>
    /// <param name="where">Where the trades are stored, for the first line.</param>
    /// <param name="createSink">Builds the sink with the example's logger factory (its warnings go to <paramref name="output"/>).</param>
    /// <param name="port">The port to listen on (0 picks one).</param>
    /// <param name="output">Where the lines go.</param>
    /// <param name="cancellationToken">Stops the example (Ctrl+C).</param>
    /// <returns>A task that completes when the example has stopped.</returns>
    /// <exception cref="SinkNotReadyException">The sink could not be reached at start (nothing listened).</exception>
    public static async Task RunAsync(string name, string where, Func<ILoggerFactory, ITradeSink> createSink, int port, TextWriter output, CancellationToken cancellationToken)
    {
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(new OutputLoggerProvider(output)));
        var pipeline = new SinkPipeline(createSink(loggerFactory), new SinkPipelineOptions { MaxInFlightTrades = 100_000, DrainTimeout = s_stopTimeout }, loggerFactory);
        bool listened = false;
        try
        {
            // 0. The sink's start-up check (connect, authenticate, check or create the table or topic): a wrong
            //    address or name fails here, before a client can connect, not at the first trade.
            await pipeline.CheckSinkAsync(s_startTimeout, cancellationToken).ConfigureAwait(false);
            await using var server = new WebSocketServer($"127.0.0.1:{port}", _ => pipeline.CreateHandler());
            await server.StartAsync(cancellationToken).ConfigureAwait(false);
            listened = true;
            output.WriteLine($"{name}: listening on {server.Url}, storing trades in {where} (Ctrl+C stops)");
            await ExampleRunner.WhenCancelled(cancellationToken).ConfigureAwait(false);

            // 1. Stop the server: every trade received reaches the pipeline.
            await server.StopAsync().ConfigureAwait(false);
        }
        finally
        {
            // 2. Then the pipeline stores what is in flight and closes the sink, both within 10 s (DrainTimeout): a
            //    sink that is down does not hold the stop longer, and what it did not store is counted (those clients
            //    were not acknowledged: they resend).
            if (listened)
            {
                output.WriteLine($"{name}: stopping; storing what is in flight (at most {s_stopTimeout.TotalSeconds:0} s)");
            }

            await pipeline.DisposeAsync().ConfigureAwait(false);
            if (listened)
            {
                SinkStatus status = pipeline.GetStatus();
                output.WriteLine($"{name}: stopped; {pipeline.TradesReceived} trades received, {status.TradesStored} stored, {pipeline.TradesNotStored} not stored, {status.AcknowledgementsSent} acks sent, {status.Retries} retries");
            }
        }
    }
}
