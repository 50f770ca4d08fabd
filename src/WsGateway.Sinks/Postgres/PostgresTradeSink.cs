using System.Buffers;
using System.Threading.Tasks.Sources;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using WsGateway.Sbe;

namespace WsGateway.Sinks.Postgres;

/// <summary>
/// Stores trades in a PostgreSQL table with a unique key on <c>trade_id</c>. Batches published at the same time are
/// written together (group commit): one binary <c>COPY</c> straight into the table, rows in <c>trade_id</c> order, in
/// a transaction of its own. When that <c>COPY</c> meets a trade id already stored (a retry, a client's resend:
/// unique violation, SQLSTATE 23505), nothing of it stays and the same rows go the safe way instead: <c>COPY</c> into a
/// temporary staging table, then <c>INSERT ... SELECT ... ORDER BY trade_id ON CONFLICT (trade_id) DO NOTHING</c>, in
/// one transaction. A batch is durable once <see cref="PublishAsync"/> completes (the commit returned; with the
/// server's default <c>synchronous_commit=on</c> it is in the WAL on disk). Publishing a batch again, whole or in part,
/// stores nothing twice.
/// </summary>
/// <remarks>
/// <para>Columns: <c>trade_id bigint</c> (the SBE <c>uint64</c> as the same 64 bits: ids from 2^63 up read as
/// negative; <c>trade_id::numeric % 18446744073709551616</c> gives them back), <c>symbol "char"</c> (the byte),
/// <c>price double precision</c>, <c>quantity bigint</c>, <c>sbe bytea</c> (the message exactly as received, header
/// included) and <c>stored_at timestamptz</c>.</para>
/// <para>Thread-safe: concurrent calls queue their batches; up to <see cref="PostgresSinkOptions.Writers"/> writers,
/// each on a pooled connection of one <see cref="NpgsqlDataSource"/>, take what is queued (up to
/// <see cref="PostgresSinkOptions.MaxTradesPerCommit"/> trades) and complete every call of their group when its
/// transaction has committed, or fail every one of them with its exception (an <see cref="NpgsqlException"/>,
/// <see cref="NpgsqlException.IsTransient"/> when the server was unreachable) for the caller to retry on. Every
/// transaction inserts its rows in <c>trade_id</c> order, so transactions with common ids wait for each other
/// instead of deadlocking. After a connection failure the idle pooled connections are dropped so that the retry opens
/// fresh ones.</para>
/// </remarks>
public sealed class PostgresTradeSink : ITradeSink
{
    private const string StagingTable = "wsgw_trades_staging";

    // Emptied by every commit; a rolled-back batch's rows go with the rollback.
    private const string CreateStagingSql =
        $"""CREATE TEMP TABLE IF NOT EXISTS {StagingTable} (trade_id bigint NOT NULL, symbol "char" NOT NULL, price double precision NOT NULL, quantity bigint NOT NULL, sbe bytea NOT NULL) ON COMMIT DELETE ROWS""";

    private const string Columns = "(trade_id, symbol, price, quantity, sbe)";

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _table;
    private readonly bool _createTables;
    private readonly string _copySql;
    private readonly string _copyStagingSql;
    private readonly string _insertSql;
    private readonly int _maxWriters;
    private readonly int _maxTradesPerCommit;
    private readonly SemaphoreSlim _initLock = new(1, 1);
    private readonly Func<Task> _writeLoop;
    private volatile bool _initialized;

    // The queue of batches waiting for a writer, and the writers' count; under _lock (one take per batch, not per trade).
    private readonly Lock _lock = new();
    private readonly List<Waiter> _queue = [];
    private readonly Stack<Waiter> _waiterPool = new();
    private readonly Stack<Group> _groupPool = new();
    private readonly List<Group> _writing = [];
    private int _writers;
    private bool _disposed;
    private long _directCommits;
    private long _fallbackCommits;

