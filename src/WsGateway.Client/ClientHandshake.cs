using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Text;

namespace WsGateway.Client;

/// <summary>
/// The client's side of the opening handshake (RFC 6455 §4.1): writes the upgrade request, reads the response
/// through the connection's <see cref="PipeReader"/> (so frames the server sends right after its 101 stay in the
/// pipe for the receive path), and checks status, <c>Upgrade</c>, <c>Connection</c> and <c>Sec-WebSocket-Accept</c>.
/// Runs once per connection; allocation here is not on any hot path.
/// </summary>
internal static class ClientHandshake
{
    /// <summary>Largest response head (status line and headers) read before giving up.</summary>
    public const int MaxResponseHeadLength = 16 * 1024;

    /// <summary>Most bytes of an error response body kept for <see cref="WebSocketHandshakeException.ResponseBody"/>.</summary>
    public const int MaxBodyLength = 64 * 1024;

    /// <summary>Most bytes of an error response body quoted in the exception's message.</summary>
    public const int MaxBodyInMessage = 200;

    private const string WebSocketGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    private static readonly string[] s_reservedHeaders =
        ["Host", "Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Accept", "Sec-WebSocket-Extensions", "Sec-WebSocket-Protocol", "Content-Length", "Transfer-Encoding"];

    private static ReadOnlySpan<byte> HeadEnd => "\r\n\r\n"u8;

    /// <summary>A new Sec-WebSocket-Key: 16 random bytes, base64 (§4.1 item 7).</summary>
    public static string CreateKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));

    /// <summary>The Sec-WebSocket-Accept the server must answer <paramref name="key"/> with: base64(SHA-1(key + GUID)).</summary>
    public static string ComputeAccept(string key)
    {
        // SHA-1 is what RFC 6455 prescribes; it proves the server read the handshake, it is not a security boundary.
#pragma warning disable CA5350 // Do not use weak cryptographic algorithms
        return Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + WebSocketGuid)));
