using System.Buffers.Binary;
using Npgsql;
using WsGateway.Sbe;
using WsGateway.Sinks.Postgres;

using WsGateway.Sinks.Tests.Infrastructure;

namespace WsGateway.Sinks.Tests.Postgres;

/// <summary><see cref="PostgresTradeSink"/> against a real PostgreSQL 15 server on 127.0.0.1.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresTradeSinkTests(PostgresServerFixture server)
{
    private static int s_tables;

    [Fact]
    public async Task Stores_a_batch_with_every_field_decoded_and_the_sbe_bytes_as_they_arrived()
    {
        string table = NewTable();
        Trade[] trades =
        [
            new(1, (byte)'B', 100.25, 1000),
            new(42, (byte)'Z', -0.5, uint.MaxValue),
            new(long.MaxValue, (byte)'a', double.MaxValue, 0),
            new(ulong.MaxValue - 1, 0x7f, 1e-300, 7), // above 2^63: stored as the same 64 bits in a bigint
        ];
        TradeBatch batch = TestBatches.Of(trades);
        await using var sink = new PostgresTradeSink(new PostgresSinkOptions { ConnectionString = server.ConnectionString, Table = table });

        await sink.PublishAsync(batch, CancellationToken.None);

        await using NpgsqlConnection connection = await OpenAsync();
        await using var select = new NpgsqlCommand(
            $"SELECT trade_id, trade_id::numeric % 18446744073709551616 + CASE WHEN trade_id < 0 THEN 18446744073709551616 ELSE 0 END, symbol, price, quantity, sbe FROM {table} ORDER BY quantity",
            connection);
        await using NpgsqlDataReader reader = await select.ExecuteReaderAsync();
        var rows = new List<(long Id, decimal Unsigned, char Symbol, double Price, long Quantity, byte[] Sbe)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetInt64(0), reader.GetDecimal(1), reader.GetChar(2), reader.GetDouble(3), reader.GetInt64(4), (byte[])reader[5]));
        }

        Assert.Equal(4, rows.Count);
        foreach (Trade trade in trades)
        {
            var row = Assert.Single(rows, r => r.Unsigned == trade.TradeId);
            Assert.Equal(unchecked((long)trade.TradeId), row.Id);
            Assert.Equal((char)trade.Symbol, row.Symbol);
            Assert.Equal(trade.Price, row.Price);
            Assert.Equal(trade.Quantity, (ulong)row.Quantity);
            // The raw column is the message as encoded: header (blockLength 21, template 1, schema 1, version 0) then the fields.
            Assert.Equal(29, row.Sbe.Length);
            Assert.Equal([21, 0, 1, 0, 1, 0, 0, 0], row.Sbe[..8]);
            Assert.Equal(trade.TradeId, BinaryPrimitives.ReadUInt64LittleEndian(row.Sbe.AsSpan(8)));
            Assert.Equal(trade.Symbol, row.Sbe[16]);
            Assert.Equal(trade.Price, BinaryPrimitives.ReadDoubleLittleEndian(row.Sbe.AsSpan(17)));
            Assert.Equal(trade.Quantity, BinaryPrimitives.ReadUInt32LittleEndian(row.Sbe.AsSpan(25)));
        }
    }

    [Fact]
    public async Task Stores_messages_of_a_newer_schema_version_byte_for_byte()
    {
        // A version-1 producer appended 4 bytes to the block (blockLength 25): the known fields are decoded, and the
        // stored bytes are the 33 bytes that arrived, not a re-encoding.
        string table = NewTable();
        byte[] messages = NewerVersionTrades.Encode(2, 700);

        await using var sink = new PostgresTradeSink(new PostgresSinkOptions { ConnectionString = server.ConnectionString, Table = table });
        await sink.PublishAsync(new TradeBatch(messages, 2, 33), CancellationToken.None);

        await using NpgsqlConnection connection = await OpenAsync();
        await using var select = new NpgsqlCommand($"SELECT trade_id, quantity, sbe FROM {table} ORDER BY trade_id", connection);
        await using NpgsqlDataReader reader = await select.ExecuteReaderAsync();
        for (int i = 0; i < 2; i++)
        {
            Assert.True(await reader.ReadAsync());
            Assert.Equal(700 + i, reader.GetInt64(0));
            Assert.Equal(3, reader.GetInt64(1));
            Assert.Equal(messages.AsSpan(i * 33, 33).ToArray(), (byte[])reader[2]);
        }

        Assert.False(await reader.ReadAsync());
    }

    [Fact]
    public async Task The_same_batch_twice_and_an_overlapping_batch_store_each_trade_once()
    {
        string table = NewTable();
        await using var sink = new PostgresTradeSink(new PostgresSinkOptions { ConnectionString = server.ConnectionString, Table = table });
        TradeBatch first = TestBatches.Of(TestBatches.Range(1, 100));

        await sink.PublishAsync(first, CancellationToken.None);
        await sink.PublishAsync(first, CancellationToken.None); // the retry of a batch whose acknowledgement was lost
        await sink.PublishAsync(TestBatches.Of(TestBatches.Range(51, 100)), CancellationToken.None);

        (long count, long distinct, long min, long max) = await CountAsync(table);
        Assert.Equal((150, 150, 1, 150), (count, distinct, min, max));
    }

    [Fact]
    public async Task Concurrent_overlapping_batches_store_each_trade_once()
    {
        // The pipeline publishes several batches at once and retries failed ones: 8 publishers, each range overlapping
        // its neighbours by half, 5 rounds each.
        string table = NewTable();
        await using var sink = new PostgresTradeSink(new PostgresSinkOptions { ConnectionString = server.ConnectionString, Table = table });
        Task[] publishers = [.. Enumerable.Range(0, 8).Select(p => Task.Run(async () =>
        {
            TradeBatch batch = TestBatches.Of(TestBatches.Range(1 + ((ulong)p * 250), 500));
            for (int round = 0; round < 5; round++)
            {
                await sink.PublishAsync(batch, CancellationToken.None);
            }
        }))];
        await Task.WhenAll(publishers).WaitAsync(TimeSpan.FromSeconds(60));

        (long count, long distinct, long min, long max) = await CountAsync(table);
        Assert.Equal((2250, 2250, 1, 2250), (count, distinct, min, max));
    }

    [Fact]
    public async Task A_missing_table_is_a_clear_error_when_table_creation_is_off()
    {
        string table = NewTable();
        await using var sink = new PostgresTradeSink(new PostgresSinkOptions { ConnectionString = server.ConnectionString, Table = table, CreateTables = false });

        PostgresException ex = await Assert.ThrowsAsync<PostgresException>(() => sink.PublishAsync(TestBatches.Of(TestBatches.Range(1, 3)), CancellationToken.None).AsTask());

        Assert.Equal(PostgresErrorCodes.UndefinedTable, ex.SqlState);
        Assert.Contains(table, ex.MessageText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_server_is_a_transient_error_naming_the_address()
    {
        int port = server.Port + 1;
        while (IsListening(port))
        {
            port++;
        }

        await using var sink = new PostgresTradeSink(new PostgresSinkOptions { ConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Timeout=2" });

        NpgsqlException ex = await Assert.ThrowsAsync<NpgsqlException>(() => sink.InitializeAsync().AsTask());
        Assert.True(ex.IsTransient);
        Assert.Contains($"127.0.0.1:{port}", ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<NpgsqlException>(() => sink.PublishAsync(TestBatches.Of(TestBatches.Range(1, 1)), CancellationToken.None).AsTask());
    }

    private static bool IsListening(int port)
    {
        try
        {
            using var client = new System.Net.Sockets.TcpClient();
            client.Connect("127.0.0.1", port);
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    private static string NewTable() => $"trades_{Environment.ProcessId}_{Interlocked.Increment(ref s_tables)}";

    private async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(server.ConnectionString + ";Pooling=false");
        await connection.OpenAsync();
        return connection;
    }

    private async Task<(long Count, long Distinct, long Min, long Max)> CountAsync(string table)
    {
        await using NpgsqlConnection connection = await OpenAsync();
        await using var count = new NpgsqlCommand($"SELECT count(*), count(DISTINCT trade_id), min(trade_id), max(trade_id) FROM {table}", connection);
        await using NpgsqlDataReader reader = await count.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
    }
}
