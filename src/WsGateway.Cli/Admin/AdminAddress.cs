using System.Globalization;
using System.Net;

namespace WsGateway.Cli.Admin;

/// <summary>The address of the admin endpoints: <c>host:port</c> as for the gateway, or <c>none</c>.</summary>
internal static class AdminAddress
{
    /// <summary>The default: loopback only, next to the gateway's default 9001.</summary>
    public const string Default = "127.0.0.1:9002";

    /// <summary>The value that turns the admin endpoints off.</summary>
    public const string None = "none";

    /// <summary>Parses <c>127.0.0.1:9002</c>, <c>[::1]:9002</c>, <c>localhost:9002</c> or <c>*:9002</c> (port 0 picks
    /// one); null for <c>none</c>.</summary>
    /// <exception cref="FormatException">Not an address.</exception>
    public static (IPAddress? Address, int Port, bool Localhost)? Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (string.Equals(value, None, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        int colon = value.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > IPEndPoint.MaxPort)
        {
            throw new FormatException($"Invalid admin address '{value}': expected host:port such as 127.0.0.1:9002, [::1]:9002, localhost:9002 or *:9002, or 'none'");
        }

        string host = value[..colon];
        if (host == "localhost")
        {
            return (null, port, true);
        }

        if (host is "*" or "0.0.0.0")
        {
            return (IPAddress.Any, port, false);
        }

        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }

        return IPAddress.TryParse(host, out IPAddress? address)
            ? (address, port, false)
            : throw new FormatException($"Invalid admin address '{value}': '{host}' is not an IP address, localhost or *");
    }
}
