using System.Buffers;
using System.Text;

namespace WsGateway.Connections.Handshake;

/// <summary>
/// Parses the HTTP/1.1 Upgrade request that opens a WebSocket connection (RFC 6455 §4.2.1) straight from
/// the connection's <see cref="ReadOnlySequence{T}"/>.
/// </summary>
/// <remarks>
/// <code>
///   GET /ws?session=1 HTTP/1.1          request-line = method SP request-target SP HTTP-version CRLF
///   Host: gw.example.com                field-line   = field-name ":" OWS field-value OWS CRLF
///   Upgrade: websocket
///   Connection: keep-alive, Upgrade
///   Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
///   Sec-WebSocket-Version: 13
///                                       CRLF (end of the header block; frames may follow at once)
/// </code>
/// The parser is stateless: call it again with the whole buffer after more bytes arrive. It reports an
/// error as soon as a complete line is wrong (a bad request line does not wait for the headers), so
/// garbage is rejected without waiting for the size limit or the handshake timeout.
/// Strictness, and why:
/// <list type="bullet">
/// <item>Lines must end in CRLF. RFC 9112 §2.2 lets a recipient accept a bare LF; we reject it with 400
/// because a lenient split is how request smuggling starts and no WebSocket client sends bare LF.</item>
/// <item>Empty lines before the request line are skipped (RFC 9112 §2.2 SHOULD).</item>
/// <item>Whitespace before the colon and obs-fold are rejected with 400 (RFC 9112 §5.1, §5.2).</item>
/// <item>CTLs other than HTAB in a value are rejected (RFC 9110 §5.5); obs-text (0x80-0xFF) is kept.</item>
/// <item>HTTP/1.1 and later 1.x minors are accepted (RFC 6455 §4.2.1 "HTTP/1.1 or higher", RFC 9112 §2.3);
/// HTTP/1.0 and other majors get 400.</item>
/// <item>origin-form and absolute-form (http/https) targets are accepted (RFC 9112 §3.2.2, RFC 6455 §4.1).</item>
/// <item>A request body (Transfer-Encoding, or a non-zero Content-Length) is rejected: bytes after the blank
/// line are WebSocket frames and cannot also be a body.</item>
/// </list>
/// </remarks>
internal static class HandshakeParser
{
    /// <summary>Most header field lines accepted (Kestrel's MaxRequestHeaderCount default); more gives 431.</summary>
    public const int MaxHeaderCount = 100;

    /// <summary>The only Sec-WebSocket-Version this server speaks.</summary>
    public const string SupportedVersion = UpgradeRequestRules.SupportedVersion;

    private const int StackCopyLimit = 2048;
    private const int MaxEchoLength = 64;
    private const byte CR = (byte)'\r';
    private const byte LF = (byte)'\n';

    // tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA (RFC 9110 §5.6.2)
    private static readonly SearchValues<byte> s_tokenChars =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    // field-value allows HTAB, SP, VCHAR and obs-text; everything else below 0x20 and DEL is invalid (RFC 9110 §5.5).
    private static readonly SearchValues<byte> s_invalidValueBytes = SearchValues.Create(
        [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F,
         0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F, 0x7F]);

    // Host = uri-host [ ":" port ]: reg-name, IPv4 or an IP-literal in brackets (RFC 3986 §3.2.2).
    private static readonly SearchValues<byte> s_hostChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%!$&'()*+,;=:[]"u8);

    /// <summary>Parses a handshake for a server that accepts any path.</summary>
    /// <inheritdoc cref="TryParse(in ReadOnlySequence{byte}, int, string?, out SequencePosition, out HandshakeRequest?, out string?, bool)"/>
    public static HandshakeParseStatus TryParse(
        in ReadOnlySequence<byte> buffer,
        int maxHeaderBytes,
        out SequencePosition consumed,
        out HandshakeRequest? request,
        out string? error)
        => TryParse(buffer, maxHeaderBytes, expectedPath: null, out consumed, out request, out error);

