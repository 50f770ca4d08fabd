using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using WsGateway.Sbe;

namespace WsGateway.Sinks.Postgres;

/// <summary>
/// Stores trades in a PostgreSQL table with a unique key on <c>trade_id</c>: each batch is copied with binary
/// <c>COPY</c> into a temporary staging table, then moved with <c>INSERT ... SELECT ... ON CONFLICT (trade_id) DO
/// NOTHING</c>, in one transaction. A batch is durable once <see cref="PublishAsync"/> completes (the commit returned;
/// with the server's default <c>synchronous_commit=on</c> it is in the WAL on disk). Publishing a batch again, whole
/// or in part, stores nothing twice.
/// </summary>
/// <remarks>
/// <para>Columns: <c>trade_id bigint</c> (the SBE <c>uint64</c> as the same 64 bits: ids from 2^63 up read as
/// negative; <c>trade_id::numeric % 18446744073709551616</c> gives them back), <c>symbol "char"</c> (the byte),
/// <c>price double precision</c>, <c>quantity bigint</c>, <c>sbe bytea</c> (the message exactly as received, header
/// included) and <c>stored_at timestamptz</c>.</para>
/// <para>Thread-safe: concurrent batches use separate pooled connections from one <see cref="NpgsqlDataSource"/>.
/// A failed batch is rolled back whole, and the exception (an <see cref="NpgsqlException"/>, <see
/// cref="NpgsqlException.IsTransient"/> when the server was unreachable) is for the caller to retry on; after a
/// connection failure the idle pooled connections are dropped so that the retry opens fresh ones.</para>
/// </remarks>
public sealed class PostgresTradeSink : ITradeSink
{
    private const string StagingTable = "wsgw_trades_staging";

    // Emptied by every commit; a rolled-back batch's rows go with the rollback.
    private const string CreateStagingSql =
        $"""CREATE TEMP TABLE IF NOT EXISTS {StagingTable} (trade_id bigint NOT NULL, symbol "char" NOT NULL, price double precision NOT NULL, quantity bigint NOT NULL, sbe bytea NOT NULL) ON COMMIT DELETE ROWS""";

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _table;
    private readonly bool _createTables;
    private readonly string _copySql;
    private readonly string _insertSql;
    private readonly SemaphoreSlim _initLock = new(1, 1);
    private volatile bool _initialized;

    /// <summary>Creates the sink; no connection is opened until <see cref="InitializeAsync"/> or the first batch.</summary>
    /// <param name="options">The options.</param>
    /// <param name="loggerFactory">For Npgsql's log (connection failures, notices); none by default.</param>
    /// <exception cref="ArgumentException">A bad connection string or table name.</exception>
    public PostgresTradeSink(PostgresSinkOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        NpgsqlConnectionStringBuilder builder = options.Validate();

        // The staging table is a temporary table per physical connection, created when it opens and emptied by every
        // commit (ON COMMIT DELETE ROWS); Npgsql's DISCARD ALL on returning a connection to the pool would drop it.
        builder.NoResetOnClose = true;
        var dataSource = new NpgsqlDataSourceBuilder(builder.ConnectionString);
        if (loggerFactory is not null)
        {
            dataSource.UseLoggerFactory(loggerFactory);
        }

        // Once per physical connection, not per batch: CREATE TEMP TABLE IF NOT EXISTS costs milliseconds even when
        // the table exists.
        dataSource.UsePhysicalConnectionInitializer(CreateStaging, CreateStagingAsync);
        _dataSource = dataSource.Build();
        _table = options.Table;
        _createTables = options.CreateTables;
        _copySql = $"COPY {StagingTable} (trade_id, symbol, price, quantity, sbe) FROM STDIN (FORMAT BINARY)";
        // Sorted so that two concurrent batches with common ids take their row locks in the same order (no deadlock).
        _insertSql = $"INSERT INTO {_table} (trade_id, symbol, price, quantity, sbe) SELECT trade_id, symbol, price, quantity, sbe FROM {StagingTable} ORDER BY trade_id ON CONFLICT (trade_id) DO NOTHING";
    }

    /// <inheritdoc/>
    public string Name => "postgres";

    /// <summary>The table the sink writes to.</summary>
    public string Table => _table;

