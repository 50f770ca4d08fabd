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
        var sink = new PostgresTradeSink(new PostgresSinkOptions { ConnectionString = connectionString, Table = table });
        await sink.InitializeAsync(cancellationToken).ConfigureAwait(false); // a wrong server or password shows now, not at the first trade
        await SinkServer.RunAsync("postgres", $"table {sink.Table}", sink, port, output, cancellationToken).ConfigureAwait(false);
    }
}
