using Npgsql;
using WsGateway.Sinks.Postgres;

namespace WsGateway.Sinks.Tests.Postgres;

/// <summary>The options, and <see cref="PostgresSinkOptions.FromParts"/>; no server needed. What a whole
/// <c>postgres://</c> <c>--sink</c> URI sets is in Uris/SinkUriTests.</summary>
public sealed class PostgresSinkOptionsTests
{
    [Fact]
    public void The_parts_of_a_uri_give_the_options_and_several_hosts_fail_over()
    {
        PostgresSinkOptions options = PostgresSinkOptions.FromParts(
            "wsgw:p%40ss@db-1:5432,db-2", "trading", [new("table", "trades_x"), new("Target Session Attributes", "primary")]);

        var builder = new NpgsqlConnectionStringBuilder(options.ConnectionString);
        Assert.Equal("db-1:5432,db-2:5432", builder.Host);
        Assert.Equal("wsgw", builder.Username);
        Assert.Equal("p@ss", builder.Password);
        Assert.Equal("trading", builder.Database);
        Assert.Equal("trades_x", options.Table);
        Assert.Equal("primary", builder["Target Session Attributes"]?.ToString(), ignoreCase: true);

        ArgumentException ex = Assert.Throws<ArgumentException>(() => PostgresSinkOptions.FromParts("u@h", "db", [new("table", "1st")]));
        Assert.Equal("postgres sink: table '1st' is not a plain table name; expected name or schema.name of letters, digits and underscores, not starting with a digit.", ex.Message);
    }

    [Theory]
    [InlineData("", "no connection string")]
    [InlineData("Hots=127.0.0.1;Password=hunter2", "hots")]
    [InlineData("Host=127.0.0.1;Port=notaport;Password=hunter2", "bad connection string")]
    [InlineData("Username=postgres;Password=hunter2", "has no Host")]
    public void A_bad_connection_string_is_a_clear_error_without_the_password(string connectionString, string expected)
    {
        ArgumentException ex = Assert.Throws<ArgumentException>(() => new PostgresTradeSink(new PostgresSinkOptions { ConnectionString = connectionString }));
        Assert.Contains(expected, ex.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("expected 'Host=", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", ex.Message, StringComparison.Ordinal);
    }
}