    /// <summary>Parses the opening handshake at the start of <paramref name="buffer"/>.</summary>
    /// <param name="buffer">Everything read from the connection so far.</param>
    /// <param name="maxHeaderBytes">
    /// Limit on the whole header block: request line, field lines and the final blank line.
    /// </param>
    /// <param name="expectedPath">When set, any other path (compared ordinally, not decoded) gives 404.</param>
    /// <param name="consumed">
    /// On <see cref="HandshakeParseStatus.Ok"/> the position just after the blank line; bytes after it are the
    /// client's first frames and must stay in the pipe. Otherwise <c>buffer.Start</c> (on
    /// <see cref="HandshakeParseStatus.Incomplete"/> advance with examined = <c>buffer.End</c>).
    /// </param>
    /// <param name="request">The parsed request on <see cref="HandshakeParseStatus.Ok"/>; otherwise <see langword="null"/>.</param>
    /// <param name="error">On a rejection, what was wrong and what was expected; suitable as the response body.</param>
    /// <param name="keepHeaders">Whether the request keeps a copy of every header field for
    /// <see cref="HandshakeRequest.GetHeader"/> (a handshake validator reads them); without, only the fields the
    /// handshake itself needs are kept, and the copy is not made.</param>
    public static HandshakeParseStatus TryParse(
        in ReadOnlySequence<byte> buffer,
        int maxHeaderBytes,
        string? expectedPath,
        out SequencePosition consumed,
        out HandshakeRequest? request,
        out string? error,
        bool keepHeaders = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxHeaderBytes);

        // Nothing past the limit can belong to an acceptable header block, so that is all we look at.
        bool overLimit = buffer.Length > maxHeaderBytes;
        int window = overLimit ? maxHeaderBytes : (int)buffer.Length;
        ReadOnlySpan<byte> first = buffer.FirstSpan;

        HandshakeParseStatus status;
        int headerLength;
        if (first.Length >= window)
        {
            status = Parse(first[..window], overLimit, maxHeaderBytes, expectedPath, keepHeaders, out headerLength, out request, out error);
        }
        else
        {
            // The block spans pooled segments (it crossed a buffer boundary): parse a contiguous copy of at most
            // maxHeaderBytes. This happens once per connection at most a few times; the common case is above.
            byte[]? rented = null;
            Span<byte> copy = window <= StackCopyLimit
                ? stackalloc byte[StackCopyLimit]
                : (rented = ArrayPool<byte>.Shared.Rent(window));
            copy = copy[..window];
            buffer.Slice(0, window).CopyTo(copy);
            try
            {
                status = Parse(copy, overLimit, maxHeaderBytes, expectedPath, keepHeaders, out headerLength, out request, out error);
            }
            finally
            {
                if (rented is not null)
                {
                    ArrayPool<byte>.Shared.Return(rented);
                }
            }
        }

