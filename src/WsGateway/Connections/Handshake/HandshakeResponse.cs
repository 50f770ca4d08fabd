using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;

namespace WsGateway.Connections.Handshake;

/// <summary>Writes the server's side of the opening handshake: 101 on success, a plain-text error otherwise.</summary>
/// <remarks>
/// Each method computes the exact response length, takes one span from the writer and advances once.
/// Responses are ASCII except the UTF-8 error body; header names and values given by callers are checked so
/// that no caller input can inject a header line.
/// </remarks>
internal static class HandshakeResponse
{
    /// <summary>Length of a Sec-WebSocket-Accept value: base64 of a 20-byte SHA-1 digest.</summary>
    public const int AcceptLength = 28;

    private const int MaxKeyLength = 64;
    private const int ContentLengthDigits = 10;

    // RFC 6455 §1.3 / §4.2.2 step 5.4.
    private static ReadOnlySpan<byte> WebSocketGuid => "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"u8;

    private static ReadOnlySpan<byte> SwitchingProtocolsHead =>
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "u8;

    private static ReadOnlySpan<byte> ProtocolHeader => "Sec-WebSocket-Protocol: "u8;
    private static ReadOnlySpan<byte> Crlf => "\r\n"u8;
    private static ReadOnlySpan<byte> ContentTypeAndLength => "Content-Type: text/plain; charset=utf-8\r\nContent-Length: "u8;
    private static ReadOnlySpan<byte> ConnectionClose => "Connection: close\r\n"u8;
    private static ReadOnlySpan<byte> ConnectionUpgradeClose => "Connection: Upgrade, close\r\n"u8;

    private static readonly SearchValues<char> s_tokenChars =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    // RFC 9110 §15.5.22 and §7.8: a 426 names the protocol to upgrade to; RFC 6455 §4.2.2 adds the versions we speak.
    private static readonly KeyValuePair<string, string>[] s_upgradeRequiredHeaders =
    [
        new("Upgrade", "websocket"),
        new("Sec-WebSocket-Version", HandshakeParser.SupportedVersion),
    ];

    // RFC 9110 §15.5.6: a 405 MUST carry Allow.
    private static readonly KeyValuePair<string, string>[] s_methodNotAllowedHeaders = [new("Allow", "GET")];

    /// <summary>Sec-WebSocket-Accept for <paramref name="key"/>: base64(SHA-1(key + GUID)) (RFC 6455 §4.2.2 step 5.4).</summary>
    public static string ComputeAccept(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Span<byte> accept = stackalloc byte[AcceptLength];
        WriteAccept(key, accept);
        return Encoding.ASCII.GetString(accept);
    }

    /// <summary>Writes the 28 ASCII bytes of Sec-WebSocket-Accept for <paramref name="key"/> into <paramref name="destination"/>, using only the stack.</summary>
    /// <exception cref="ArgumentException">The key is longer than 64 chars or not ASCII, or the destination is shorter than <see cref="AcceptLength"/>.</exception>
    public static void WriteAccept(ReadOnlySpan<char> key, Span<byte> destination)
    {
        if (key.Length > MaxKeyLength || !Ascii.IsValid(key))
        {
            throw new ArgumentException($"The key must be at most {MaxKeyLength} ASCII characters.", nameof(key));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, AcceptLength, nameof(destination));

        Span<byte> input = stackalloc byte[MaxKeyLength + 36];
        int keyLength = Encoding.ASCII.GetBytes(key, input);
        WebSocketGuid.CopyTo(input[keyLength..]);

        Span<byte> digest = stackalloc byte[20];
        // SHA-1 is what RFC 6455 prescribes; it proves the server read the handshake, it is not a security boundary.
#pragma warning disable CA5350 // Do not use weak cryptographic algorithms
        SHA1.HashData(input[..(keyLength + WebSocketGuid.Length)], digest);
#pragma warning restore CA5350
        Base64.EncodeToUtf8(digest, destination, out _, out _);
    }