    /// <summary>The <c>CREATE TABLE</c> statement the sink runs when <see cref="PostgresSinkOptions.CreateTables"/> is on.</summary>
    public string CreateTableSql => $"""
        CREATE TABLE IF NOT EXISTS {_table} (
            trade_id bigint NOT NULL PRIMARY KEY,
            symbol "char" NOT NULL,
            price double precision NOT NULL,
            quantity bigint NOT NULL,
            sbe bytea NOT NULL,
            stored_at timestamptz NOT NULL DEFAULT now()
        )
        """;

    /// <summary>Connects and creates the table if missing (when <see cref="PostgresSinkOptions.CreateTables"/>), so
    /// that a wrong server, password or database shows at start rather than at the first batch. Optional: the first
    /// batch does it otherwise.</summary>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns>A task that completes once the database is ready.</returns>
    public async ValueTask InitializeAsync(CancellationToken cancellationToken = default)
    {
        if (_initialized)
        {
            return;
        }

        await _initLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_initialized)
            {
                return;
            }

            NpgsqlConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                if (_createTables)
                {
                    await using NpgsqlCommand create = new(CreateTableSql, connection);
                    try
                    {
                        await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    }
                    catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateTable)
                    {
                        // Another gateway created it at the same moment (IF NOT EXISTS is not atomic in the catalog).
                    }
                }
            }

            _initialized = true;
        }
        finally
        {
            _initLock.Release();
        }
    }

    /// <inheritdoc/>
    public async ValueTask PublishAsync(TradeBatch batch, CancellationToken cancellationToken)
    {
        CheckBatch(batch);
        if (batch.Count == 0)
        {
            return;
        }

        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        NpgsqlConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            try
            {
                NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await using (transaction.ConfigureAwait(false))
                {
                    NpgsqlBinaryImporter importer = await connection.BeginBinaryImportAsync(_copySql, cancellationToken).ConfigureAwait(false);
                    await using (importer.ConfigureAwait(false))
                    {
                        for (int i = 0; i < batch.Count; i++)
                        {
                            ReadOnlyMemory<byte> message = batch[i];
                            Trade trade = Decode(message.Span);
                            await importer.StartRowAsync(cancellationToken).ConfigureAwait(false);
                            await importer.WriteAsync(unchecked((long)trade.TradeId), NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
                            await importer.WriteAsync(trade.Symbol, NpgsqlDbType.InternalChar, cancellationToken).ConfigureAwait(false);
                            await importer.WriteAsync(trade.Price, NpgsqlDbType.Double, cancellationToken).ConfigureAwait(false);
                            await importer.WriteAsync((long)trade.Quantity, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
                            await importer.WriteAsync(message, NpgsqlDbType.Bytea, cancellationToken).ConfigureAwait(false);
                        }

                        await importer.CompleteAsync(cancellationToken).ConfigureAwait(false);
                    }

                    await using (NpgsqlCommand insert = new(_insertSql, connection, transaction))
                    {
                        await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    }

                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch (NpgsqlException ex) when (ex.IsTransient)
            {
                // The server went away (restart, failover, network): the other idle connections in the pool are most
                // likely dead too. Drop them so the caller's retry does not meet them one by one.
                _dataSource.Clear();
                throw;
            }
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _dataSource.DisposeAsync().ConfigureAwait(false);
        _initLock.Dispose();
    }

    private async ValueTask<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (NpgsqlException ex) when (ex.IsTransient)
        {
            _dataSource.Clear();
            throw;
        }
    }

    private static void CreateStaging(NpgsqlConnection connection)
    {
        using NpgsqlCommand create = new(CreateStagingSql, connection);
        create.ExecuteNonQuery();
    }

    private static async Task CreateStagingAsync(NpgsqlConnection connection)
    {
        await using NpgsqlCommand create = new(CreateStagingSql, connection);
        await create.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    private static Trade Decode(ReadOnlySpan<byte> message) => new TradeDecoder().WrapAndApplyHeader(message, 0).ToTrade();

    private static void CheckBatch(TradeBatch batch)
    {
        if (batch.Count < 0 || batch.MessageSize < Trade.EncodedSize || batch.Messages.Length != (long)batch.Count * batch.MessageSize)
        {
            throw new ArgumentException(
                $"postgres sink: a batch of {batch.Count} messages of {batch.MessageSize} bytes must be {(long)batch.Count * batch.MessageSize} bytes long (got {batch.Messages.Length}), with messages of at least {Trade.EncodedSize} bytes.",
                nameof(batch));
        }
    }
}
