using System.Buffers.Binary;
using Npgsql;
using WsGateway.Client;
using WsGateway.Examples.Tests.Infrastructure;
using WsGateway.Sbe;
using WsGateway.Sinks;
using WsGateway.Sinks.Kafka;
using WsGateway.Sinks.Postgres;

namespace WsGateway.Examples.Tests;

/// <summary><see cref="SinkPipeline"/> behind a live gateway, into a real PostgreSQL server and librdkafka's mock
/// Kafka cluster.</summary>
public sealed class SinkPipelineExampleTests
{
    [Fact]
    public async Task Postgres_every_trade_is_stored_once_although_the_database_was_down_for_part_of_the_stream()
    {
        var database = new PostgresServer();
        await database.InitializeAsync();
        try
        {
            await StoreThroughAnOutageAsync(database);
        }
        finally
        {
            await database.DisposeAsync();
        }
    }

    private static async Task StoreThroughAnOutageAsync(PostgresServer database)
    {
        var pipeline = new SinkPipeline(new PostgresTradeSink(new PostgresSinkOptions { ConnectionString = database.ConnectionString + ";Timeout=2" }), new SinkPipelineOptions { MaxInFlightTrades = 500, DrainTimeout = TimeSpan.FromSeconds(60) });
        Trade[] trades = [.. Enumerable.Range(1, 5000).Select(i => new Trade((ulong)i, (byte)('A' + (i % 26)), 100 + (i * 0.01), (uint)i))];
        await using (WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => pipeline.CreateHandler()).Start())
        {
            await using TradeClient client = await TradeClient.ConnectAsync(server.Url);
            await client.SendTradesAsync(trades.AsSpan(0, 1000));
            await Eventually.TrueAsync(() => pipeline.GetStatus().TradesStored == 1000, "the first 1000 trades stored", TimeSpan.FromSeconds(30));

            await database.StopImmediateAsync();
            for (int i = 1000; i < 4000; i += 100)
            {
                // 3,000 trades against a bound of 500 in flight: the connection pauses.
                await client.SendTradesAsync(trades.AsSpan(i, 100));
                await Task.Delay(10);
            }

            for (int i = 4000; i < 5000; i++)
            {
                await client.SendTradeAsync(trades[i]);
            }

            await Eventually.TrueAsync(() => pipeline.GetStatus() is { Retries: > 0, PausedConnections: > 0 }, $"publishing failed and the connection was paused", TimeSpan.FromSeconds(30));
            await database.StartAsync();
            await client.CloseAsync();
            await server.StopAsync();
        }

        await pipeline.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(90));

        Assert.Equal(5000, pipeline.GetStatus().TradesStored);
        await using var connection = new NpgsqlConnection(database.ConnectionString + ";Pooling=false");
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*), count(DISTINCT trade_id), min(trade_id), max(trade_id), sum(quantity) FROM trades", connection);
        await using NpgsqlDataReader reader = await count.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal((5000L, 5000L, 1L, 5000L, 5000L * 5001 / 2), (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), (long)reader.GetDecimal(4)));
    }

    [Fact]
    public async Task Kafka_mock_cluster_every_trade_arrives_in_the_topic_keyed_by_its_id_with_its_sbe_bytes()
    {
        using var cluster = new KafkaMockCluster();
        cluster.CreateTopic("trades", 2, 3);
        var pipeline = new SinkPipeline(new KafkaTradeSink(new KafkaSinkOptions { BootstrapServers = cluster.BootstrapServers, Topic = "trades" }));
        Trade[] trades = [.. Enumerable.Range(1, 1000).Select(i => new Trade((ulong)i * 7, (byte)'K', i, (uint)i))];
        await using (WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => pipeline.CreateHandler()).Start())
        {
            await using TradeClient client = await TradeClient.ConnectAsync(server.Url);
            for (int i = 0; i < 1000; i += 50)
            {
                await client.SendTradesAsync(trades.AsSpan(i, 50));
            }

            await client.CloseAsync();
            await server.StopAsync();
        }

        await pipeline.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(90));

        var consumed = cluster.ConsumeAll("trades", 2, 1000, TimeSpan.FromSeconds(30));
        Assert.Equal(1000, consumed.Count);
        Assert.Equal(
            trades.ToDictionary(t => t.TradeId, t => Convert.ToHexString(t.Encode())),
            consumed.ToDictionary(m => BinaryPrimitives.ReadUInt64BigEndian(m.Message.Key), m => Convert.ToHexString(m.Message.Value)));
    }
}