    /// <summary>Creates the sink; no connection is opened until <see cref="InitializeAsync"/> or the first batch.</summary>
    /// <param name="options">The options.</param>
    /// <param name="loggerFactory">For Npgsql's log (connection failures, notices); none by default.</param>
    /// <exception cref="ArgumentException">A bad connection string, table name or writer setting.</exception>
    public PostgresTradeSink(PostgresSinkOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        NpgsqlConnectionStringBuilder builder = options.Validate();
        Options = options;

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
        _maxWriters = options.Writers;
        _maxTradesPerCommit = options.MaxTradesPerCommit;
        _copySql = $"COPY {_table} {Columns} FROM STDIN (FORMAT BINARY)";
        _copyStagingSql = $"COPY {StagingTable} {Columns} FROM STDIN (FORMAT BINARY)";
        // Sorted so that two concurrent transactions with common ids take their row locks in the same order (no deadlock).
        _insertSql = $"INSERT INTO {_table} {Columns} SELECT trade_id, symbol, price, quantity, sbe FROM {StagingTable} ORDER BY trade_id ON CONFLICT (trade_id) DO NOTHING RETURNING trade_id";
        _writeLoop = WriteLoopAsync;
    }

    /// <inheritdoc/>
    public string Name => "postgres";

    /// <summary>The table the sink writes to.</summary>
    public string Table => _table;

    /// <summary>The options the sink was created with.</summary>
    public PostgresSinkOptions Options { get; }

    /// <summary>Transactions committed by the direct <c>COPY</c> into the table (no trade id of theirs was stored
    /// before).</summary>
    public long DirectCommits => Interlocked.Read(ref _directCommits);

    /// <summary>Transactions that met a trade id already stored and went through the staging table instead.</summary>
    public long FallbackCommits => Interlocked.Read(ref _fallbackCommits);

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
    /// <remarks>The batch joins the queue; it is written, with whatever else is queued, by the next free writer.
    /// Cancelling <paramref name="cancellationToken"/> takes a batch still queued out of the queue, and cancels the
    /// transaction of a batch being written (with the batches written with it, which then fail and are retried).</remarks>
    public async ValueTask PublishAsync(TradeBatch batch, CancellationToken cancellationToken)
        => await PublishCountingDuplicatesAsync(batch, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc/>
    /// <remarks>True: a trade id the table holds is not inserted again (<c>ON CONFLICT (trade_id) DO NOTHING</c>), and
    /// counts as a duplicate.</remarks>
    public bool CountsDuplicates => true;

    /// <inheritdoc/>
    /// <remarks>The direct <c>COPY</c> stores no duplicate (it fails on one). On the staging path the rows the
    /// <c>INSERT</c> returns are the ones stored now; every other trade of the batch (an id the table held, or the
    /// second of one id in the same transaction) is a duplicate.</remarks>
    public async ValueTask<int> PublishCountingDuplicatesAsync(TradeBatch batch, CancellationToken cancellationToken)
    {
        batch.Validate(Name);
        if (batch.Count == 0)
        {
            return 0;
        }

        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        Waiter waiter;
        bool startWriter;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            waiter = _waiterPool.Count > 0 ? _waiterPool.Pop() : new Waiter(this);
            waiter.Batch = batch;
            waiter.State = WaiterState.Queued;
            _queue.Add(waiter);
            startWriter = _writers < _maxWriters;
            if (startWriter)
            {
                _writers++;
            }
        }

        if (cancellationToken.CanBeCanceled)
        {
            waiter.Registration = cancellationToken.UnsafeRegister(static (state, token) => ((Waiter)state!).Cancel(token), waiter);
        }

        if (startWriter)
        {
            _ = Task.Run(_writeLoop, CancellationToken.None);
        }

        try
        {
            return await new ValueTask<int>(waiter, waiter.Version).ConfigureAwait(false);
        }
        finally
        {
            // Waits for a cancellation callback that is running, so the waiter is no one's once it is back in the pool.
            await waiter.Registration.DisposeAsync().ConfigureAwait(false);
            waiter.Reset();
            lock (_lock)
            {
                _waiterPool.Push(waiter);
            }
        }
    }

    /// <inheritdoc/>
    /// <remarks>Batches still queued fail with <see cref="ObjectDisposedException"/>; transactions being written are
    /// cancelled.</remarks>
    public async ValueTask DisposeAsync()
    {
        List<Waiter> queued;
        CancellationTokenSource[] writing;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            queued = [.. _queue];
            foreach (Waiter waiter in queued)
            {
                waiter.State = WaiterState.Done;
            }

            _queue.Clear();
            writing = new CancellationTokenSource[_writing.Count];
            for (int i = 0; i < writing.Length; i++)
            {
                writing[i] = _writing[i].Cancellation;
            }
        }

