using System.Globalization;

namespace WsGateway.Sinks;

/// <summary>
/// A <c>--sink</c> value taken apart: <c>scheme://hosts/path?key=value&amp;...</c>, for example
/// <c>nats://127.0.0.1:4222?stream=TRADES&amp;subject=trades</c>, <c>kafka://host:9092/topic</c> or
/// <c>postgres://user@host:5432/db?table=trades</c>. Hosts may be a comma-separated list. A scheme's parser takes the
/// query keys it knows with <see cref="Take"/>; <see cref="EnsureAllTaken"/> then refuses any other key by name.
/// Errors never show a password given in the value (<c>user:***@host</c>).
/// </summary>
public sealed class SinkUri
{
    private readonly Dictionary<string, string> _query;
    private readonly HashSet<string> _taken = new(StringComparer.Ordinal);

    private SinkUri(string text, string scheme, string authority, string path, Dictionary<string, string> query)
    {
        Text = text;
        Scheme = scheme;
        Authority = authority;
        Path = path;
        _query = query;
    }

    /// <summary>The value as given.</summary>
    public string Text { get; }

    /// <summary>Lowercase: <c>nats</c>, <c>kafka</c>, <c>postgres</c>.</summary>
    public string Scheme { get; }

    /// <summary>Between <c>://</c> and the path: <c>[user[:password]@]host:port[,host:port...]</c>.</summary>
    public string Authority { get; }

    /// <summary>The hosts of <see cref="Authority"/> without user information, each <c>host:port</c> as given.</summary>
    public IReadOnlyList<string> Hosts
        => SplitHosts(Authority.LastIndexOf('@') is int at and >= 0 ? Authority[(at + 1)..] : Authority);

    /// <summary><see cref="Text"/> with the password, if any, replaced by <c>***</c>: what an error, a log or a banner
    /// may show.</summary>
    public string Redacted => Redact(Text);

    /// <summary>The path without its leading slash (a Kafka topic, a database name); empty when there is none.</summary>
    public string Path { get; }

    /// <summary>Parses a <c>--sink</c> value.</summary>
    /// <param name="text">The value.</param>
    /// <returns>The parts.</returns>
    /// <exception cref="FormatException">It is not <c>scheme://host[:port]...</c>; the message says what was expected.</exception>
    public static SinkUri Parse(string text)
    {
        int schemeEnd = text.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd <= 0)
        {
            throw new FormatException($"--sink '{Redact(text)}': expected a URI such as nats://127.0.0.1:4222?stream=TRADES (scheme://host:port?key=value)");
        }

        string scheme = text[..schemeEnd].ToLowerInvariant();
        string rest = text[(schemeEnd + 3)..];
        string query = string.Empty;
        if (rest.IndexOf('?', StringComparison.Ordinal) is int q and >= 0)
        {
            query = rest[(q + 1)..];
            rest = rest[..q];
        }

        string path = string.Empty;
        if (rest.IndexOf('/', StringComparison.Ordinal) is int slash and >= 0)
        {
            path = Uri.UnescapeDataString(rest[(slash + 1)..]);
            rest = rest[..slash];
        }

        if (rest.Length == 0)
        {
            throw new FormatException($"--sink '{Redact(text)}': no host; expected {scheme}://host:port");
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new FormatException(
                    $"--sink '{Redact(text)}': query part '{Uri.UnescapeDataString(pair)}' has no value; expected name=value pairs separated by '&'");
            }