        consumed = status == HandshakeParseStatus.Ok ? buffer.GetPosition(headerLength) : buffer.Start;
        return status;
    }

    private static HandshakeParseStatus Parse(
        ReadOnlySpan<byte> data,
        bool overLimit,
        int maxHeaderBytes,
        string? expectedPath,
        bool keepHeaders,
        out int headerLength,
        out HandshakeRequest? request,
        out string? error)
    {
        headerLength = 0;
        request = null;
        int pos = 0;

        // RFC 9112 §2.2: a server SHOULD ignore at least one empty line received before the request line.
        while (data.Length - pos >= 2 && data[pos] == CR && data[pos + 1] == LF)
        {
            pos += 2;
        }

        LineStatus lineStatus = ReadLine(data, ref pos, out ReadOnlySpan<byte> requestLine);
        if (lineStatus != LineStatus.Complete)
        {
            return NotComplete(lineStatus, overLimit, maxHeaderBytes, "request line", out error);
        }

        HandshakeParseStatus status = ParseRequestLine(requestLine, expectedPath, out string path, out string? query, out error);
        if (status != HandshakeParseStatus.Ok)
        {
            return status;
        }

        int sectionStart = pos;
        Span<HandshakeRequest.HeaderField> fields = stackalloc HandshakeRequest.HeaderField[MaxHeaderCount];
        int fieldCount = 0;
        var known = new KnownFields();

        while (true)
        {
            int lineStart = pos;
            lineStatus = ReadLine(data, ref pos, out ReadOnlySpan<byte> line);
            if (lineStatus != LineStatus.Complete)
            {
                return NotComplete(lineStatus, overLimit, maxHeaderBytes, $"header line {fieldCount + 1}", out error);
            }

            if (line.IsEmpty)
            {
                break;
            }

            if (line[0] is (byte)' ' or (byte)'\t')
            {
                error = fieldCount == 0
                    ? "Whitespace before the first header field is not allowed (RFC 9112 §2.2)"
                    : $"Header line {fieldCount + 1} starts with whitespace: obsolete line folding is not allowed (RFC 9112 §5.2)";
                return HandshakeParseStatus.BadRequest;
            }

            int colon = line.IndexOf((byte)':');
            if (colon < 0)
            {
                error = $"Header line {fieldCount + 1} has no colon; expected 'Name: value', got '{Echo(line)}'";
                return HandshakeParseStatus.BadRequest;
            }

            ReadOnlySpan<byte> name = line[..colon];
            if (name.IsEmpty)
            {
                error = $"Header line {fieldCount + 1} has an empty field name";
                return HandshakeParseStatus.BadRequest;
            }

            if (name[^1] is (byte)' ' or (byte)'\t')
            {
                error = $"Header '{Echo(name.TrimEnd(" \t"u8))}' has whitespace before the colon, which is not allowed (RFC 9112 §5.1)";
                return HandshakeParseStatus.BadRequest;
            }

            if (name.ContainsAnyExcept(s_tokenChars))
            {
                error = $"Header field name '{Echo(name)}' contains a character that is not allowed in a token (RFC 9110 §5.1)";
                return HandshakeParseStatus.BadRequest;
            }

            int valueStart = colon + 1;
            ReadOnlySpan<byte> rawValue = line[valueStart..];
            ReadOnlySpan<byte> value = rawValue.TrimStart(" \t"u8);
            valueStart += rawValue.Length - value.Length;
            value = value.TrimEnd(" \t"u8);
            if (value.ContainsAny(s_invalidValueBytes))
            {
                error = $"Header '{Echo(name)}' value contains a control character (RFC 9110 §5.5)";
                return HandshakeParseStatus.BadRequest;
            }

            if (fieldCount == MaxHeaderCount)
            {
                error = $"Request has more than {MaxHeaderCount} header fields";
                return HandshakeParseStatus.HeaderTooLarge;
            }

            int offset = lineStart - sectionStart;
            fields[fieldCount] = new HandshakeRequest.HeaderField(offset, colon, offset + valueStart, value.Length);
            if (!known.Add(name, value, fieldCount, out error))
            {
                return HandshakeParseStatus.BadRequest;
            }

            fieldCount++;
        }

        headerLength = pos;

        // The header section without the final blank line, copied once so the request can outlive the pipe buffer.
        ReadOnlySpan<byte> section = data[sectionStart..(pos - 2)];
        status = known.Validate(section, fields[..fieldCount], out string key, out string host, out string? origin, out IReadOnlyList<string> subProtocols, out error);
        if (status != HandshakeParseStatus.Ok)
        {
            return status;
        }

        request = keepHeaders
            ? new HandshakeRequest(path, query, key, origin, host, subProtocols, section.ToArray(), fields[..fieldCount].ToArray())
            : new HandshakeRequest(path, query, key, origin, host, subProtocols, [], []);
        return HandshakeParseStatus.Ok;
    }

    private static HandshakeParseStatus NotComplete(LineStatus lineStatus, bool overLimit, int maxHeaderBytes, string where, out string? error)
    {
        if (lineStatus == LineStatus.BareLineFeed)
        {
            error = $"The {where} ends with a bare LF; lines must end with CRLF";
            return HandshakeParseStatus.BadRequest;
        }

        if (overLimit)
        {
            error = $"Request header block exceeds the limit of {maxHeaderBytes} bytes";
            return HandshakeParseStatus.HeaderTooLarge;
        }

        error = null;
        return HandshakeParseStatus.Incomplete;
    }

    private static LineStatus ReadLine(ReadOnlySpan<byte> data, ref int pos, out ReadOnlySpan<byte> line)
    {
        int lf = data[pos..].IndexOf(LF);
        if (lf < 0)
        {
            line = default;
            return LineStatus.Incomplete;
        }

        if (lf == 0 || data[pos + lf - 1] != CR)
        {
            line = default;
            return LineStatus.BareLineFeed;
        }

        line = data.Slice(pos, lf - 1);
        pos += lf + 1;
        return LineStatus.Complete;
    }

    private static HandshakeParseStatus ParseRequestLine(
        ReadOnlySpan<byte> line,
        string? expectedPath,
        out string path,
        out string? query,
        out string? error)
    {
        path = string.Empty;
        query = null;

        // request-line = method SP request-target SP HTTP-version (RFC 9112 §3), single spaces.
        int sp1 = line.IndexOf((byte)' ');
        int sp2 = sp1 < 0 ? -1 : line[(sp1 + 1)..].IndexOf((byte)' ');
        if (sp1 <= 0 || sp2 <= 0)
        {
            error = $"Malformed request line '{Echo(line)}'; expected 'GET <path> HTTP/1.1'";
            return HandshakeParseStatus.BadRequest;
        }

        ReadOnlySpan<byte> method = line[..sp1];
        ReadOnlySpan<byte> target = line.Slice(sp1 + 1, sp2);
        ReadOnlySpan<byte> version = line[(sp1 + sp2 + 2)..];

        // HTTP-version = "HTTP" "/" DIGIT "." DIGIT, case-sensitive (RFC 9112 §2.3).
        bool versionSyntaxOk = version.Length == 8 && version.StartsWith("HTTP/"u8)
            && char.IsAsciiDigit((char)version[5]) && version[6] == (byte)'.' && char.IsAsciiDigit((char)version[7]);
        if (method.ContainsAnyExcept(s_tokenChars) || !versionSyntaxOk)
        {
            error = $"Malformed request line '{Echo(line)}'; expected 'GET <path> HTTP/1.1'";
            return HandshakeParseStatus.BadRequest;
        }

        // Methods are case-sensitive (RFC 9110 §9.1); RFC 6455 §4.1 requires GET.
        if (!method.SequenceEqual("GET"u8))
        {
            error = $"Method '{Echo(method)}' is not allowed; the WebSocket handshake must use GET";
            return HandshakeParseStatus.MethodNotAllowed;
        }

        if (version[5] != (byte)'1' || version[7] == (byte)'0')
        {
            error = $"The WebSocket handshake requires HTTP/1.1; got {Echo(version)}";
            return HandshakeParseStatus.BadRequest;
        }

        // A request-target is visible ASCII; '#' (a fragment) never belongs in one (RFC 9112 §3.2, RFC 6455 §3).
        if (target.ContainsAnyExceptInRange((byte)0x21, (byte)0x7E) || target.Contains((byte)'#'))
        {
            error = $"Request target '{Echo(target)}' contains a character that is not allowed";
            return HandshakeParseStatus.BadRequest;
        }

        ReadOnlySpan<byte> pathAndQuery;
        if (target[0] == (byte)'/')
        {
            pathAndQuery = target; // origin-form
        }
        else if (TryStripScheme(target, out ReadOnlySpan<byte> authorityAndRest))
        {
            // absolute-form: the path starts after the authority; an empty path means "/" (RFC 9112 §3.2.1).
            int end = authorityAndRest.IndexOfAny((byte)'/', (byte)'?');
            if (end == 0 || authorityAndRest.IsEmpty)
            {
                error = $"Request target '{Echo(target)}' has an empty authority";
                return HandshakeParseStatus.BadRequest;
            }

            pathAndQuery = end < 0 ? default : authorityAndRest[end..];
        }
        else
        {
            error = $"Request target '{Echo(target)}' must be an absolute path such as '/ws'";
            return HandshakeParseStatus.BadRequest;
        }

        int question = pathAndQuery.IndexOf((byte)'?');
        ReadOnlySpan<byte> pathBytes = question < 0 ? pathAndQuery : pathAndQuery[..question];
        if (expectedPath is not null && !(pathBytes.IsEmpty ? expectedPath == "/" : Ascii.Equals(pathBytes, expectedPath)))
        {
            error = $"No WebSocket endpoint at '{Echo(pathBytes.IsEmpty ? "/"u8 : pathBytes)}'; expected '{expectedPath}'";
            return HandshakeParseStatus.NotFound;
        }

        path = pathBytes.IsEmpty || pathBytes.SequenceEqual("/"u8) ? "/" : Encoding.ASCII.GetString(pathBytes);
        query = question < 0 ? null : Encoding.ASCII.GetString(pathAndQuery[(question + 1)..]);
        error = null;
        return HandshakeParseStatus.Ok;
    }

    private static bool TryStripScheme(ReadOnlySpan<byte> target, out ReadOnlySpan<byte> rest)
    {
        if (target.Length >= 7 && Ascii.EqualsIgnoreCase(target[..7], "http://"u8))
        {
            rest = target[7..];
            return true;
        }

        if (target.Length >= 8 && Ascii.EqualsIgnoreCase(target[..8], "https://"u8))
        {
            rest = target[8..];
            return true;
        }

        rest = default;
        return false;
    }

    /// <summary>Client input rendered for an error message: bounded, printable ASCII, other bytes as \xNN.</summary>
    internal static string Echo(ReadOnlySpan<byte> bytes)
    {
        var builder = new StringBuilder(Math.Min(bytes.Length, MaxEchoLength) + 3);
        foreach (byte b in bytes)
        {
            if (builder.Length >= MaxEchoLength)
            {
                builder.Append("...");
                break;
            }

            if (b is >= 0x20 and < 0x7F && b != (byte)'\'')
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append(@"\x").Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }

    private enum LineStatus
    {
        Complete,
        Incomplete,
        BareLineFeed,
    }

    /// <summary>Indices of the fields the handshake depends on, collected while the lines are read.</summary>
    internal struct KnownFields
    {
        private int _host;
        private int _key;
        private int _version;
        private int _origin;
        private int _upgrade;
        private int _connection;
        private int _protocolCount;
        private bool _upgradeHasWebSocket;
        private bool _connectionHasUpgrade;

        public KnownFields()
        {
            _host = _key = _version = _origin = _upgrade = _connection = -1;
        }

        public bool Add(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, int index, out string? error)
        {
            error = null;
            switch (name.Length)
            {
                case 4 when Ascii.EqualsIgnoreCase(name, "Host"u8):
                    // RFC 9112 §3.2: more than one Host field line is a 400.
                    return SetOnce(ref _host, index, "Host", out error);
                case 6 when Ascii.EqualsIgnoreCase(name, "Origin"u8):
                    // Two Origins would let one layer check the first while another trusts the last.
                    return SetOnce(ref _origin, index, "Origin", out error);
                case 7 when Ascii.EqualsIgnoreCase(name, "Upgrade"u8):
                    _upgrade = _upgrade < 0 ? index : _upgrade;
                    _upgradeHasWebSocket |= UpgradeRequestRules.ListsWebSocket(value);
                    return true;
                case 10 when Ascii.EqualsIgnoreCase(name, "Connection"u8):
                    _connection = _connection < 0 ? index : _connection;
                    _connectionHasUpgrade |= UpgradeRequestRules.ListsUpgrade(value);
                    return true;
                case 14 when Ascii.EqualsIgnoreCase(name, "Content-Length"u8):
                    if (!value.SequenceEqual("0"u8))
                    {
                        error = $"The handshake request must not have a body; got Content-Length: {Echo(value)}";
                        return false;
                    }

                    return true;
                case 17 when Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8):
                    error = "The handshake request must not have a body; Transfer-Encoding is not allowed";
                    return false;
                case 17 when Ascii.EqualsIgnoreCase(name, "Sec-WebSocket-Key"u8):
                    return SetOnce(ref _key, index, "Sec-WebSocket-Key", out error);
                case 21 when Ascii.EqualsIgnoreCase(name, "Sec-WebSocket-Version"u8):
                    // RFC 6455 §11.3.5: MUST NOT appear more than once in a request.
                    return SetOnce(ref _version, index, "Sec-WebSocket-Version", out error);
                case 22 when Ascii.EqualsIgnoreCase(name, "Sec-WebSocket-Protocol"u8):
                    _protocolCount++;
                    return true;
                default:
                    return true;
            }
        }

        private static bool SetOnce(ref int slot, int index, string name, out string? error)
        {
            if (slot >= 0)
            {
                error = UpgradeRequestRules.Repeated(name);
                return false;
            }

            slot = index;
            error = null;
            return true;
        }

        /// <summary>RFC 6455 §4.2.1 items 2-6, in the order a client is best helped by hearing about them.</summary>
        public readonly HandshakeParseStatus Validate(
            ReadOnlySpan<byte> section,
            ReadOnlySpan<HandshakeRequest.HeaderField> fields,
            out string key,
            out string host,
            out string? origin,
            out IReadOnlyList<string> subProtocols,
            out string? error)
        {
            key = host = string.Empty;
            origin = null;
            subProtocols = [];

            if (_host < 0)
            {
                error = "Host header is required (RFC 9112 §3.2)";
                return HandshakeParseStatus.BadRequest;
            }

            ReadOnlySpan<byte> hostValue = Value(section, fields[_host]);
            if (hostValue.IsEmpty || hostValue.ContainsAnyExcept(s_hostChars))
            {
                error = $"Host header '{Echo(hostValue)}' is not a valid host[:port]";
                return HandshakeParseStatus.BadRequest;
            }

            // RFC 6455 §4.2.1 items 3-6, shared with the ASP.NET Core path (Hosting.HandshakeValidator).
            if (!UpgradeRequestRules.CheckUpgrade(_upgrade >= 0, _upgradeHasWebSocket, ValueOrEmpty(section, fields, _upgrade), out error)
                || !UpgradeRequestRules.CheckConnection(_connection >= 0, _connectionHasUpgrade, ValueOrEmpty(section, fields, _connection), out error))
            {
                return HandshakeParseStatus.BadRequest;
            }

            HandshakeParseStatus versionStatus = UpgradeRequestRules.CheckVersion(_version >= 0, ValueOrEmpty(section, fields, _version), out error);
            if (versionStatus != HandshakeParseStatus.Ok)
            {
                return versionStatus;
            }

            ReadOnlySpan<byte> keyValue = ValueOrEmpty(section, fields, _key);
            if (!UpgradeRequestRules.CheckKey(_key >= 0, keyValue, out error))
            {
                return HandshakeParseStatus.BadRequest;
            }

            if (_protocolCount > 0 && !ParseSubProtocols(section, fields, _protocolCount, out subProtocols, out error))
            {
                return HandshakeParseStatus.BadRequest;
            }

            key = Encoding.ASCII.GetString(keyValue);
            host = Encoding.Latin1.GetString(hostValue);
            origin = _origin < 0 ? null : Encoding.Latin1.GetString(Value(section, fields[_origin]));
            error = null;
            return HandshakeParseStatus.Ok;
        }

        private static ReadOnlySpan<byte> Value(ReadOnlySpan<byte> section, HandshakeRequest.HeaderField field)
            => section.Slice(field.ValueStart, field.ValueLength);

        private static ReadOnlySpan<byte> ValueOrEmpty(ReadOnlySpan<byte> section, ReadOnlySpan<HandshakeRequest.HeaderField> fields, int index)
            => index < 0 ? default : Value(section, fields[index]);

        /// <summary>Sec-WebSocket-Protocol: 1#token over any number of field lines (RFC 6455 §4.1 item 10, §11.3.4).</summary>
        private static bool ParseSubProtocols(
            ReadOnlySpan<byte> section,
            ReadOnlySpan<HandshakeRequest.HeaderField> fields,
            int lineCount,
            out IReadOnlyList<string> subProtocols,
            out string? error)
        {
            var list = new List<string>(lineCount * 2);
            foreach (HandshakeRequest.HeaderField field in fields)
            {
                if (!Ascii.EqualsIgnoreCase(section.Slice(field.NameStart, field.NameLength), "Sec-WebSocket-Protocol"u8))
                {
                    continue;
                }

                ReadOnlySpan<byte> value = Value(section, field);
                foreach (Range range in value.Split((byte)','))
                {
                    ReadOnlySpan<byte> element = value[range].Trim(" \t"u8);
                    if (element.IsEmpty)
                    {
                        continue; // empty list elements are ignored (RFC 9110 §5.6.1)
                    }

                    if (element.ContainsAnyExcept(s_tokenChars))
                    {
                        subProtocols = [];
                        error = $"Sec-WebSocket-Protocol element '{Echo(element)}' is not a token";
                        return false;
                    }

                    list.Add(Encoding.ASCII.GetString(element));
                }
            }

            subProtocols = list;
            error = null;
            return true;
        }
    }
}
