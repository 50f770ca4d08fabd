using Npgsql;
using WsGateway.Sinks.Tests.Postgres;
using Xunit.Abstractions;

namespace WsGateway.Sinks.Tests.Deployment;

/// <summary>The deployment of <see cref="DeploymentTests"/> over one PostgreSQL instead of JetStream: three gateways
/// behind HAProxy into one table, one gateway SIGKILLed and another SIGTERMed mid-stream; every trade sent is in the
/// table exactly once (the table's unique trade id makes a resend a no-op).</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresDeploymentTests(PostgresServerFixture server, ITestOutputHelper output)
{
    [Fact]
    public async Task Through_haproxy_one_gateway_killed_then_another_stopped_mid_stream_every_trade_is_in_the_table_once()
    {
        string table = "deployment_" + Guid.NewGuid().ToString("N")[..10];
        ClientRun[] runs = await DeploymentTests.KillAndStopAsync($"postgres://postgres@127.0.0.1:{server.Port}/postgres?table={table}&Timeout=2", output);

        var expected = new HashSet<long>();
        foreach (ClientRun run in runs)
        {
            for (long i = 0; i < run.Sent; i++)
            {
                expected.Add((long)run.FirstId + i);
            }
        }

        long rows = 0;
        await using (var connection = new NpgsqlConnection(server.ConnectionString + ";Pooling=false"))
        {
            await connection.OpenAsync();
            await using var select = new NpgsqlCommand($"SELECT trade_id, quantity FROM {table}", connection);
            await using NpgsqlDataReader reader = await select.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                rows++;
                long id = reader.GetInt64(0);
                Assert.True(expected.Remove(id), $"trade {id} is in the table twice, or was never sent");
                Assert.Equal(id / (long)ClientRun.IdBase, reader.GetInt64(1)); // each trade with its own client's fields
            }
        }

        Assert.True(expected.Count == 0, $"{expected.Count} trades sent and acknowledged are not in the table");
        output.WriteLine($"{rows} rows: every trade once");
    }
}
