// dotnet run --project examples/WsGateway.Examples.Runner -- postgres --port 9001 --connection "Host=127.0.0.1;Username=postgres;Database=postgres" --table trades
// Then: dotnet run --project examples/WsGateway.Examples.Runner -- client --url ws://127.0.0.1:9001/ --count 100000 --batch 100
//       psql -h 127.0.0.1 -U postgres -c "SELECT count(*), count(DISTINCT trade_id) FROM trades"
using WsGateway.Sinks.Postgres;

namespace WsGateway.Examples.Runner;

/// <summary>A gateway whose trades go into a PostgreSQL table (<see cref="WsGateway.Sinks.SinkPipeline"/>, <see cref="PostgresTradeSink"/>).</summary>
internal static class PostgresSinkServer
{
    public static async Task RunAsync(int port, string connectionString, string table, TextWriter output, CancellationToken cancellationToken)
    {
        var options = new PostgresSinkOptions { ConnectionString = connectionString, Table = table };

        // SinkServer runs the sink's start-up check (connect, create the table if missing) before it listens: a wrong
        // server or password shows now, not at the first trade.
        await SinkServer.RunAsync("postgres", $"table {options.Table}", loggerFactory => new PostgresTradeSink(options, loggerFactory), port, output, cancellationToken).ConfigureAwait(false);
    }
}
