namespace WsGateway.Sinks.Tests.Postgres;

/// <summary>The shared server (tests/WsGateway.TestServers/PostgresServer.cs) as an xUnit fixture.</summary>
public sealed class PostgresServerFixture : PostgresServer, IAsyncLifetime;

/// <summary>One PostgreSQL server for the sink tests that share it.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServerFixture>
{
    public const string Name = "PostgreSQL server";
}