#pragma warning restore CA5350
    }

    /// <summary>Why a user header cannot be sent, or <see langword="null"/> when it can.</summary>
    public static string? ValidateHeader(string? name, string? value)
    {
        if (string.IsNullOrEmpty(name) || !IsToken(name))
        {
            return $"Request header name '{name}' is not a valid HTTP token";
        }

        if (Array.Exists(s_reservedHeaders, h => h.Equals(name, StringComparison.OrdinalIgnoreCase)))
        {
            return $"Request header '{name}' is set by the WebSocket handshake itself";
        }

        if (value is null || value.AsSpan().ContainsAnyInRange('\0', '\x1f') || value.Contains('\x7f', StringComparison.Ordinal) || !Ascii.IsValid(value))
        {
            return $"Request header '{name}' has a value with control or non-ASCII characters";
        }

        return null;
    }

    /// <summary>The request bytes: GET with Host, Upgrade, Connection, Sec-WebSocket-Key, Sec-WebSocket-Version 13
    /// and the caller's headers.</summary>
    public static byte[] BuildRequest(Uri url, string key, IEnumerable<KeyValuePair<string, string>> headers)
    {
        var request = new StringBuilder(256);
        request.Append("GET ").Append(url.PathAndQuery).Append(" HTTP/1.1\r\n");
        request.Append("Host: ").Append(HostHeader(url)).Append("\r\n");
        request.Append("Upgrade: websocket\r\nConnection: Upgrade\r\n");
        request.Append("Sec-WebSocket-Key: ").Append(key).Append("\r\n");
        request.Append("Sec-WebSocket-Version: 13\r\n");
        foreach (KeyValuePair<string, string> header in headers)
        {
            request.Append(header.Key).Append(": ").Append(header.Value).Append("\r\n");
        }

        request.Append("\r\n");
        return Encoding.ASCII.GetBytes(request.ToString());
    }

    /// <summary>Reads and checks the server's response. On success the pipe is positioned at the first frame.</summary>
    /// <exception cref="WebSocketHandshakeException">Not 101, or a 101 that fails a check.</exception>
    public static async Task ReadResponseAsync(PipeReader input, string key, CancellationToken cancellationToken)
    {
        string head = await ReadHeadAsync(input, cancellationToken).ConfigureAwait(false);
        string[] lines = head.Split("\r\n");
        int status = ParseStatusLine(lines[0]);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (int i = 1; i < lines.Length; i++)
        {
            int colon = lines[i].IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                throw new WebSocketHandshakeException(status, string.Empty, $"Malformed response header line '{lines[i]}'");
            }

            string name = lines[i][..colon].Trim();
            string value = lines[i][(colon + 1)..].Trim();
            headers[name] = headers.TryGetValue(name, out string? earlier) ? earlier + ", " + value : value;
        }

        if (status != 101)
        {
            string body = await ReadBodyAsync(input, headers, cancellationToken).ConfigureAwait(false);
            throw new WebSocketHandshakeException(status, body, RefusalMessage(status, lines[0], body));
        }

        if (!headers.TryGetValue("Upgrade", out string? upgrade) || !upgrade.Equals("websocket", StringComparison.OrdinalIgnoreCase))
        {
            throw Invalid($"The 101 response has no 'Upgrade: websocket' header (got '{upgrade}')");
        }

        if (!headers.TryGetValue("Connection", out string? connection) || !HasToken(connection, "upgrade"))
        {
            throw Invalid($"The 101 response has no 'Connection: Upgrade' header (got '{connection}')");
        }

        string expected = ComputeAccept(key);
        if (!headers.TryGetValue("Sec-WebSocket-Accept", out string? accept) || accept != expected)
        {
            throw Invalid($"The 101 response's Sec-WebSocket-Accept is '{accept}', expected '{expected}'");
        }

        if (headers.TryGetValue("Sec-WebSocket-Extensions", out string? extensions))
        {
            throw Invalid($"The server selected extensions '{extensions}' that the client did not offer");
        }

        if (headers.TryGetValue("Sec-WebSocket-Protocol", out string? protocol))
        {
            throw Invalid($"The server selected subprotocol '{protocol}' that the client did not offer");
        }

        static WebSocketHandshakeException Invalid(string message) => new(101, string.Empty, message);
    }

    /// <summary>
    /// The message for a response other than 101: the status line, then at most <see cref="MaxBodyInMessage"/> bytes of
    /// the body on one line (whitespace runs and control characters become one space), then how much was left out.
    /// A refusal from a WebSocket server explains itself in a short body ("Connection limit reached: ..."), but a URL
    /// that points at a plain HTTP server gets a whole HTML page, which belongs in
    /// <see cref="WebSocketHandshakeException.ResponseBody"/>, not in an error line.
    /// </summary>
    internal static string RefusalMessage(int status, string statusLine, string body)
    {
        string what = status is >= 200 and < 400
            ? $"The server answered {statusLine} instead of 101 Switching Protocols: is the URL a WebSocket endpoint?"
            : $"The server refused the WebSocket handshake: {statusLine}";
        byte[] bytes = Encoding.UTF8.GetBytes(body.Trim());
        if (bytes.Length == 0)
        {
            return what;
        }

        int shown = Math.Min(bytes.Length, MaxBodyInMessage);
        while (shown < bytes.Length && shown > 0 && (bytes[shown] & 0xC0) == 0x80)
        {
            shown--; // never cut a UTF-8 sequence in two
        }

        var line = new StringBuilder(what.Length + shown + 40).Append(what).Append(": ");
        bool space = false;
        foreach (char c in Encoding.UTF8.GetString(bytes, 0, shown))
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                space = true;
                continue;
            }

            if (space)
            {
                line.Append(' ');
                space = false;
            }

            line.Append(c);
        }

        if (shown < bytes.Length)
        {
            line.Append(CultureInfo.InvariantCulture, $" ... ({bytes.Length - shown} more bytes of body)");
        }

        return line.ToString();
    }

    private static string HostHeader(Uri url)
    {
        string host = url.HostNameType == UriHostNameType.IPv6 ? "[" + url.IdnHost + "]" : url.IdnHost;
        return url.IsDefaultPort ? host : host + ":" + url.Port.ToString(CultureInfo.InvariantCulture);
    }

    private static async Task<string> ReadHeadAsync(PipeReader input, CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            var reader = new SequenceReader<byte>(buffer);
            if (reader.TryReadTo(out ReadOnlySequence<byte> head, HeadEnd, advancePastDelimiter: true))
            {
                if (head.Length > MaxResponseHeadLength)
                {
                    input.AdvanceTo(buffer.Start);
                    throw new WebSocketHandshakeException(0, string.Empty, $"The handshake response head is longer than {MaxResponseHeadLength} bytes");
                }

                string text = Encoding.Latin1.GetString(head);
                input.AdvanceTo(reader.Position);
                return text;
            }

            if (buffer.Length > MaxResponseHeadLength)
            {
                input.AdvanceTo(buffer.Start);
                throw new WebSocketHandshakeException(0, string.Empty, $"The handshake response head is longer than {MaxResponseHeadLength} bytes");
            }

            if (result.IsCompleted)
            {
                string received = Encoding.Latin1.GetString(buffer);
                input.AdvanceTo(buffer.End);
                throw new WebSocketHandshakeException(0, string.Empty, buffer.IsEmpty
                    ? "The server closed the connection without answering the WebSocket handshake"
                    : $"The server closed the connection in the middle of its handshake response: '{received}'");
            }

            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static int ParseStatusLine(string line)
    {
        // HTTP-version SP status-code SP [reason-phrase] (RFC 9112 §4).
        if (line.Length >= 12 && line.StartsWith("HTTP/1.", StringComparison.Ordinal) && line[8] == ' '
            && int.TryParse(line.AsSpan(9, 3), NumberStyles.None, CultureInfo.InvariantCulture, out int status)
            && (line.Length == 12 || line[12] == ' '))
        {
            return status;
        }

        throw new WebSocketHandshakeException(0, string.Empty, $"The server did not answer with an HTTP/1.1 status line: '{line}'");
    }

    private static async Task<string> ReadBodyAsync(PipeReader input, Dictionary<string, string> headers, CancellationToken cancellationToken)
    {
        byte[] body;
        if (headers.TryGetValue("Transfer-Encoding", out string? encoding) && HasToken(encoding, "chunked"))
        {
            body = await ReadChunkedAsync(input, cancellationToken).ConfigureAwait(false);
        }
        else if (headers.TryGetValue("Content-Length", out string? lengthText)
            && long.TryParse(lengthText, NumberStyles.None, CultureInfo.InvariantCulture, out long length))
        {
            body = await ReadBytesAsync(input, (int)Math.Min(length, MaxBodyLength), cancellationToken).ConfigureAwait(false);
        }
        else
        {
            // No framing: the body runs to the end of the connection.
            body = await ReadBytesAsync(input, MaxBodyLength, cancellationToken).ConfigureAwait(false);
        }

        return Encoding.UTF8.GetString(body);
    }

    // Reads up to `count` bytes, fewer if the connection ends first.
    private static async Task<byte[]> ReadBytesAsync(PipeReader input, int count, CancellationToken cancellationToken)
    {
        if (count == 0)
        {
            return [];
        }

        while (true)
        {
            ReadResult result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            if (buffer.Length >= count || result.IsCompleted)
            {
                ReadOnlySequence<byte> taken = buffer.Slice(0, Math.Min(buffer.Length, count));
                byte[] bytes = taken.ToArray();
                input.AdvanceTo(taken.End);
                return bytes;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    // RFC 9112 §7.1: chunk-size [ext] CRLF data CRLF ... 0 CRLF [trailers] CRLF. Keeps at most MaxBodyLength bytes.
    private static async Task<byte[]> ReadChunkedAsync(PipeReader input, CancellationToken cancellationToken)
    {
        var body = new ArrayBufferWriter<byte>();
        while (true)
        {
            string? sizeLine = await ReadLineAsync(input, cancellationToken).ConfigureAwait(false);
            if (sizeLine is null)
            {
                return body.WrittenSpan.ToArray();
            }

            int semicolon = sizeLine.IndexOf(';', StringComparison.Ordinal);
            string sizeText = (semicolon >= 0 ? sizeLine[..semicolon] : sizeLine).Trim();
            if (!int.TryParse(sizeText, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int size) || size < 0)
            {
                return body.WrittenSpan.ToArray();
            }

            if (size == 0 || body.WrittenCount + size > MaxBodyLength)
            {
                return body.WrittenSpan.ToArray();
            }

            byte[] chunk = await ReadBytesAsync(input, size, cancellationToken).ConfigureAwait(false);
            body.Write(chunk);
            if (chunk.Length < size || await ReadLineAsync(input, cancellationToken).ConfigureAwait(false) is null)
            {
                return body.WrittenSpan.ToArray();
            }
        }
    }

    private static async Task<string?> ReadLineAsync(PipeReader input, CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            var reader = new SequenceReader<byte>(buffer);
            if (reader.TryReadTo(out ReadOnlySequence<byte> line, "\r\n"u8, advancePastDelimiter: true))
            {
                string text = Encoding.Latin1.GetString(line);
                input.AdvanceTo(reader.Position);
                return text;
            }

            if (result.IsCompleted || buffer.Length > MaxResponseHeadLength)
            {
                input.AdvanceTo(buffer.End);
                return null;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static bool HasToken(string list, string token)
    {
        foreach (string part in list.Split(','))
        {
            if (part.Trim().Equals(token, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsToken(string name)
    {
        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal)))
            {
                return false;
            }
        }

        return true;
    }
}
