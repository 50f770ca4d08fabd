namespace WsGateway.Sinks;

/// <summary>Splits a sink URI's query (<c>?a=1&amp;b=two</c>) into decoded pairs, in order; shared by the sinks'
/// <c>FromUri</c> parsers.</summary>
internal static class UriQuery
{
    public static List<KeyValuePair<string, string>> Parse(Uri uri, string sink)
    {
        var pairs = new List<KeyValuePair<string, string>>();
        string query = uri.Query;
        if (query.Length <= 1)
        {
            return pairs;
        }

        foreach (string part in query[1..].Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new ArgumentException(
                    $"{sink} sink URI {Redact(uri)}: query part '{Uri.UnescapeDataString(part)}' has no value; expected name=value pairs separated by '&'.");
            }

            pairs.Add(new(Uri.UnescapeDataString(part[..equals].Replace('+', ' ')), Uri.UnescapeDataString(part[(equals + 1)..].Replace('+', ' '))));
        }

        return pairs;
    }

    public static bool ParseBool(string value, string name, string where) => value.ToUpperInvariant() switch
    {
        "TRUE" or "1" or "YES" => true,
        "FALSE" or "0" or "NO" => false,
        _ => throw new ArgumentException($"{where}: {name}={value} is not a boolean; expected true or false."),
    };

    /// <summary>Whether <c>host[:port]</c> has its port (an IPv6 address is bracketed: <c>[::1]:5432</c>).</summary>
    public static bool HasPort(string host)
    {
        int colon = host.LastIndexOf(':');
        return colon > host.LastIndexOf(']') && (host.StartsWith('[') || host.IndexOf(':', StringComparison.Ordinal) == colon);
    }

    /// <summary>The URI as it may be shown in an error: a password in it is replaced by <c>***</c>.</summary>
    public static string Redact(Uri uri)
    {
        string userInfo = uri.UserInfo;
        int colon = userInfo.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return uri.OriginalString;
        }

        return uri.OriginalString.Replace(userInfo, string.Concat(userInfo.AsSpan(0, colon), ":***"), StringComparison.Ordinal);
    }
}
