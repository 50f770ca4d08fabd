using System.Text;
using WsGateway.Connections.Handshake;

namespace WsGateway.Hosting;

/// <summary>
/// The WebSocket-specific checks of an upgrade request that ASP.NET Core has already parsed (the standalone server
/// parses and checks the raw request in <see cref="HandshakeParser"/>, with the same rules and messages).
/// </summary>
internal static class HandshakeValidator
{
    /// <summary>Returns null when the request may be upgraded, otherwise the reason and the status code.</summary>
    public static string? Validate(bool upgradable, string upgrade, string version, string? key, out int status)
    {
        status = 400;
        if (!upgradable)
        {
            return "Expected a WebSocket upgrade request: 'Connection: Upgrade' and 'Upgrade: websocket' over HTTP/1.1";
        }

        if (!HandshakeParser.ContainsToken(Encoding.Latin1.GetBytes(upgrade), "websocket"u8))
        {
            return $"Upgrade header must contain 'websocket'; got '{upgrade}'";
        }

        if (version.Length == 0)
        {
            return $"Sec-WebSocket-Version header is missing; expected {HandshakeParser.SupportedVersion}";
        }

        if (version != HandshakeParser.SupportedVersion)
        {
            status = 426;
            return $"Sec-WebSocket-Version '{version}' is not supported; expected {HandshakeParser.SupportedVersion}";
        }

        if (key is null)
        {
            return "Sec-WebSocket-Key header is missing (or repeated); expected base64 of 16 random bytes";
        }

        return HandshakeParser.KnownFields.ValidateKey(Encoding.Latin1.GetBytes(key), out string? error) ? null : error;
    }
}
