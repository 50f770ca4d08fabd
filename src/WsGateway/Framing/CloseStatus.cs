using System.Buffers.Binary;
using System.Text.Unicode;

namespace WsGateway.Framing;

/// <summary>Result of <see cref="CloseStatus.Parse(ReadOnlySpan{byte}, out ushort, out ReadOnlySpan{byte})"/>.</summary>
internal enum CloseParseResult
{
    /// <summary>Well formed; the code may be echoed.</summary>
    Ok,

    /// <summary>A 1-byte payload, a payload over 125 bytes, or a code not valid on the wire: close with 1002.</summary>
    ProtocolError,

    /// <summary>The reason is not valid UTF-8: close with 1007.</summary>
    InvalidPayload,
}

/// <summary>
/// Close status codes (RFC 6455 §7.4 and the IANA "WebSocket Close Code Number Registry") and close payload parsing.
/// </summary>
/// <remarks>
/// The one place the code numbers are written: the public <c>WebSocketCloseCodes</c> (WsGateway) takes its values
/// from here, since this file is also compiled into WsGateway.Client.
/// </remarks>
internal static class CloseStatus
{
    public const ushort Normal = 1000;
    public const ushort GoingAway = 1001;
    public const ushort ProtocolError = 1002;
    public const ushort UnsupportedData = 1003;

    /// <summary>Reported locally when a Close frame had no payload; never sent on the wire.</summary>
    public const ushort NoStatus = 1005;

    /// <summary>Reported locally when the connection ended without a Close frame; never sent on the wire.</summary>
    public const ushort Abnormal = 1006;
    public const ushort InvalidPayload = 1007;
    public const ushort PolicyViolation = 1008;
    public const ushort MessageTooBig = 1009;
    public const ushort MandatoryExtension = 1010;
    public const ushort InternalError = 1011;
    public const ushort ServiceRestart = 1012;
    public const ushort TryAgainLater = 1013;
    public const ushort BadGateway = 1014;

    /// <summary>Reported locally when the TLS handshake failed; never sent on the wire.</summary>
    public const ushort TlsHandshake = 1015;

    /// <summary>
    /// Whether a received Close frame may carry <paramref name="code"/>: 1000-1003, 1007-1014 and 3000-4999.
    /// </summary>
    /// <remarks>
    /// <para>
    /// 0-999 are unused (§7.4.2). 1004 is reserved, and 1005, 1006 and 1015 "MUST NOT be set as a status code in a
    /// Close control frame" (§7.4.1). 1012 (Service Restart), 1013 (Try Again Later) and 1014 (Bad Gateway) are
    /// registered with IANA after the RFC, so they are valid; 1016-2999 are unassigned. 3000-3999 are registered by
    /// libraries and 4000-4999 are private use, both valid; 5000 and above are outside every range.
    /// </para>
    /// <para>
    /// This matches the Autobahn TestSuite: case 7.7.x expects these valid codes to be echoed
    /// (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999) and case 7.9.x expects 1002 for
    /// 0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999. Autobahn removed 1014 and 1015 from its invalid list
    /// (crossbario/autobahn-testsuite PR #89; issue #52 for 1012 and 1013), so no Autobahn case tests 1012-1015;
    /// for those we follow the IANA registry and §7.4.1.
    /// </para>
    /// </remarks>
    public static bool IsValidReceivedCode(ushort code)
        => code is (>= 1000 and <= 1003) or (>= 1007 and <= 1014) or (>= 3000 and <= 4999);

    /// <summary>
    /// Parses a Close frame payload (§5.5.1), already unmasked.
    /// </summary>
    /// <param name="payload">The whole Close payload.</param>
    /// <param name="code">The status code; <see cref="NoStatus"/> for an empty payload; 0 for a 1-byte or oversize payload.</param>
    /// <param name="reason">The UTF-8 reason (a slice of <paramref name="payload"/>), possibly empty.</param>
    public static CloseParseResult Parse(ReadOnlySpan<byte> payload, out ushort code, out ReadOnlySpan<byte> reason)
    {
        reason = default;
        if (payload.IsEmpty)
        {
            code = NoStatus;
            return CloseParseResult.Ok;
        }

        if (payload.Length == 1 || payload.Length > FrameReader.MaxControlPayloadLength)
        {
            code = 0;
            return CloseParseResult.ProtocolError;
        }

        code = BinaryPrimitives.ReadUInt16BigEndian(payload);
        if (!IsValidReceivedCode(code))
        {
            return CloseParseResult.ProtocolError;
        }

        reason = payload[2..];
        return Utf8.IsValid(reason) ? CloseParseResult.Ok : CloseParseResult.InvalidPayload;
    }
}
