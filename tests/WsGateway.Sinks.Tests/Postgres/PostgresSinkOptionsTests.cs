using Npgsql;
using WsGateway.Sinks.Postgres;

namespace WsGateway.Sinks.Tests.Postgres;

/// <summary>The options and their URI form (<c>wsgw serve --sink postgres://...</c>); no server needed.</summary>
public sealed class PostgresSinkOptionsTests
{
    [Fact]
    public void A_uri_gives_host_port_user_password_database_table_and_npgsql_keywords()
    {
        PostgresSinkOptions options = PostgresSinkOptions.FromUri(
            new Uri("postgres://wsgw:p%40ss%3Aword@db.example:6543/trading?table=market.trades&create_tables=false&Maximum%20Pool%20Size=7"));

        var builder = new NpgsqlConnectionStringBuilder(options.ConnectionString);
        Assert.Equal("db.example:6543", builder.Host);
        Assert.Equal("wsgw", builder.Username);
        Assert.Equal("p@ss:word", builder.Password);
        Assert.Equal("trading", builder.Database);
        Assert.Equal(7, builder.MaxPoolSize);
        Assert.Equal("market.trades", options.Table);
        Assert.False(options.CreateTables);
    }

    [Fact]
    public void A_uri_sets_the_writers_and_the_trades_per_commit()
    {
        PostgresSinkOptions options = PostgresSinkOptions.FromUri(new Uri("postgres://wsgw@127.0.0.1/trading?writers=3&max_trades_per_commit=5000"));

        Assert.Equal(3, options.Writers);
        Assert.Equal(5000, options.MaxTradesPerCommit);
    }

    [Fact]
    public void A_uri_without_port_table_or_database_takes_the_defaults()
    {
        PostgresSinkOptions options = PostgresSinkOptions.FromUri(new Uri("postgresql://wsgw@127.0.0.1"));

        var builder = new NpgsqlConnectionStringBuilder(options.ConnectionString);
        Assert.Equal("127.0.0.1:5432", builder.Host);
        Assert.Null(builder.Database);
        Assert.Equal("trades", options.Table);
        Assert.True(options.CreateTables);
        Assert.Equal(2, options.Writers);
        Assert.Equal(100_000, options.MaxTradesPerCommit);
    }

    [Fact]
    public void The_parts_of_a_uri_parsed_elsewhere_give_the_same_options_and_several_hosts_fail_over()
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
    [InlineData("kafka://127.0.0.1:9092/trades", "the scheme must be postgres or postgresql")]
    [InlineData("postgres://u@127.0.0.1/db?table=trades;drop", "table 'trades;drop' is not a plain table name")]
    [InlineData("postgres://u@127.0.0.1/db?table=a.b.c", "table 'a.b.c' is not a plain table name")]
    [InlineData("postgres://u@127.0.0.1/db/more", "is not one database name")]
    [InlineData("postgres://u@127.0.0.1/db?create_tables=maybe", "create_tables=maybe is not a boolean")]
    [InlineData("postgres://u@127.0.0.1/db?Frobnicate=1", "'Frobnicate=1' is neither table, create_tables, writers, max_trades_per_commit nor an Npgsql connection-string keyword")]
    [InlineData("postgres://u@127.0.0.1/db?writers=0", "writers must be between 1 and 64, got 0")]
    [InlineData("postgres://u@127.0.0.1/db?writers=65", "writers must be between 1 and 64, got 65")]
    [InlineData("postgres://u@127.0.0.1/db?writers=two", "'writers=two' is not a whole number")]
    [InlineData("postgres://u@127.0.0.1/db?max_trades_per_commit=0", "max_trades_per_commit must be at least 1, got 0")]
    [InlineData("postgres://u@127.0.0.1/db?Port=x", "'Port=x' is neither")]
    [InlineData("postgres://u@127.0.0.1/db?table", "query part 'table' has no value")]
    public void A_bad_uri_is_an_error_naming_the_part_and_the_expected_form(string uri, string expected)
    {
        ArgumentException ex = Assert.Throws<ArgumentException>(() => PostgresSinkOptions.FromUri(new Uri(uri)));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_error_about_a_uri_never_shows_its_password()
    {
        ArgumentException ex = Assert.Throws<ArgumentException>(() => PostgresSinkOptions.FromUri(new Uri("postgres://u:hunter2@127.0.0.1/db?create_tables=maybe")));
        Assert.DoesNotContain("hunter2", ex.Message, StringComparison.Ordinal);
        Assert.Contains("u:***@127.0.0.1", ex.Message, StringComparison.Ordinal);
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
