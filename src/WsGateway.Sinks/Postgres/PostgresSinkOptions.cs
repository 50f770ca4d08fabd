using Npgsql;

namespace WsGateway.Sinks.Postgres;

/// <summary>Where and how <see cref="PostgresTradeSink"/> stores trades.</summary>
public sealed class PostgresSinkOptions
{
    /// <summary>An Npgsql connection string: <c>Host=127.0.0.1;Port=5432;Username=wsgw;Password=...;Database=trading</c>.
    /// Pooling is on (Npgsql's pool, <c>Maximum Pool Size</c> 100 unless set here): one pooled connection per batch in
    /// flight.</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>The trades table, <c>name</c> or <c>schema.name</c> (letters, digits and underscores). Default
    /// <c>trades</c>.</summary>
    public string Table { get; set; } = "trades";

    /// <summary>Creates the trades table (and its unique key on <c>trade_id</c>) when it is missing, before the first
    /// batch. Default true; turn it off where the gateway's database user may not create tables — the table must then
    /// have the columns of <see cref="PostgresTradeSink.CreateTableSql"/> and a unique key on <c>trade_id</c>.</summary>
    public bool CreateTables { get; set; } = true;

    /// <summary>Transactions written at the same time, each on its own pooled connection. Batches published while
    /// they write wait in the sink's queue and are written together by the next free writer: one <c>COPY</c> and one
    /// commit for all of them (group commit). Default 2: one connection copies while the other commits or copies
    /// too; between 1 and 64. URI key <c>writers</c>.</summary>
    public int Writers { get; set; } = 2;

    /// <summary>Trades a writer takes from the queue for one transaction, at most (a batch larger than this is
    /// written alone, whole). Default 100,000; at least 1. URI key <c>max_trades_per_commit</c>.</summary>
    public int MaxTradesPerCommit { get; set; } = 100_000;

    private const string Where = "postgres sink";
    private const string ExpectedUri = "expected postgres://user[:password]@host[:port]/database[?table=trades]";

    /// <summary>
    /// Reads the options from the parts of a
    /// <c>postgres://user[:password]@host[:port][,host[:port]...]/database?table=trades&amp;create_tables=true</c> sink
    /// URI (scheme <c>postgres</c> or <c>postgresql</c>), taken apart by <see cref="SinkUri"/>
    /// (<see cref="SinkFactory.Plan"/>, what <c>wsgw serve --sink</c> takes): the authority (user and password
    /// percent-encoded; port 5432 by default; several hosts are Npgsql's multi-host failover), the database, and the
    /// query parameters not taken by the pipeline: <c>table</c>, <c>create_tables</c>, <c>writers</c>,
    /// <c>max_trades_per_commit</c>, and Npgsql connection-string keywords (<c>?Maximum%20Pool%20Size=20</c>).
    /// </summary>
    /// <param name="authority">User, password and hosts.</param>
    /// <param name="database">The database; empty for the user's default.</param>
    /// <param name="query">Decoded query parameters: <c>table</c>, <c>create_tables</c> and Npgsql connection-string keywords.</param>
    /// <returns>The options.</returns>
    /// <exception cref="ArgumentException">A bad part; the message names it and the expected form.</exception>
    public static PostgresSinkOptions FromParts(string authority, string database, IEnumerable<KeyValuePair<string, string>> query)
    {
        ArgumentNullException.ThrowIfNull(authority);
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(query);
        var builder = new NpgsqlConnectionStringBuilder();
        string hosts = authority;
        int at = authority.LastIndexOf('@');
        if (at >= 0)
        {
            string userInfo = authority[..at];
            hosts = authority[(at + 1)..];
            int colon = userInfo.IndexOf(':', StringComparison.Ordinal);
            builder.Username = Uri.UnescapeDataString(colon < 0 ? userInfo : userInfo[..colon]);
            if (colon >= 0)
            {
                builder.Password = Uri.UnescapeDataString(userInfo[(colon + 1)..]);
            }
        }

        builder.Host = SinkUri.HostList(hosts, 5432);
        if (builder.Host.Length == 0)
        {
            throw new ArgumentException($"{Where}: no host; {ExpectedUri}.");
        }

        if (database.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException($"{Where}: the path '/{database}' is not one database name; {ExpectedUri}.");
        }

        if (database.Length > 0)
        {
            builder.Database = database;
        }

        var options = new PostgresSinkOptions();
        foreach ((string name, string value) in query)
        {
            switch (name)
            {
                case "table":
                    options.Table = value;
                    break;
                case "create_tables":
                    options.CreateTables = SinkUri.TryParseBoolean(value, out bool create)
                        ? create
                        : throw new ArgumentException($"{Where}: {name}={value} is not a boolean; expected true or false.");
                    break;
                case "writers":
                    options.Writers = ParseInt(value, name);
                    break;
                case "max_trades_per_commit":
                    options.MaxTradesPerCommit = ParseInt(value, name);
                    break;
                default:
                    try
                    {
                        builder[name] = value;
                    }
                    catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidCastException)
                    {
                        throw new ArgumentException(
                            $"{Where}: '{name}={value}' is neither table, create_tables, writers, max_trades_per_commit nor an Npgsql connection-string keyword with a valid value ({ex.Message}).", ex);
                    }

                    break;
            }
        }

        options.ConnectionString = builder.ConnectionString;
        options.Validate();
        return options;
    }

    /// <summary>Checks the options and returns the parsed connection string.</summary>
    /// <exception cref="ArgumentException">A bad connection string or table name; the message names it (never the password) and what was expected.</exception>
    internal NpgsqlConnectionStringBuilder Validate()
    {
        const string Expected = "expected 'Host=127.0.0.1;Port=5432;Username=...;Password=...;Database=...'";
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            throw new ArgumentException($"postgres sink: no connection string; {Expected}.");
        }

        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(ConnectionString);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidCastException)
        {
            // Npgsql's message names the keyword; the connection string itself is not repeated (it may hold a password).
            throw new ArgumentException($"postgres sink: bad connection string: {ex.Message}; {Expected}.", ex);
        }

        if (string.IsNullOrEmpty(builder.Host))
        {
            throw new ArgumentException($"postgres sink: the connection string has no Host; {Expected}.");
        }

        if (Writers is < 1 or > 64)
        {
            throw new ArgumentException($"postgres sink: writers must be between 1 and 64, got {Writers}.");
        }

        if (MaxTradesPerCommit < 1)
        {
            throw new ArgumentException($"postgres sink: max_trades_per_commit must be at least 1, got {MaxTradesPerCommit}.");
        }

        if (!IsTableName(Table))
        {
            throw new ArgumentException(
                $"postgres sink: table '{Table}' is not a plain table name; expected name or schema.name of letters, digits and underscores, not starting with a digit.");
        }

        return builder;
    }

    private static int ParseInt(string value, string name)
        => int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int parsed)
            ? parsed
            : throw new ArgumentException($"{Where}: '{name}={value}' is not a whole number.");

    private static bool IsTableName(string name)
    {
        string[] parts = name.Split('.');
        if (parts.Length > 2)
        {
            return false;
        }

        foreach (string part in parts)
        {
            if (part.Length == 0 || part.Length > 63 || char.IsAsciiDigit(part[0]))
            {
                return false;
            }

            foreach (char c in part)
            {
                if (!char.IsAsciiLetterOrDigit(c) && c != '_')
                {
                    return false;
                }
            }
        }

        return true;
    }
}
