using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace WsGateway.Connections.Handshake;

/// <summary>
/// The WebSocket rules for an upgrade request's Upgrade, Connection, Sec-WebSocket-Version and Sec-WebSocket-Key
/// headers (RFC 6455 §4.2.1 items 3-6), with the messages a refused client reads. The one copy of them:
/// <see cref="HandshakeParser"/> applies them to the raw request of the standalone server, and
/// <c>Hosting.HandshakeValidator</c> to the headers ASP.NET Core has already parsed.
/// </summary>
/// <remarks>
/// A header can arrive on several field lines: <c>present</c> says whether there was one at all, the
/// <c>lists…</c> flag whether any line has the token, and the value echoed in the message is the first line's.
/// </remarks>
internal static class UpgradeRequestRules
{
    /// <summary>The only Sec-WebSocket-Version this server speaks.</summary>
    public const string SupportedVersion = "13";

    private static readonly SearchValues<byte> s_base64Chars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"u8);

    /// <summary>Whether an Upgrade field value lists the <c>websocket</c> token.</summary>
    public static bool ListsWebSocket(ReadOnlySpan<byte> upgradeValue) => ContainsToken(upgradeValue, "websocket"u8);

    /// <summary>Whether a Connection field value lists the <c>Upgrade</c> token.</summary>
    public static bool ListsUpgrade(ReadOnlySpan<byte> connectionValue) => ContainsToken(connectionValue, "Upgrade"u8);

    /// <summary>Item 3: an Upgrade header listing <c>websocket</c>. A refusal is 400.</summary>
    public static bool CheckUpgrade(bool present, bool listsWebSocket, ReadOnlySpan<byte> firstValue, [NotNullWhen(false)] out string? error)
        => CheckListsToken(present, listsWebSocket, firstValue, "Upgrade header is missing; expected 'Upgrade: websocket'", "Upgrade header must contain 'websocket'", out error);

    /// <summary>Item 4: a Connection header listing <c>Upgrade</c>. A refusal is 400.</summary>
    public static bool CheckConnection(bool present, bool listsUpgrade, ReadOnlySpan<byte> firstValue, [NotNullWhen(false)] out string? error)
        => CheckListsToken(present, listsUpgrade, firstValue, "Connection header is missing; expected 'Connection: Upgrade'", "Connection header must contain the 'Upgrade' token", out error);

    /// <summary>A header that must be present and list a token: the refusal says which of the two failed, echoing
    /// the header's first value.</summary>
    private static bool CheckListsToken(bool present, bool lists, ReadOnlySpan<byte> firstValue, string missing, string mustContain, [NotNullWhen(false)] out string? error)
    {
        if (!present)
        {
            error = missing;
            return false;
        }

        if (!lists)
        {
            error = $"{mustContain}; got '{HandshakeParser.Echo(firstValue)}'";
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>
    /// Item 6: Sec-WebSocket-Version 13. Missing is a malformed handshake (<see cref="HandshakeParseStatus.BadRequest"/>);
    /// a version we do not speak is <see cref="HandshakeParseStatus.UnsupportedVersion"/>, 426 (RFC 6455 §4.2.2, §4.4).
    /// </summary>
    public static HandshakeParseStatus CheckVersion(bool present, ReadOnlySpan<byte> value, out string? error)
    {
        if (!present)
        {
            error = $"Sec-WebSocket-Version header is missing; expected {SupportedVersion}";
            return HandshakeParseStatus.BadRequest;
        }

        if (!Ascii.Equals(value, SupportedVersion))
        {
            error = $"Sec-WebSocket-Version '{HandshakeParser.Echo(value)}' is not supported; expected {SupportedVersion}";
            return HandshakeParseStatus.UnsupportedVersion;
        }

        error = null;
        return HandshakeParseStatus.Ok;
    }

    /// <summary>Item 5: a Sec-WebSocket-Key that is base64 of 16 bytes. A refusal is 400.</summary>
    public static bool CheckKey(bool present, ReadOnlySpan<byte> value, [NotNullWhen(false)] out string? error)
    {
        if (!present)
        {
            error = "Sec-WebSocket-Key header is missing; expected base64 of 16 random bytes";
            return false;
        }

        return ValidateKey(value, out error);
    }

    /// <summary>The refusal of a header that must appear once (Host, Origin, Sec-WebSocket-Key, Sec-WebSocket-Version).</summary>
    public static string Repeated(string name) => $"{name} must appear exactly once; it appears more than once";

    /// <summary>True when the comma-separated list <paramref name="value"/> has an element equal to <paramref name="token"/>, ignoring case.</summary>
    public static bool ContainsToken(ReadOnlySpan<byte> value, ReadOnlySpan<byte> token)
    {
        foreach (Range range in value.Split((byte)','))
        {
            if (Ascii.EqualsIgnoreCase(value[range].Trim(" \t"u8), token))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>RFC 6455 §4.1 item 7: "a randomly selected 16-byte value that has been base64-encoded" (RFC 4648 §4).</summary>
    private static bool ValidateKey(ReadOnlySpan<byte> value, [NotNullWhen(false)] out string? error)
    {
        ReadOnlySpan<byte> data = value.TrimEnd((byte)'=');
        int padding = value.Length - data.Length;
        if (value.IsEmpty || value.Length % 4 != 0 || padding > 2 || data.ContainsAnyExcept(s_base64Chars))
        {
            error = $"Sec-WebSocket-Key must be base64 of 16 bytes, got '{HandshakeParser.Echo(value)}' which is not base64";
            return false;
        }

        int decodedLength = (value.Length / 4 * 3) - padding;
        if (decodedLength != 16)
        {
            error = $"Sec-WebSocket-Key must be base64 of 16 bytes, got {decodedLength} bytes";
            return false;
        }

        Span<byte> nonce = stackalloc byte[16];
        if (Base64.DecodeFromUtf8(value, nonce, out _, out int written) != OperationStatus.Done || written != 16)
        {
            error = $"Sec-WebSocket-Key must be base64 of 16 bytes, got '{HandshakeParser.Echo(value)}' which is not base64";
            return false;
        }

        error = null;
        return true;
    }
}