            string key = Uri.UnescapeDataString(pair[..equals]);
            string value = Uri.UnescapeDataString(pair[(equals + 1)..]);
            if (!values.TryAdd(key, value))
            {
                throw new FormatException($"--sink '{Redact(text)}': '{key}' is given twice");
            }
        }

        return new SinkUri(text, scheme, rest, path, values);
    }

    /// <summary>Takes a query value, or null when absent.</summary>
    public string? Take(string key)
    {
        _taken.Add(key);
        return _query.TryGetValue(key, out string? value) ? value : null;
    }

    /// <summary>Takes a whole number in [min, max].</summary>
    public long? TakeInteger(string key, long min, long max)
    {
        if (Take(key) is not { } text)
        {
            return null;
        }

        if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value) || value < min || value > max)
        {
            throw new FormatException($"--sink {Scheme}: {key}={text}: expected a whole number from {min} to {max}");
        }

        return value;
    }

    /// <summary>Takes a duration: a number with <c>ms</c>, <c>s</c>, <c>m</c> or <c>h</c> (<c>500ms</c>, <c>2m</c>).</summary>
    public TimeSpan? TakeDuration(string key)
    {
        if (Take(key) is not { } text)
        {
            return null;
        }

        (string number, double unit) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.Ordinal) => (text[..^2], 0.001),
            _ when text.EndsWith('s') => (text[..^1], 1.0),
            _ when text.EndsWith('m') => (text[..^1], 60.0),
            _ when text.EndsWith('h') => (text[..^1], 3600.0),
            _ => (string.Empty, 0.0),
        };
        if (unit == 0 || !double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || value <= 0)
        {
            throw new FormatException($"--sink {Scheme}: {key}={text}: expected a positive duration such as 500ms, 30s, 2m or 1h");
        }

        return TimeSpan.FromSeconds(value * unit);
    }

    /// <summary>Takes <c>true</c> or <c>false</c> (<see cref="TryParseBoolean"/>).</summary>
    public bool? TakeBoolean(string key)
    {
        return Take(key) switch
        {
            null => null,
            { } text when TryParseBoolean(text, out bool value) => value,
            { } other => throw new FormatException($"--sink {Scheme}: {key}={other}: expected true or false"),
        };
    }

    /// <summary>Takes every query value no one has taken yet (a sink that passes its options through, such as Kafka's
    /// librdkafka properties).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> TakeRest()
    {
        var rest = new List<KeyValuePair<string, string>>();
        foreach (KeyValuePair<string, string> entry in _query)
        {
            if (_taken.Add(entry.Key))
            {
                rest.Add(entry);
            }
        }

        return rest;
    }

    /// <summary>Refuses query keys no parser took.</summary>
    /// <exception cref="FormatException">A key is unknown; the message lists the known ones.</exception>
    public void EnsureAllTaken()
    {
        foreach (string key in _query.Keys)
        {
            if (!_taken.Contains(key))
            {
                throw new FormatException($"--sink {Scheme}: unknown option '{key}'; {Scheme} takes {string.Join(", ", _taken.Order(StringComparer.Ordinal))}");
            }
        }
    }

    /// <summary>A boolean in a sink URI: <c>true</c>, <c>1</c> or <c>yes</c>; <c>false</c>, <c>0</c> or <c>no</c>; any case.</summary>
    internal static bool TryParseBoolean(string text, out bool value)
    {
        switch (text.ToUpperInvariant())
        {
            case "TRUE" or "1" or "YES":
                value = true;
                return true;
            case "FALSE" or "0" or "NO":
                value = false;
                return true;
            default:
                value = false;
                return false;
        }
    }

    /// <summary>
    /// A comma-separated host list as <c>host:port,host:port...</c>, <paramref name="defaultPort"/> added to a host
    /// that has none (an IPv6 address is bracketed: <c>[::1]:5432</c>); empty when there is no host.
    /// </summary>
    public static string HostList(string hosts, int defaultPort)
        => string.Join(',', SplitHosts(hosts).Select(h => HasPort(h) ? h : $"{h}:{defaultPort.ToString(CultureInfo.InvariantCulture)}"));

    private static string[] SplitHosts(string hosts) => hosts.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Whether <c>host[:port]</c> has its port (an IPv6 address is bracketed: <c>[::1]:5432</c>).</summary>
    private static bool HasPort(string host)
    {
        int colon = host.LastIndexOf(':');
        return colon > host.LastIndexOf(']') && (host.StartsWith('[') || host.IndexOf(':', StringComparison.Ordinal) == colon);
    }

    /// <summary>The value with the password of <c>user:password@</c>, if any, replaced by <c>***</c>.</summary>
    private static string Redact(string text)
    {
        int start = text.IndexOf("://", StringComparison.Ordinal) is int schemeEnd and >= 0 ? schemeEnd + 3 : 0;
        int end = text.IndexOfAny(['/', '?'], start) is int e and >= 0 ? e : text.Length;
        int at = end > start ? text.LastIndexOf('@', end - 1, end - start) : -1;
        int colon = at < 0 ? -1 : text.IndexOf(':', start, at - start);
        return colon < 0 ? text : string.Concat(text.AsSpan(0, colon + 1), "***", text.AsSpan(at));
    }
}