    /// <summary>
    /// Writes <c>HTTP/1.1 101 Switching Protocols</c> with Upgrade, Connection, Sec-WebSocket-Accept and,
    /// when <paramref name="subProtocol"/> is given, Sec-WebSocket-Protocol.
    /// </summary>
    /// <param name="output">Where the response goes (the connection's PipeWriter); the caller flushes.</param>
    /// <param name="key">The validated <see cref="HandshakeRequest.Key"/>.</param>
    /// <param name="subProtocol">One of the client's <see cref="HandshakeRequest.SubProtocols"/>, or <see langword="null"/>.</param>
    public static void WriteSwitchingProtocols(IBufferWriter<byte> output, string key, string? subProtocol = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(key);
        if (subProtocol is not null && (subProtocol.Length == 0 || subProtocol.AsSpan().ContainsAnyExcept(s_tokenChars)))
        {
            throw new ArgumentException("The subprotocol must be a token (RFC 6455 §4.1).", nameof(subProtocol));
        }

        int length = SwitchingProtocolsHead.Length + AcceptLength + Crlf.Length + Crlf.Length;
        if (subProtocol is not null)
        {
            length += ProtocolHeader.Length + subProtocol.Length + Crlf.Length;
        }

        Span<byte> span = output.GetSpan(length);
        var writer = new SpanWriter(span);
        writer.Write(SwitchingProtocolsHead);
        WriteAccept(key, writer.Take(AcceptLength));
        writer.Write(Crlf);
        if (subProtocol is not null)
        {
            writer.Write(ProtocolHeader);
            writer.WriteAscii(subProtocol);
            writer.Write(Crlf);
        }

        writer.Write(Crlf);
        output.Advance(writer.Position);
    }

    /// <summary>
    /// Writes an error response that closes the connection: status line with its reason phrase,
    /// <c>Content-Type: text/plain; charset=utf-8</c>, <c>Content-Length</c>, <c>Connection: close</c>,
    /// <paramref name="extraHeaders"/>, then <paramref name="reason"/> + "\n" as the body.
    /// </summary>
    /// <remarks>
    /// Works for any 4xx/5xx code; the phrase is the registered one (e.g. 408 Request Timeout, 503 Service
    /// Unavailable) or empty for an unregistered code, which RFC 9112 §4 allows. The caller supplies
    /// the headers a status needs beyond those <see cref="WriteError(IBufferWriter{byte}, HandshakeParseStatus, string)"/>
    /// adds: <c>Retry-After</c> on 503, <c>WWW-Authenticate</c> on 401 (RFC 9110 §15.5.2).
    /// When an extra <c>Upgrade</c> header is present the Connection header becomes <c>Upgrade, close</c>
    /// (RFC 9110 §7.8: a sender of Upgrade also sends the "Upgrade" connection option).
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="statusCode"/> is not 400-599.</exception>
    /// <exception cref="ArgumentException">A header name is not a token or a value contains a control character or non-ASCII.</exception>
    public static void WriteError(
        IBufferWriter<byte> output,
        int statusCode,
        string reason,
        ReadOnlySpan<KeyValuePair<string, string>> extraHeaders = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(reason);
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 400);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(statusCode, 599);

        string phrase = ReasonPhrases.GetReasonPhrase(statusCode);
        int bodyLength = Encoding.UTF8.GetByteCount(reason) + 1;
        bool upgrade = false;
        int headersLength = 0;
        foreach (KeyValuePair<string, string> header in extraHeaders)
        {
            ValidateHeader(header);
            upgrade |= header.Key.Equals("Upgrade", StringComparison.OrdinalIgnoreCase);
            headersLength += header.Key.Length + 2 + header.Value.Length + Crlf.Length;
        }

        ReadOnlySpan<byte> connection = upgrade ? ConnectionUpgradeClose : ConnectionClose;
        int length = "HTTP/1.1 NNN "u8.Length + phrase.Length + Crlf.Length
            + ContentTypeAndLength.Length + ContentLengthDigits + Crlf.Length
            + connection.Length + headersLength + Crlf.Length + bodyLength;

