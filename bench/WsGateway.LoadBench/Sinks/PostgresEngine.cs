using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;
using WsGateway.Sbe;
using WsGateway.Sinks.Postgres;
using WsGateway.Testing;

namespace WsGateway.LoadBench.Sinks;

/// <summary>PostgreSQL 15: a server started here (Debian's postgresql-15, <c>initdb</c> and <c>pg_ctl</c> in a temp
/// folder, default settings: <c>fsync</c> and <c>synchronous_commit</c> on). The baseline is Npgsql's binary
/// <c>COPY</c> of the rows the sink writes, in large transactions on one connection, into a fresh table of the sink's
/// own shape; the bare round trip is one autocommitted <c>INSERT</c> of one row.</summary>
internal sealed class PostgresEngine : ISinkEngine
{
    /// <summary>Rows of one baseline <c>COPY</c> (one transaction, committed). The issue's figure was one
    /// <c>\copy</c> of 1,000,000 rows; 100,000 keeps several commits inside a measured window of a few seconds while
    /// the commit's cost stays negligible (one WAL flush per 100,000 rows).</summary>
    public const int CopyRows = 100_000;

    private readonly PostgresServer _server;
    private readonly string _version;

    private PostgresEngine(PostgresServer server, string version)
    {
        _server = server;
        _version = version;
    }

    public string Name => "postgres";

    public string Server => $"{_version} (started here: initdb, default settings, fsync and synchronous_commit on)";

    public string Baseline => $"Npgsql binary COPY of the sink's rows, {CopyRows:N0} rows per transaction, one connection";

    public static async Task<PostgresEngine> StartAsync(CancellationToken cancellationToken)
    {
        var server = new PostgresServer();
        await server.InitializeAsync().ConfigureAwait(false);
        try
        {
            await using var connection = new NpgsqlConnection(server.ConnectionString);
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return new PostgresEngine(server, $"PostgreSQL {connection.PostgreSqlVersion}");
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public string SinkUri(string destination, string query)
        => $"postgres://postgres@127.0.0.1:{_server.Port}/postgres?table={destination}{(query.Length > 0 ? "&" + query : string.Empty)}";

    /// <summary>Binary COPY of 29-byte trades' rows (<c>trade_id, symbol, price, quantity, sbe</c>, the columns the
    /// sink writes) into a fresh table of the sink's shape, <see cref="CopyRows"/> per committed transaction, back to
    /// back: rows committed per second over the measured window. The ids are those the benchmark's clients send
    /// (<see cref="SinkBenchSettings.Connections"/> ascending ranges, interleaved a frame at a time), so the primary
    /// key sees the same inserts as with the sink.</summary>
    public async Task<double> BaselineAsync(string destination, SinkBenchSettings settings, CancellationToken cancellationToken)
    {
        await using NpgsqlConnection connection = await OpenAsync(destination, cancellationToken).ConfigureAwait(false);
        string copy = $"COPY {destination} (trade_id, symbol, price, quantity, sbe) FROM STDIN (FORMAT BINARY)";
        var next = new ulong[settings.Connections];
        for (int c = 0; c < next.Length; c++)
        {
            next[c] = ((ulong)c << 40) + 1;
        }

        var message = new byte[Trade.EncodedSize];
        long committed = 0;
        long measuredFrom = -1;
        int frame = 0;
        var clock = Stopwatch.StartNew();
        TimeSpan warmUp = TimeSpan.FromSeconds(1);
        TimeSpan window = TimeSpan.FromSeconds(settings.Duration);
        while (true)
        {
            await using (NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false))
            {
                await using (NpgsqlBinaryImporter importer = await connection.BeginBinaryImportAsync(copy, cancellationToken).ConfigureAwait(false))
                {
                    for (int row = 0; row < CopyRows; row++)
                    {
                        int c = (frame / settings.Batch) % next.Length;
                        frame++;
                        ulong id = next[c]++;
                        new Trade(id, (byte)'B', 100.5, 10).Encode(message);
                        importer.StartRow();
                        importer.Write(unchecked((long)id), NpgsqlDbType.Bigint);
                        importer.Write((byte)'B', NpgsqlDbType.InternalChar);
                        importer.Write(100.5, NpgsqlDbType.Double);
                        importer.Write(10L, NpgsqlDbType.Bigint);
                        importer.Write(message, NpgsqlDbType.Bytea);
                    }

                    await importer.CompleteAsync(cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }

            committed += CopyRows;
            if (measuredFrom < 0)
            {
                if (clock.Elapsed >= warmUp)
                {
                    measuredFrom = committed;
                    clock.Restart();
                }
            }
            else if (clock.Elapsed >= window)
            {
                return (committed - measuredFrom) / clock.Elapsed.TotalSeconds;
            }
        }
    }

    /// <summary>One autocommitted, prepared <c>INSERT</c> of one row at a time, each awaited: the bare round trip of
    /// a durable row (one message exchange and a WAL flush).</summary>
    public async Task BaselineRoundTripAsync(string destination, LatencyRecorder recorder, CancellationToken cancellationToken)
    {
        await using NpgsqlConnection connection = await OpenAsync(destination, cancellationToken).ConfigureAwait(false);
        await using var insert = new NpgsqlCommand($"INSERT INTO {destination} (trade_id, symbol, price, quantity, sbe) VALUES ($1, $2, $3, $4, $5)", connection);
        var id = new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint };
        var message = new byte[Trade.EncodedSize];
        insert.Parameters.Add(id);
        insert.Parameters.Add(new NpgsqlParameter<byte> { NpgsqlDbType = NpgsqlDbType.InternalChar, TypedValue = (byte)'L' });
        insert.Parameters.Add(new NpgsqlParameter<double> { NpgsqlDbType = NpgsqlDbType.Double, TypedValue = 1.5 });
        insert.Parameters.Add(new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = 1 });
        insert.Parameters.Add(new NpgsqlParameter<byte[]> { NpgsqlDbType = NpgsqlDbType.Bytea, TypedValue = message });
        await insert.PrepareAsync(cancellationToken).ConfigureAwait(false);
        for (int i = 1; i <= recorder.Capacity + 100; i++)
        {
            new Trade((ulong)i, (byte)'L', 1.5, 1).Encode(message);
            id.TypedValue = i;
            long started = Stopwatch.GetTimestamp();
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            if (i > 100)
            {
                recorder.Record(Stopwatch.GetTimestamp() - started);
            }
        }
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync().ConfigureAwait(false);

    /// <summary>A connection of its own (no pool) and a fresh table of the sink's shape (the sink's own
    /// <see cref="PostgresTradeSink.CreateTableSql"/>).</summary>
    private async Task<NpgsqlConnection> OpenAsync(string table, CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(_server.ConnectionString + ";Pooling=false");
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var sink = new PostgresTradeSink(new PostgresSinkOptions { ConnectionString = _server.ConnectionString, Table = table });
        await using var create = new NpgsqlCommand(sink.CreateTableSql, connection);
        await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return connection;
    }
}
