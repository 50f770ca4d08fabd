using Npgsql;
using WsGateway.Sinks.Postgres;

namespace WsGateway.Sinks.Tests.Postgres;

/// <summary>The database crashes and comes back in the middle of a stream of batches: with retries, nothing lost and
/// nothing doubled. Its own server, so that the restart does not disturb the other tests.</summary>
public sealed class PostgresRestartTests : IAsyncLifetime
{
    private readonly PostgresServer _server = new();

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task An_immediate_restart_of_the_database_in_the_middle_of_a_stream_loses_and_doubles_nothing()
    {
        const int Batches = 200;
        const int BatchSize = 50;
        await using var sink = new PostgresTradeSink(new PostgresSinkOptions { ConnectionString = _server.ConnectionString + ";Timeout=2", Table = "trades" });
        DateTime deadline = DateTime.UtcNow.AddSeconds(60);
        int published = 0;
        int failures = 0;

        // Four publishers at once, as the pipeline keeps several batches in flight, each retrying its failed batch.
        var batches = new System.Collections.Concurrent.ConcurrentQueue<int>(Enumerable.Range(0, Batches));
        Task[] publishers = [.. Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (batches.TryDequeue(out int b))
            {
                TradeBatch batch = TestBatches.Of(TestBatches.Range(1 + ((ulong)b * BatchSize), BatchSize));
                Interlocked.Add(ref failures, await TestBatches.PublishWithRetriesAsync(() => sink.PublishAsync(batch, CancellationToken.None).AsTask(), deadline));
                Interlocked.Increment(ref published);
                await Task.Delay(5); // a stream, not a burst: the restart lands in the middle
            }
        }))];

        while (Volatile.Read(ref published) < Batches / 4 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        int publishedBeforeCrash = Volatile.Read(ref published);
        await _server.StopImmediateAsync();
        await Task.Delay(300); // publishers meet a dead server for a while
        await _server.StartAsync();
        await Task.WhenAll(publishers).WaitAsync(TimeSpan.FromSeconds(90));

        Assert.InRange(publishedBeforeCrash, Batches / 4, Batches - 20); // the crash was in the middle of the stream...
        Assert.True(failures > 0, "no publish failed: the restart did not hit the stream");  // ...and the sink saw it

        await using var connection = new NpgsqlConnection(_server.ConnectionString + ";Pooling=false");
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*), count(DISTINCT trade_id), min(trade_id), max(trade_id) FROM trades", connection);
        await using (NpgsqlDataReader reader = await count.ExecuteReaderAsync())
        {
            Assert.True(await reader.ReadAsync());
            Assert.Equal((Batches * BatchSize, Batches * BatchSize, 1L, Batches * BatchSize), (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3)));
        }

        // Every id of the stream, each once: nothing missing from 1..10000 (and by the counts above, nothing else).
        await using var missing = new NpgsqlCommand(
            $"SELECT count(*) FROM generate_series(1, {Batches * BatchSize}) AS s(id) WHERE NOT EXISTS (SELECT 1 FROM trades t WHERE t.trade_id = s.id)", connection);
        Assert.Equal(0L, (long)(await missing.ExecuteScalarAsync())!);
    }
}