        Span<byte> span = output.GetSpan(length);
        var writer = new SpanWriter(span);
        writer.Write("HTTP/1.1 "u8);
        writer.WriteInt(statusCode);
        writer.Write(" "u8);
        writer.WriteAscii(phrase);
        writer.Write(Crlf);
        writer.Write(ContentTypeAndLength);
        writer.WriteInt(bodyLength);
        writer.Write(Crlf);
        writer.Write(connection);
        foreach (KeyValuePair<string, string> header in extraHeaders)
        {
            writer.WriteAscii(header.Key);
            writer.Write(": "u8);
            writer.WriteAscii(header.Value);
            writer.Write(Crlf);
        }

        writer.Write(Crlf);
        writer.Position += Encoding.UTF8.GetBytes(reason, span[writer.Position..]);
        writer.Write("\n"u8);
        output.Advance(writer.Position);
    }

    /// <summary>Writes the error response for a parser rejection, with the headers its status requires.</summary>
    /// <param name="output">Where the response goes.</param>
    /// <param name="status">A rejection status (not Ok or Incomplete).</param>
    /// <param name="reason">The parser's <c>error</c> text.</param>
    public static void WriteError(IBufferWriter<byte> output, HandshakeParseStatus status, string reason)
        => WriteError(output, GetStatusCode(status), reason, GetStandardHeaders(status));

    /// <summary>HTTP status code for a parser rejection: 400, 404, 405, 426 or 431.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="status"/> is Ok or Incomplete.</exception>
    public static int GetStatusCode(HandshakeParseStatus status) => status switch
    {
        HandshakeParseStatus.BadRequest => 400,
        HandshakeParseStatus.NotFound => 404,
        HandshakeParseStatus.MethodNotAllowed => 405,
        HandshakeParseStatus.UnsupportedVersion => 426,
        HandshakeParseStatus.HeaderTooLarge => 431,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Not a rejection status."),
    };

    /// <summary>Headers a rejection must carry: <c>Allow: GET</c> for 405; <c>Upgrade: websocket</c> and <c>Sec-WebSocket-Version: 13</c> for 426.</summary>
    public static ReadOnlySpan<KeyValuePair<string, string>> GetStandardHeaders(HandshakeParseStatus status) => status switch
    {
        HandshakeParseStatus.MethodNotAllowed => s_methodNotAllowedHeaders,
        HandshakeParseStatus.UnsupportedVersion => s_upgradeRequiredHeaders,
        _ => default,
    };

    private static void ValidateHeader(KeyValuePair<string, string> header)
    {
        if (string.IsNullOrEmpty(header.Key) || header.Key.AsSpan().ContainsAnyExcept(s_tokenChars))
        {
            throw new ArgumentException($"Header name '{header.Key}' is not a token.", nameof(header));
        }

        // Visible ASCII, SP and HTAB only: no CR/LF, so no header injection.
        ArgumentNullException.ThrowIfNull(header.Value, nameof(header));
        foreach (char c in header.Value)
        {
            if (c != '\t' && c is < ' ' or > '~')
            {
                throw new ArgumentException($"Header '{header.Key}' has a value with a control or non-ASCII character.", nameof(header));
            }
        }
    }

    /// <summary>Sequential writes into a span sized up front.</summary>
    private ref struct SpanWriter(Span<byte> span)
    {
        private readonly Span<byte> _span = span;

        public int Position { get; set; }

        public void Write(ReadOnlySpan<byte> bytes)
        {
            bytes.CopyTo(_span[Position..]);
            Position += bytes.Length;
        }

        public void WriteAscii(ReadOnlySpan<char> chars)
        {
            Position += Encoding.ASCII.GetBytes(chars, _span[Position..]);
        }

        public void WriteInt(int value)
        {
            value.TryFormat(_span[Position..], out int written, provider: CultureInfo.InvariantCulture);
            Position += written;
        }

        public Span<byte> Take(int length)
        {
            Span<byte> slice = _span.Slice(Position, length);
            Position += length;
            return slice;
        }
    }
}