        var disposed = new ObjectDisposedException(nameof(PostgresTradeSink), "postgres sink: disposed before the batch was written.");
        foreach (Waiter waiter in queued)
        {
            waiter.Fail(disposed);
        }

        foreach (CancellationTokenSource transaction in writing)
        {
            await transaction.CancelAsync().ConfigureAwait(false);
        }

        // The writers end once their group is done (failed by the cancellation, or committed).
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (Volatile.Read(ref _writers) > 0 && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(10).ConfigureAwait(false);
        }

        await _dataSource.DisposeAsync().ConfigureAwait(false);
        _initLock.Dispose();
    }

    /// <summary>One writer: takes what is queued, writes it, completes its callers; ends when the queue is empty.</summary>
    private async Task WriteLoopAsync()
    {
        while (TakeGroup() is { } group)
        {
            Exception? failure = null;
            try
            {
                await WriteGroupAsync(group).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                failure = e;
            }

            lock (_lock)
            {
                foreach (Waiter waiter in group.Waiters)
                {
                    waiter.State = WaiterState.Done;
                }

                _writing.Remove(group);
            }

            // Each caller goes on on a pool thread of its own (RunContinuationsAsynchronously), not on this one.
            foreach (Waiter waiter in group.Waiters)
            {
                if (failure is null)
                {
                    waiter.Succeed(waiter.Duplicates);
                }
                else
                {
                    waiter.Fail(failure);
                }
            }

            group.Waiters.Clear();
            lock (_lock)
            {
                _groupPool.Push(group);
            }
        }
    }

    /// <summary>The queued batches of the next transaction, oldest first, up to <see cref="PostgresSinkOptions.MaxTradesPerCommit"/>
    /// trades (at least one batch); null, and the writer counted out, when the queue is empty.</summary>
    private Group? TakeGroup()
    {
        lock (_lock)
        {
            if (_queue.Count == 0 || _disposed)
            {
                _writers--;
                return null;
            }

            Group group = _groupPool.Count > 0 ? _groupPool.Pop() : new Group();
            group.Start();
            int trades = 0;
            int taken = 0;
            while (taken < _queue.Count && (taken == 0 || trades + _queue[taken].Batch.Count <= _maxTradesPerCommit))
            {
                Waiter waiter = _queue[taken];
                trades += waiter.Batch.Count;
                waiter.State = WaiterState.Taken;
                waiter.Group = group;
                group.Waiters.Add(waiter);
                taken++;
            }

            _queue.RemoveRange(0, taken);
            _writing.Add(group);
            return group;
        }
    }

    /// <summary>Stores the group's trades: the direct COPY, or the staging path when it meets a stored id.</summary>
    private async Task WriteGroupAsync(Group group)
    {
        CancellationToken cancellationToken = group.Cancellation.Token;
        bool duplicates = group.Order();
        NpgsqlConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            try
            {
                if (!duplicates)
                {
                    try
                    {
                        // One statement, so its own transaction: committed (and flushed to the WAL) when COPY completes.
                        await CopyAsync(connection, _copySql, group, cancellationToken).ConfigureAwait(false);
                        Interlocked.Increment(ref _directCommits);
                        foreach (Waiter waiter in group.Waiters)
                        {
                            waiter.Duplicates = 0;
                        }

                        return;
                    }
                    catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
                    {
                        // A trade id of the group is already stored: the COPY was rolled back whole; the staging path
                        // below stores the others.
                    }
                }

                NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await using (transaction.ConfigureAwait(false))
                {
                    await CopyAsync(connection, _copyStagingSql, group, cancellationToken).ConfigureAwait(false);
                    var inserted = new HashSet<long>();
                    await using (NpgsqlCommand insert = new(_insertSql, connection, transaction))
                    {
                        NpgsqlDataReader reader = await insert.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                        await using (reader.ConfigureAwait(false))
                        {
                            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                            {
                                inserted.Add(reader.GetInt64(0));
                            }
                        }
                    }

                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                    CountDuplicates(group, inserted);
                }

                Interlocked.Increment(ref _fallbackCommits);
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

    /// <summary>Per batch of the group, the trades whose id is not among the rows just inserted (each inserted id
    /// claimed once, by the first trade that has it, in the order the batches were queued).</summary>
    private static void CountDuplicates(Group group, HashSet<long> inserted)
    {
        foreach (Waiter waiter in group.Waiters)
        {
            TradeBatch batch = waiter.Batch;
            int duplicates = 0;
            for (int i = 0; i < batch.Count; i++)
            {
                if (!inserted.Remove(unchecked((long)TradeMessages.TradeId(batch[i].Span))))
                {
                    duplicates++;
                }
            }

            waiter.Duplicates = duplicates;
        }
    }

    private static async Task CopyAsync(NpgsqlConnection connection, string copySql, Group group, CancellationToken cancellationToken)
    {
        NpgsqlBinaryImporter importer = await connection.BeginBinaryImportAsync(copySql, cancellationToken).ConfigureAwait(false);
        await using (importer.ConfigureAwait(false))
        {
            if (group.InBatchOrder)
            {
                for (int b = 0; b < group.Waiters.Count; b++)
                {
                    TradeBatch batch = group.BatchInOrder(b);
                    for (int i = 0; i < batch.Count; i++)
                    {
                        await WriteRowAsync(importer, batch[i], cancellationToken).ConfigureAwait(false);
                    }
                }
            }
            else
            {
                for (int i = 0; i < group.Rows; i++)
                {
                    await WriteRowAsync(importer, group.SortedMessage(i), cancellationToken).ConfigureAwait(false);
                }
            }

            await importer.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static async ValueTask WriteRowAsync(NpgsqlBinaryImporter importer, ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        Trade trade = Decode(message.Span);
        await importer.StartRowAsync(cancellationToken).ConfigureAwait(false);
        await importer.WriteAsync(unchecked((long)trade.TradeId), NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
        await importer.WriteAsync(trade.Symbol, NpgsqlDbType.InternalChar, cancellationToken).ConfigureAwait(false);
        await importer.WriteAsync(trade.Price, NpgsqlDbType.Double, cancellationToken).ConfigureAwait(false);
        await importer.WriteAsync((long)trade.Quantity, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
        await importer.WriteAsync(message, NpgsqlDbType.Bytea, cancellationToken).ConfigureAwait(false);
    }

    private void CancelWaiter(Waiter waiter, CancellationToken token)
    {
        CancellationTokenSource? transaction = null;
        bool dequeued = false;
        lock (_lock)
        {
            if (waiter.State == WaiterState.Queued)
            {
                _queue.Remove(waiter);
                waiter.State = WaiterState.Done;
                dequeued = true;
            }
            else if (waiter.State == WaiterState.Taken)
            {
                transaction = waiter.Group!.Cancellation;
            }
        }

        if (dequeued)
        {
            waiter.Fail(new OperationCanceledException(token));
        }
        else
        {
            transaction?.Cancel();
        }
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


    private enum WaiterState
    {
        Queued,
        Taken,
        Done,
    }

    /// <summary>One <see cref="PublishAsync"/> call waiting for its group's commit; pooled.</summary>
    private sealed class Waiter(PostgresTradeSink sink) : IValueTaskSource<int>
    {
        private ManualResetValueTaskSourceCore<int> _core = new() { RunContinuationsAsynchronously = true };

        public TradeBatch Batch;

        /// <summary>Trades of <see cref="Batch"/> the table held already, once its group is written.</summary>
        public int Duplicates;
        public WaiterState State;
        public Group? Group;
        public CancellationTokenRegistration Registration;

        public short Version => _core.Version;

        public void Cancel(CancellationToken token) => sink.CancelWaiter(this, token);

        public void Succeed(int duplicates) => _core.SetResult(duplicates);

        public void Fail(Exception exception) => _core.SetException(exception);

        public void Reset()
        {
            _core.Reset();
            Batch = default;
            Duplicates = 0;
            Group = null;
            Registration = default;
        }

        public int GetResult(short token) => _core.GetResult(token);

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
            => _core.OnCompleted(continuation, state, token, flags);
    }

    /// <summary>The batches one writer stores in one transaction, and the order of their rows; pooled.</summary>
    private sealed class Group
    {
        private long[] _keys = [];
        private long[] _refs = [];
        private int[] _order = [];
        private CancellationTokenSource _cancel = new();

        public List<Waiter> Waiters { get; } = [];

        public int Rows { get; private set; }

        /// <summary>The rows are the batches' rows, batch after batch in <see cref="BatchInOrder"/>'s order (the
        /// common case), rather than one by one in <see cref="SortedMessage"/>'s.</summary>
        public bool InBatchOrder { get; private set; }

        /// <summary>Cancels this group's transaction (not disposed: no timer, no wait handle; a new one per group, so
        /// that a late cancellation meant for an earlier group cancels nothing).</summary>
        public CancellationTokenSource Cancellation => _cancel;

        public void Start() => _cancel = new CancellationTokenSource();

        /// <summary>Puts the rows in signed <c>trade_id</c> order (the column's order); true when an id occurs twice.</summary>
        public bool Order()
        {
            List<Waiter> waiters = Waiters;
            int count = waiters.Count;
            int rows = 0;
            for (int b = 0; b < count; b++)
            {
                rows += waiters[b].Batch.Count;
            }

            Rows = rows;

            // The common case: each batch ascending (one client's reads), the batches' ranges apart (several clients,
            // or one client's consecutive reads). Then the rows are the batches' in the order of their first ids.
            if (_order.Length < count)
            {
                _order = new int[Math.Max(count, _order.Length * 2)];
            }

            bool ascending = true;
            for (int b = 0; b < count && ascending; b++)
            {
                ascending = IsAscending(waiters[b].Batch);
                _order[b] = b;
            }

            if (ascending)
            {
                // Insertion sort of the (few) batches by first id, then check that the ranges do not overlap.
                for (int i = 1; i < count; i++)
                {
                    int b = _order[i];
                    long first = FirstKey(waiters[b].Batch);
                    int j = i - 1;
                    while (j >= 0 && FirstKey(waiters[_order[j]].Batch) > first)
                    {
                        _order[j + 1] = _order[j];
                        j--;
                    }

                    _order[j + 1] = b;
                }

                for (int i = 1; i < count && ascending; i++)
                {
                    ascending = LastKey(waiters[_order[i - 1]].Batch) < FirstKey(waiters[_order[i]].Batch);
                }
            }

            InBatchOrder = ascending;
            if (ascending)
            {
                return false;
            }

            if (_keys.Length < rows)
            {
                if (_keys.Length > 0)
                {
                    ArrayPool<long>.Shared.Return(_keys);
                    ArrayPool<long>.Shared.Return(_refs);
                }

                _keys = ArrayPool<long>.Shared.Rent(rows);
                _refs = ArrayPool<long>.Shared.Rent(rows);
            }

            int row = 0;
            for (int b = 0; b < count; b++)
            {
                TradeBatch batch = waiters[b].Batch;
                ReadOnlySpan<byte> messages = batch.Messages.Span;
                for (int i = 0; i < batch.Count; i++)
                {
                    _keys[row] = Key(messages.Slice(i * batch.MessageSize, batch.MessageSize));
                    _refs[row] = ((long)b << 32) | (uint)i;
                    row++;
                }
            }

            Array.Sort(_keys, _refs, 0, rows);
            for (int i = 1; i < rows; i++)
            {
                if (_keys[i] == _keys[i - 1])
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>The <paramref name="index"/>th batch in <c>trade_id</c> order, when <see cref="InBatchOrder"/>.</summary>
        public TradeBatch BatchInOrder(int index) => Waiters[_order[index]].Batch;

        /// <summary>The <paramref name="index"/>th message in <c>trade_id</c> order, when not <see cref="InBatchOrder"/>.</summary>
        public ReadOnlyMemory<byte> SortedMessage(int index)
        {
            long reference = _refs[index];
            return Waiters[(int)(reference >> 32)].Batch[(int)reference];
        }

        private static long Key(ReadOnlySpan<byte> message) => unchecked((long)TradeMessages.TradeId(message));

        private static long FirstKey(TradeBatch batch) => Key(batch.Messages.Span[..batch.MessageSize]);

        private static long LastKey(TradeBatch batch) => Key(batch.Messages.Span[((batch.Count - 1) * batch.MessageSize)..]);

        private static bool IsAscending(TradeBatch batch)
        {
            ReadOnlySpan<byte> messages = batch.Messages.Span;
            long previous = Key(messages);
            for (int i = 1; i < batch.Count; i++)
            {
                long key = Key(messages[(i * batch.MessageSize)..]);
                if (key <= previous)
                {
                    return false;
                }

                previous = key;
            }

            return true;
        }
    }
}
