namespace WsGateway.Connections.Handshake;

/// <summary>Outcome of <see cref="HandshakeParser.TryParse(in System.Buffers.ReadOnlySequence{byte}, int, out SequencePosition, out HandshakeRequest?, out string?)"/>.</summary>
/// <remarks>Every rejection maps to one HTTP status code through <see cref="HandshakeResponse.GetStatusCode"/>.</remarks>
internal enum HandshakeParseStatus
{
    /// <summary>The header block has not ended yet and is still within the size limit: read more.</summary>
    Incomplete,

    /// <summary>A valid RFC 6455 opening handshake; answer with 101.</summary>
    Ok,

    /// <summary>400 Bad Request: malformed HTTP or a handshake that does not match RFC 6455 §4.2.1.</summary>
    BadRequest,

    /// <summary>426 Upgrade Required: Sec-WebSocket-Version is present but not 13 (RFC 6455 §4.2.2).</summary>
    UnsupportedVersion,

    /// <summary>431 Request Header Fields Too Large: no end of headers within the byte limit, or too many fields.</summary>
    HeaderTooLarge,

    /// <summary>405 Method Not Allowed: a method other than GET (the response carries <c>Allow: GET</c>).</summary>
    MethodNotAllowed,

    /// <summary>404 Not Found: the path differs from the configured endpoint path.</summary>
    NotFound,
}
