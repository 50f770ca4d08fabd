using System.Diagnostics;
using Npgsql;
using WsGateway.Sbe;
using WsGateway.Sinks.Postgres;

namespace WsGateway.Sinks.Tests.Postgres;

/// <summary>
/// How <see cref="PostgresTradeSink"/> writes: batches published together share one transaction (group commit), its
/// rows go straight into the table with <c>COPY</c> in <c>trade_id</c> order, and a <c>COPY</c> that meets a stored
/// id is replaced by the staging path. Each test names what a broken sink would do.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresGroupCommitTests(PostgresServerFixture server)
{
    private static int s_tables;

    [Fact]
    public async Task A_batch_overlapping_stored_ids_stores_its_new_ids_and_keeps_the_first_row_of_the_others()
    {
        // A COPY straight into the table fails on the first stored id (23505). A sink that gave up there would throw
        // for ever (the retry meets the same ids); one that dropped the batch would lose 101..150.
        string table = NewTable();
        await using var sink = NewSink(table);

        await sink.PublishAsync(TestBatches.Of(Trades(1, 100, quantity: 7)), CancellationToken.None);
        Assert.Equal((1, 0), (sink.DirectCommits, sink.FallbackCommits));
        await sink.PublishAsync(TestBatches.Of(Trades(51, 100, quantity: 9)), CancellationToken.None);
        Assert.Equal((1, 1), (sink.DirectCommits, sink.FallbackCommits));
        await sink.PublishAsync(TestBatches.Of(Trades(151, 10, quantity: 9)), CancellationToken.None); // the fast path again
        Assert.Equal((2, 1), (sink.DirectCommits, sink.FallbackCommits));

        Dictionary<long, long> rows = await QuantitiesAsync(table);
        Assert.Equal(160, rows.Count);
        for (long id = 1; id <= 160; id++)
        {
            Assert.Equal(id <= 100 ? 7 : 9, rows[id]); // the first stored row of an id stays
        }
    }

    [Fact]
    public async Task A_retry_of_a_stored_batch_in_another_order_stores_nothing_twice()
    {
        // The client resends after a reconnect: the same trades, maybe split and ordered otherwise.
        string table = NewTable();
        await using var sink = NewSink(table);
        Trade[] trades = Trades(1, 300, quantity: 3);
        await sink.PublishAsync(TestBatches.Of(trades), CancellationToken.None);

        Trade[] reversed = [.. trades.AsEnumerable().Reverse()];
        await sink.PublishAsync(TestBatches.Of(reversed), CancellationToken.None);
        await sink.PublishAsync(TestBatches.Of(reversed[100..200]), CancellationToken.None);

        Assert.Equal(300, (await QuantitiesAsync(table)).Count);
        Assert.Equal((1, 2), (sink.DirectCommits, sink.FallbackCommits));
    }

    [Fact]
    public async Task Batches_published_while_a_transaction_is_written_share_the_next_one()
    {
        // One writer: the first batch starts a transaction, the 39 published meanwhile wait for the writer and go
        // together. A sink with a transaction per batch makes 40 commits.
        string table = NewTable();
        await using var sink = NewSink(table, writers: 1);
        await sink.InitializeAsync();

        Task[] publishes = new Task[40];
        for (int b = 0; b < publishes.Length; b++)
        {
            publishes[b] = sink.PublishAsync(TestBatches.Of(Trades(1 + ((ulong)b * 1000), 1000, quantity: 1)), CancellationToken.None).AsTask();
        }

        await Task.WhenAll(publishes).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(40_000, (await QuantitiesAsync(table)).Count);
        Assert.Equal(0, sink.FallbackCommits);
        Assert.InRange(sink.DirectCommits, 1, 10);
    }

    [Fact]
    public async Task The_same_ids_in_two_batches_of_one_group_are_stored_once()
    {
        // Two connections of one client (an old one still in flight, the new one resending) hand over the same
        // trades at once: one transaction holds the id twice, which the staging path stores once.
        string table = NewTable();
        await using var sink = NewSink(table, writers: 1);
        await sink.InitializeAsync();
        Task first = sink.PublishAsync(TestBatches.Of(Trades(1_000_001, 100_000, quantity: 1)), CancellationToken.None).AsTask();
        Task[] twins =
        [
            sink.PublishAsync(TestBatches.Of(Trades(1, 500, quantity: 2)), CancellationToken.None).AsTask(),
            sink.PublishAsync(TestBatches.Of(Trades(251, 500, quantity: 2)), CancellationToken.None).AsTask(),
        ];

        await Task.WhenAll([first, .. twins]).WaitAsync(TimeSpan.FromSeconds(60));
        Dictionary<long, long> rows = await QuantitiesAsync(table);
        Assert.Equal(100_750, rows.Count);
        Assert.True(sink.FallbackCommits >= 1, "the group with an id twice did not go the staging way");
    }

    [Fact]
    public async Task Several_sinks_writing_the_same_ids_in_any_order_neither_deadlock_nor_fail()
    {
        // Two gateways (sinks) with two writers each publish the same 20,000 ids at once, every batch in an order of
        // its own (ascending, descending, shuffled), half of the ids on both sides of 2^63 (negative as bigint). Were
        // the rows copied in the order they came, or in unsigned order while INSERT ... ORDER BY trade_id goes in
        // signed order, two transactions would take each other's ids in opposite orders: PostgreSQL finds the
        // deadlock after deadlock_timeout (1 s) and aborts one (40P01), and its publish fails. Every publish here must
        // succeed first time, and each id be stored once.
        const ulong Edge = 1UL << 63;
        Trade[] all = [.. Trades(1, 10_000, quantity: 1), .. Trades(Edge - 5_000, 10_000, quantity: 1)];
        var random = new Random(18);
        for (int round = 0; round < 3; round++)
        {
            string table = NewTable();
            PostgresTradeSink[] sinks = [NewSink(table, writers: 2), NewSink(table, writers: 2)];
            var batches = new List<(PostgresTradeSink Sink, TradeBatch Batch)>();
            for (int b = 0; b < 12; b++)
            {
                Trade[] trades = [.. all];
                switch (b % 4)
                {
                    case 1:
                        Array.Reverse(trades);
                        break;
                    case 2:
                    case 3:
                        random.Shuffle(trades);
                        break;
                }

                // Every other batch holds one trade twice, so that it goes the staging way (INSERT ... ORDER BY
                // trade_id) at once, next to the others' COPYs: both must take the ids in the same (signed) order.
                batches.Add((sinks[(b / 2) % sinks.Length], TestBatches.Of(b % 2 == 1 ? [.. trades, trades[0]] : trades)));
            }

            try
            {
                foreach (PostgresTradeSink sink in sinks)
                {
                    await sink.InitializeAsync();
                }

                await Task.WhenAll(batches.Select(b => Task.Run(() => b.Sink.PublishAsync(b.Batch, CancellationToken.None).AsTask()))).WaitAsync(TimeSpan.FromSeconds(60));
            }
            finally
            {
                foreach (PostgresTradeSink sink in sinks)
                {
                    await sink.DisposeAsync();
                }
            }

            Dictionary<long, long> rows = await QuantitiesAsync(table);
            Assert.Equal(20_000, rows.Count);
            Assert.Contains(unchecked((long)Edge), rows.Keys);
            Assert.Contains(unchecked((long)(Edge - 1)), rows.Keys);
        }
    }

    [Fact]
    public async Task A_batch_cut_off_in_the_middle_of_its_copy_is_rolled_back_whole_and_its_retry_stores_each_trade_once()
    {
        // The server ends the writer's session (pg_terminate_backend) while its COPY of 300,000 rows is under way: the
        // publish fails, nothing of it is committed, and the pipeline's retry stores every trade once.
        string table = NewTable();
        await using var sink = NewSink(table);
        await sink.InitializeAsync();
        TradeBatch batch = TestBatches.Of(Trades(1, 300_000, quantity: 5));

        Task publish = sink.PublishAsync(batch, CancellationToken.None).AsTask();
        int terminated = await TerminateCopyAsync(table, publish);
        Assert.True(terminated > 0, "no COPY was seen under way: the test proved nothing");
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => publish);
        Assert.Empty(await QuantitiesAsync(table));

        int failures = await TestBatches.PublishWithRetriesAsync(() => sink.PublishAsync(batch, CancellationToken.None).AsTask(), DateTime.UtcNow.AddSeconds(60));
        Assert.Equal(300_000, (await QuantitiesAsync(table)).Count);
        Assert.InRange(failures, 0, 1); // the pool may hand out the terminated connection once
    }

    [Fact]
    public async Task A_cancelled_copy_is_rolled_back_whole_and_a_queued_batch_cancelled_leaves_at_once()
    {
        string table = NewTable();
        await using var sink = NewSink(table, writers: 1);
        await sink.InitializeAsync();
        using var cancelBig = new CancellationTokenSource();
        using var cancelQueued = new CancellationTokenSource();

        // The big batch holds the only writer; the small one waits in the queue until it is cancelled.
        Task big = sink.PublishAsync(TestBatches.Of(Trades(1, 1_000_000, quantity: 1)), cancelBig.Token).AsTask();
        await WaitForCopyAsync(table);
        Task queued = sink.PublishAsync(TestBatches.Of(Trades(1_000_001, 10, quantity: 1)), cancelQueued.Token).AsTask();
        await cancelQueued.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.False(big.IsCompleted, "the big batch was done before the queued one was cancelled: the test proved nothing");

        await cancelBig.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => big.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Empty(await QuantitiesAsync(table));

        // The sink goes on.
        await sink.PublishAsync(TestBatches.Of(Trades(1, 1000, quantity: 1)), CancellationToken.None);
        Assert.Equal(1000, (await QuantitiesAsync(table)).Count);
    }

    private PostgresTradeSink NewSink(string table, int writers = 2)
        => new(new PostgresSinkOptions { ConnectionString = server.ConnectionString, Table = table, Writers = writers });

    private static string NewTable() => $"trades_g_{Environment.ProcessId}_{Interlocked.Increment(ref s_tables)}";

    private static Trade[] Trades(ulong first, int count, uint quantity)
    {
        var trades = new Trade[count];
        for (int i = 0; i < count; i++)
        {
            trades[i] = new Trade(first + (ulong)i, (byte)'T', 1.5, quantity);
        }

        return trades;
    }

    private async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(server.ConnectionString + ";Pooling=false");
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>trade_id → quantity of every row; fails if an id is there twice.</summary>
    private async Task<Dictionary<long, long>> QuantitiesAsync(string table)
    {
        await using NpgsqlConnection connection = await OpenAsync();
        await using var select = new NpgsqlCommand($"SELECT trade_id, quantity FROM {table}", connection);
        await using NpgsqlDataReader reader = await select.ExecuteReaderAsync();
        var rows = new Dictionary<long, long>();
        while (await reader.ReadAsync())
        {
            Assert.True(rows.TryAdd(reader.GetInt64(0), reader.GetInt64(1)), $"trade {reader.GetInt64(0)} is stored twice");
        }

        return rows;
    }

    private async Task WaitForCopyAsync(string table)
    {
        await using NpgsqlConnection connection = await OpenAsync();
        var clock = Stopwatch.StartNew();
        while (await CopiesAsync(connection, table, terminate: false) == 0)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "no COPY into the table was seen");
            await Task.Delay(1);
        }
    }

    /// <summary>Ends the session of the COPY into <paramref name="table"/> once it is under way; how many were ended.</summary>
    private async Task<int> TerminateCopyAsync(string table, Task publish)
    {
        await using NpgsqlConnection connection = await OpenAsync();
        while (!publish.IsCompleted)
        {
            int terminated = await CopiesAsync(connection, table, terminate: true);
            if (terminated > 0)
            {
                return terminated;
            }

            await Task.Delay(1);
        }

        return 0;
    }

    private static async Task<int> CopiesAsync(NpgsqlConnection connection, string table, bool terminate)
    {
        await using var find = new NpgsqlCommand(
            $"SELECT count({(terminate ? "pg_terminate_backend(pid)" : "*")}) FROM pg_stat_activity WHERE query LIKE 'COPY {table} %' AND state = 'active' AND pid <> pg_backend_pid()",
            connection);
        return (int)(long)(await find.ExecuteScalarAsync())!;
    }
}
