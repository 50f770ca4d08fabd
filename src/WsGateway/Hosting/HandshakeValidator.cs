using System.Text;
using Microsoft.Extensions.Primitives;
using WsGateway.Connections.Handshake;

namespace WsGateway.Hosting;

/// <summary>
/// The WebSocket-specific checks of an upgrade request that ASP.NET Core has already parsed. The rules and messages
/// are <see cref="UpgradeRequestRules"/>, the ones the standalone server's <see cref="HandshakeParser"/> applies to
/// the raw request.
/// </summary>
internal static class HandshakeValidator
{
    /// <summary>Returns null when the request may be upgraded, otherwise the reason and the status code.</summary>
    /// <param name="upgradable">Whether the server can upgrade this request (<c>IHttpUpgradeFeature.IsUpgradableRequest</c>).</param>
    /// <param name="upgrade">The Upgrade field lines.</param>
    /// <param name="connection">The Connection field lines.</param>
    /// <param name="version">The Sec-WebSocket-Version field lines.</param>
    /// <param name="key">The Sec-WebSocket-Key field lines.</param>
    /// <param name="status">400, or 426 for a version other than 13.</param>
    public static string? Validate(bool upgradable, StringValues upgrade, StringValues connection, StringValues version, StringValues key, out int status)
    {
        status = 400;
        if (!upgradable)
        {
            // ASP.NET Core only: no upgrade over HTTP/2 or HTTP/1.0, or no 'Connection: Upgrade' with an Upgrade header.
            return "Expected a WebSocket upgrade request: 'Connection: Upgrade' and 'Upgrade: websocket' over HTTP/1.1";
        }

        string? error;
        if (!UpgradeRequestRules.CheckUpgrade(upgrade.Count > 0, Lists(upgrade, UpgradeRequestRules.ListsWebSocket), First(upgrade), out error)
            || !UpgradeRequestRules.CheckConnection(connection.Count > 0, Lists(connection, UpgradeRequestRules.ListsUpgrade), First(connection), out error))
        {
            return error;
        }

        if (version.Count > 1)
        {
            return UpgradeRequestRules.Repeated("Sec-WebSocket-Version");
        }

        HandshakeParseStatus versionStatus = UpgradeRequestRules.CheckVersion(version.Count > 0, First(version), out error);
        if (versionStatus != HandshakeParseStatus.Ok)
        {
            status = HandshakeResponse.GetStatusCode(versionStatus);
            return error;
        }

        if (key.Count > 1)
        {
            return UpgradeRequestRules.Repeated("Sec-WebSocket-Key");
        }

        return UpgradeRequestRules.CheckKey(key.Count > 0, First(key), out error) ? null : error;
    }

    private static byte[] First(StringValues values) => values.Count == 0 ? [] : Encoding.Latin1.GetBytes(values[0] ?? string.Empty);

    private static bool Lists(StringValues values, Func<ReadOnlySpan<byte>, bool> lists)
    {
        foreach (string? value in values)
        {
            if (lists(Encoding.Latin1.GetBytes(value ?? string.Empty)))
            {
                return true;
            }
        }

        return false;
    }
}
