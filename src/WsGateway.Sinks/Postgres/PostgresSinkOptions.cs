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

    /// <summary>
    /// Reads the options from a sink URI, as <c>wsgw serve --sink</c> takes it:
    /// <c>postgres://user[:password]@host[:port]/database?table=trades&amp;create_tables=true</c> (scheme
    /// <c>postgres</c> or <c>postgresql</c>; port 5432 by default). Any other query parameter is an Npgsql
    /// connection-string keyword (<c>?Maximum%20Pool%20Size=20&amp;SSL%20Mode=Require</c>).
    /// </summary>
    /// <param name="uri">The URI.</param>
    /// <returns>The options.</returns>
    /// <exception cref="ArgumentException">The URI is not a PostgreSQL sink URI; the message names the part and the expected form.</exception>
    public static PostgresSinkOptions FromUri(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        const string Expected = "expected postgres://user[:password]@host[:port]/database[?table=trades]";
        if (!uri.IsAbsoluteUri || (uri.Scheme != "postgres" && uri.Scheme != "postgresql"))
        {
            throw new ArgumentException($"postgres sink URI {UriQuery.Redact(uri)}: the scheme must be postgres or postgresql; {Expected}.");
        }

        if (string.IsNullOrEmpty(uri.Host))
        {
            throw new ArgumentException($"postgres sink URI {UriQuery.Redact(uri)}: no host; {Expected}.");
        }

        var builder = new NpgsqlConnectionStringBuilder { Host = uri.Host, Port = uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port };
        if (uri.UserInfo.Length > 0)
        {
            int colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            builder.Username = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            if (colon >= 0)
            {
                builder.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
            }
        }

        string database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException($"postgres sink URI {UriQuery.Redact(uri)}: the path '{uri.AbsolutePath}' is not one database name; {Expected}.");
        }

        if (database.Length > 0)
        {
            builder.Database = database;
        }

        var options = new PostgresSinkOptions();
        foreach ((string name, string value) in UriQuery.Parse(uri, "postgres"))
        {
            switch (name)
            {
                case "table":
                    options.Table = value;
                    break;
                case "create_tables":
                    options.CreateTables = UriQuery.ParseBool(value, name, uri, "postgres");
                    break;
                default:
                    try
                    {
                        builder[name] = value;
                    }
                    catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidCastException)
                    {
                        throw new ArgumentException(
                            $"postgres sink URI {UriQuery.Redact(uri)}: '{name}={value}' is neither table, create_tables nor an Npgsql connection-string keyword with a valid value ({ex.Message}).", ex);
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

        if (!IsTableName(Table))
        {
            throw new ArgumentException(
                $"postgres sink: table '{Table}' is not a plain table name; expected name or schema.name of letters, digits and underscores, not starting with a digit.");
        }

        return builder;
    }

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
