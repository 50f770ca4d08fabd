using System.Net;

namespace WsGateway.Cli.Admin;

/// <summary>
/// Which web pages may open a connection to <c>wsgw serve</c>: clients without an <c>Origin</c> header (not
/// browsers) always; browsers only from the admin page's own origin and the <c>--allow-origin</c> list. Without the
/// check any page the operator opens could connect to <c>ws://127.0.0.1:9001</c> and send trades.
/// </summary>
internal static class OriginPolicy
{
    /// <summary>Sets the gateway's origin allow-list; when it would be empty (<c>--admin none</c> or port 0, no
    /// <c>--allow-origin</c>), every browser is refused with 403 (<see cref="TradeGatewayOptions.RequireListedOrigin"/>).</summary>
    /// <param name="options">The gateway's options.</param>
    /// <param name="admin">The <c>--admin</c> address.</param>
    /// <param name="allowOrigins">The <c>--allow-origin</c> list.</param>
    /// <param name="https">Whether the admin page is served over https (<c>--cert</c>): its origin is then
    /// <c>https://</c>.</param>
    public static void Apply(TradeGatewayOptions options, string admin, IReadOnlyList<string> allowOrigins, bool https = false)
    {
        foreach (string origin in allowOrigins)
        {
            options.AllowedOrigins.Add(origin);
        }

        if (AdminAddress.Parse(admin) is { Port: > 0 } address)
        {
            string[] hosts = address.Address is { } ip && !IPAddress.IsLoopback(ip) && !ip.Equals(IPAddress.Any) && !ip.Equals(IPAddress.IPv6Any)
                ? [ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{ip}]" : ip.ToString()]
                : ["127.0.0.1", "localhost", "[::1]"];
            foreach (string host in hosts)
            {
                options.AllowedOrigins.Add($"{(https ? "https" : "http")}://{host}:{address.Port}");
            }
        }

        // Browsers only from the listed origins: with none listed, every browser is refused (403), by the admission
        // itself rather than a handshake validator (which would cost each handshake a context and a task).
        options.RequireListedOrigin = true;
    }
}
