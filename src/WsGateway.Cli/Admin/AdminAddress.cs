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

        try
        {
            return ListenAddress.Parse(value, "admin address", examplePort: 9002);
        }
        catch (FormatException ex)
        {
            throw new FormatException($"{ex.Message}, or '{None}'", ex);
        }
    }
}
