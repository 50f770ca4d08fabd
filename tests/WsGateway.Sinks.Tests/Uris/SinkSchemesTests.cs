using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using WsGateway.Sinks.Tests.Postgres;

namespace WsGateway.Sinks.Tests.Uris;

/// <summary><c>wsgw serve --sink kafka://...</c> and <c>postgres://...</c>: the URI reaches a working sink (against
/// librdkafka's mock cluster and a real PostgreSQL), the pipeline's keys go to the pipeline and the rest to the sink.</summary>
[Collection(PostgresCollection.Name)]
public sealed class SinkSchemesTests(PostgresServerFixture server)
{
    [Fact]
    public async Task MockCluster_a_kafka_sink_uri_produces_to_its_topic_with_the_librdkafka_properties_it_names()
    {
        using var cluster = new KafkaMockCluster();
        cluster.CreateTopic("cli-trades", partitions: 1, replicationFactor: 1);
        SinkPlan plan = SinkFactory.Plan($"kafka://{cluster.BootstrapServers}/cli-trades?linger.ms=1&max-in-flight=5000&concurrency=2");
        Assert.Equal(5000, plan.Pipeline.MaxInFlightTrades);
        Assert.Equal(2, plan.Pipeline.MaxConcurrentBatches);

        await using ITradeSink sink = plan.CreateSink(NullLoggerFactory.Instance);
        await sink.PublishAsync(TestBatches.Of(TestBatches.Range(1, 10)), CancellationToken.None);
        Assert.Equal(10, cluster.ConsumeAll("cli-trades", partitions: 1, expected: 10, TimeSpan.FromSeconds(20)).Count);
    }

    [Fact]
    public async Task A_postgres_sink_uri_stores_into_the_table_it_names()
    {
        string table = "cli_trades_" + Environment.ProcessId;
        SinkPlan plan = SinkFactory.Plan($"postgres://postgres@127.0.0.1:{server.Port}/postgres?table={table}&max-in-flight=7000");
        Assert.Equal(7000, plan.Pipeline.MaxInFlightTrades);

        await using (ITradeSink sink = plan.CreateSink(NullLoggerFactory.Instance))
        {
            await sink.PublishAsync(TestBatches.Of(TestBatches.Range(100, 5)), CancellationToken.None);
        }

        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand($"SELECT count(*) FROM {table}", connection);
        Assert.Equal(5L, await count.ExecuteScalarAsync());
    }
}
