namespace WsGateway.Testing
{
    /// <summary>The shared server (tests/Shared/PostgresServer.cs) as an xUnit fixture.</summary>
    public sealed partial class PostgresServer : IAsyncLifetime;
}

namespace WsGateway.Sinks.Tests.Postgres
{
    /// <summary>One PostgreSQL server for the sink tests that share it.</summary>
    [CollectionDefinition(Name)]
    public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
    {
        public const string Name = "PostgreSQL server";
    }
}
