using System.Buffers;
using System.Text;
using FsCheck.Xunit;
using WsGateway.Connections.Handshake;
using WsGateway.Tests.Infrastructure;

namespace WsGateway.Tests.Handshake;

public class HandshakeParserTests
{
    private const int Limit = 8192;

    private const string ValidRequest =
        "GET /ws?session=7 HTTP/1.1\r\n" +
        "Host: gw.example.com:8443\r\n" +
        "Upgrade: websocket\r\n" +
        "Connection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
        "Sec-WebSocket-Version: 13\r\n" +
        "Origin: https://app.example.com\r\n" +
        "Sec-WebSocket-Protocol: sbe.v1, json\r\n" +
        "Authorization: Bearer abc\r\n" +
        "\r\n";

    // A masked binary frame the client sent right behind the handshake.
    private static readonly byte[] s_frame = [0x82, 0x83, 0x01, 0x02, 0x03, 0x04, 0xAA, 0xBB, 0xCC];

    private static byte[] Bytes(string text) => Encoding.Latin1.GetBytes(text);

    /// <summary>Request line plus header lines separated by '|', with CRLF endings and the blank line added.</summary>
    private static byte[] Lines(string lines) => Bytes(lines.Replace("|", "\r\n", StringComparison.Ordinal) + "\r\n\r\n");

    private static HandshakeParseStatus Parse(ReadOnlySequence<byte> buffer, out SequencePosition consumed, out HandshakeRequest? request, out string? error, int limit = Limit, string? path = null)
        => HandshakeParser.TryParse(buffer, limit, path, out consumed, out request, out error);

    private static HandshakeParseStatus Parse(byte[] bytes, out HandshakeRequest? request, out string? error, int limit = Limit, string? path = null)
        => Parse(new ReadOnlySequence<byte>(bytes), out _, out request, out error, limit, path);

    private static void AssertValid(HandshakeRequest? request)
    {
        Assert.NotNull(request);
        Assert.Equal("/ws", request.Path);
        Assert.Equal("session=7", request.QueryString);
        Assert.Equal("dGhlIHNhbXBsZSBub25jZQ==", request.Key);
        Assert.Equal("gw.example.com:8443", request.Host);
        Assert.Equal("https://app.example.com", request.Origin);
        Assert.Equal(["sbe.v1", "json"], request.SubProtocols);
        Assert.Equal(8, request.HeaderCount);
        Assert.Equal("Bearer abc", request.GetHeader("authorization"));
        Assert.Equal("Bearer abc", request.GetHeader("AUTHORIZATION"));
        Assert.Null(request.GetHeader("Cookie"));
    }

    [Fact]
    public void Parses_a_valid_request_in_one_segment()
    {
        var buffer = new ReadOnlySequence<byte>(Bytes(ValidRequest));

        HandshakeParseStatus status = Parse(buffer, out SequencePosition consumed, out HandshakeRequest? request, out string? error);

        Assert.Equal(HandshakeParseStatus.Ok, status);
        Assert.Null(error);
        Assert.Equal(buffer.End, consumed);
        AssertValid(request);
    }

    [Fact]
    public void Parses_the_same_request_split_at_every_position()
    {
        byte[] bytes = Bytes(ValidRequest + Encoding.Latin1.GetString(s_frame));
        for (int cut = 0; cut <= bytes.Length; cut++)
        {
            ReadOnlySequence<byte> buffer = SequenceFactory.Split(bytes, cut);

            HandshakeParseStatus status = Parse(buffer, out SequencePosition consumed, out HandshakeRequest? request, out string? error);

            Assert.True(status == HandshakeParseStatus.Ok, $"cut at {cut}: {status} {error}");
            AssertValid(request);
            Assert.Equal(s_frame, buffer.Slice(consumed).ToArray());
        }
    }

    [Fact]
    public void Parses_the_same_request_one_byte_per_segment()
    {
        ReadOnlySequence<byte> buffer = SequenceFactory.SplitEveryByte(Bytes(ValidRequest + Encoding.Latin1.GetString(s_frame)));

        HandshakeParseStatus status = Parse(buffer, out SequencePosition consumed, out HandshakeRequest? request, out _);

        Assert.Equal(HandshakeParseStatus.Ok, status);
        AssertValid(request);
        Assert.Equal(s_frame, buffer.Slice(consumed).ToArray());
    }

    [Property(MaxTest = 300)]
    public void Parses_the_same_request_split_at_random_positions(int[] cuts)
    {
        byte[] bytes = Bytes(ValidRequest + Encoding.Latin1.GetString(s_frame));
        int[] positions = (cuts ?? []).Select(c => (int)((uint)c % (uint)(bytes.Length + 1))).Order().ToArray();
        ReadOnlySequence<byte> buffer = SequenceFactory.Split(bytes, positions);

        HandshakeParseStatus status = Parse(buffer, out SequencePosition consumed, out HandshakeRequest? request, out _);

        Assert.Equal(HandshakeParseStatus.Ok, status);
        AssertValid(request);
        Assert.Equal(s_frame, buffer.Slice(consumed).ToArray());
    }

    [Fact]
    public void Every_strict_prefix_is_incomplete_and_consumes_nothing()
    {
        byte[] bytes = Bytes(ValidRequest);
        for (int length = 0; length < bytes.Length; length++)
        {
            foreach (ReadOnlySequence<byte> buffer in new[] { new ReadOnlySequence<byte>(bytes, 0, length), SequenceFactory.SplitEveryByte(bytes[..length]) })
            {
                HandshakeParseStatus status = Parse(buffer, out SequencePosition consumed, out HandshakeRequest? request, out string? error);

                Assert.True(status == HandshakeParseStatus.Incomplete, $"prefix of {length}: {status} {error}");
                Assert.Null(request);
                Assert.Equal(buffer.Start, consumed);
            }
        }
    }

    [Fact]
    public void Leaves_frame_bytes_after_the_blank_line_in_the_buffer()
    {
        byte[] bytes = [.. Bytes(ValidRequest), .. s_frame];
        var buffer = new ReadOnlySequence<byte>(bytes);

        Assert.Equal(HandshakeParseStatus.Ok, Parse(buffer, out SequencePosition consumed, out _, out _));

        Assert.Equal(ValidRequest.Length, buffer.Slice(0, consumed).Length);
        Assert.Equal(s_frame, buffer.Slice(consumed).ToArray());
    }

    [Theory]
    // Sec-WebSocket-Key (RFC 6455 §4.1 item 7)
    [InlineData("GET / HTTP/1.1|Host: h|Upgrade: websocket|Connection: Upgrade|Sec-WebSocket-Version: 13",
        400, "Sec-WebSocket-Key header is missing")]
    [InlineData("GET / HTTP/1.1|Host: h|Upgrade: websocket|Connection: Upgrade|Sec-WebSocket-Key: not base64!|Sec-WebSocket-Version: 13",
        400, "Sec-WebSocket-Key must be base64 of 16 bytes, got 'not base64!' which is not base64")]
    [InlineData("GET / HTTP/1.1|Host: h|Upgrade: websocket|Connection: Upgrade|Sec-WebSocket-Key: AAAAAAAAAAAAAAAA|Sec-WebSocket-Version: 13",
        400, "Sec-WebSocket-Key must be base64 of 16 bytes, got 12 bytes")]
    [InlineData("GET / HTTP/1.1|Host: h|Upgrade: websocket|Connection: Upgrade|Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==|Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==|Sec-WebSocket-Version: 13",
        400, "Sec-WebSocket-Key must appear exactly once")]
    // Upgrade and Connection (items 3, 4)
    [InlineData("GET / HTTP/1.1|Host: h|Connection: Upgrade|Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==|Sec-WebSocket-Version: 13",
        400, "Upgrade header is missing; expected 'Upgrade: websocket'")]
    [InlineData("GET / HTTP/1.1|Host: h|Upgrade: h2c|Connection: Upgrade|Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==|Sec-WebSocket-Version: 13",
        400, "Upgrade header must contain 'websocket'; got 'h2c'")]
    [InlineData("GET / HTTP/1.1|Host: h|Upgrade: websocket|Connection: keep-alive|Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==|Sec-WebSocket-Version: 13",
        400, "Connection header must contain the 'Upgrade' token; got 'keep-alive'")]
    [InlineData("GET / HTTP/1.1|Host: h|Upgrade: websocket|Connection: Upgraded|Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==|Sec-WebSocket-Version: 13",
        400, "Connection header must contain the 'Upgrade' token")]
    [InlineData("GET / HTTP/1.1|Host: h|Upgrade: websocket|Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==|Sec-WebSocket-Version: 13",
        400, "Connection header is missing")]
    // Sec-WebSocket-Version (item 6, §4.2.2)
    [InlineData("GET / HTTP/1.1|Host: h|Upgrade: websocket|Connection: Upgrade|Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==|Sec-WebSocket-Version: 8",
        426, "Sec-WebSocket-Version '8' is not supported; expected 13")]
    [InlineData("GET / HTTP/1.1|Host: h|Upgrade: websocket|Connection: Upgrade|Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        400, "Sec-WebSocket-Version header is missing; expected 13")]
    [InlineData("GET / HTTP/1.1|Host: h|Upgrade: websocket|Connection: Upgrade|Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==|Sec-WebSocket-Version: 13|Sec-WebSocket-Version: 13",
        400, "Sec-WebSocket-Version must appear exactly once")]
    // Request line (item 1)
    [InlineData("POST / HTTP/1.1|Host: h|Upgrade: websocket|Connection: Upgrade|Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==|Sec-WebSocket-Version: 13",
        405, "Method 'POST' is not allowed; the WebSocket handshake must use GET")]
    [InlineData("get / HTTP/1.1|Host: h|Upgrade: websocket|Connection: Upgrade|Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==|Sec-WebSocket-Version: 13",
        405, "Method 'get' is not allowed")]
    [InlineData("GET / HTTP/1.0|Host: h|Upgrade: websocket|Connection: Upgrade|Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==|Sec-WebSocket-Version: 13",
        400, "The WebSocket handshake requires HTTP/1.1; got HTTP/1.0")]
    [InlineData("GET / HTTP/2.0|Host: h|Upgrade: websocket|Connection: Upgrade|Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==|Sec-WebSocket-Version: 13",
        400, "requires HTTP/1.1; got HTTP/2.0")]
    [InlineData("GET / http/1.1|Host: h", 400, "Malformed request line 'GET / http/1.1'; expected 'GET <path> HTTP/1.1'")]
    [InlineData("GET  / HTTP/1.1|Host: h", 400, "Malformed request line")]
    [InlineData("GET /|Host: h", 400, "Malformed request line")]
    [InlineData("GET * HTTP/1.1|Host: h", 400, "Request target '*' must be an absolute path such as '/ws'")]
    [InlineData("GET /a#frag HTTP/1.1|Host: h", 400, "Request target '/a#frag' contains a character that is not allowed")]
    // Header syntax (RFC 9112 §5, RFC 9110 §5.5) and Host (RFC 9112 §3.2)
    [InlineData("GET / HTTP/1.1|Host : h|Upgrade: websocket", 400, "Header 'Host' has whitespace before the colon, which is not allowed (RFC 9112 §5.1)")]
    [InlineData("GET / HTTP/1.1|Host: h|Upgrade: websocket,| h2c", 400, "Header line 3 starts with whitespace: obsolete line folding is not allowed")]
    [InlineData("GET / HTTP/1.1| Host: h", 400, "Whitespace before the first header field is not allowed")]
    [InlineData("GET / HTTP/1.1|Ho(st: h", 400, "Header field name 'Ho(st' contains a character that is not allowed in a token")]
    [InlineData("GET / HTTP/1.1|Host h", 400, "Header line 1 has no colon")]
    [InlineData("GET / HTTP/1.1|: h", 400, "Header line 1 has an empty field name")]
    [InlineData("GET / HTTP/1.1|Host: h\u0001", 400, "Header 'Host' value contains a control character")]
    [InlineData("GET / HTTP/1.1|Host: a\rb", 400, "Header 'Host' value contains a control character")]
    [InlineData("GET / HTTP/1.1|Host: h|Host: h", 400, "Host must appear exactly once")]
    [InlineData("GET / HTTP/1.1|Upgrade: websocket|Connection: Upgrade|Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==|Sec-WebSocket-Version: 13",
        400, "Host header is required")]
    [InlineData("GET / HTTP/1.1|Host: a b|Upgrade: websocket|Connection: Upgrade|Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==|Sec-WebSocket-Version: 13",
        400, "Host header 'a b' is not a valid host[:port]")]
    [InlineData("GET / HTTP/1.1|Host: h|Origin: a|Origin: b", 400, "Origin must appear exactly once")]
    // A body cannot precede the frames.
    [InlineData("GET / HTTP/1.1|Host: h|Content-Length: 5", 400, "must not have a body; got Content-Length: 5")]
    [InlineData("GET / HTTP/1.1|Host: h|Transfer-Encoding: chunked", 400, "Transfer-Encoding is not allowed")]
    [InlineData("GET / HTTP/1.1|Host: h|Upgrade: websocket|Connection: Upgrade|Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==|Sec-WebSocket-Version: 13|Sec-WebSocket-Protocol: a b",
        400, "Sec-WebSocket-Protocol element 'a b' is not a token")]
    public void Rejects_with_status_and_reason(string lines, int statusCode, string expectedError)
    {
        byte[] bytes = Lines(lines);

        HandshakeParseStatus status = Parse(bytes, out HandshakeRequest? request, out string? error);

        Assert.Equal(statusCode, HandshakeResponse.GetStatusCode(status));
        Assert.Null(request);
        Assert.NotNull(error);
        Assert.Contains(expectedError, error, StringComparison.Ordinal);

        // Same verdict when the request arrives in pieces.
        HandshakeParseStatus split = Parse(SequenceFactory.SplitEveryByte(bytes), out SequencePosition consumed, out _, out string? splitError);
        Assert.Equal(status, split);
        Assert.Equal(error, splitError);
        Assert.Equal(0, consumed.GetInteger());
    }

    [Fact]
    public void Bare_LF_line_endings_are_rejected_as_soon_as_the_first_line_ends()
    {
        // RFC 9112 §2.2 allows accepting a bare LF; we do not (see HandshakeParser remarks). No need to wait for the blank line.
        byte[] bytes = Bytes("GET / HTTP/1.1\nHost: h\n");

        HandshakeParseStatus status = Parse(bytes, out _, out string? error);

        Assert.Equal(HandshakeParseStatus.BadRequest, status);
        Assert.Equal("The request line ends with a bare LF; lines must end with CRLF", error);
    }

    [Fact]
    public void Bare_LF_in_a_header_line_is_rejected()
    {
        byte[] bytes = Bytes("GET / HTTP/1.1\r\nHost: h\nUpgrade: websocket\r\n\r\n");

        Assert.Equal(HandshakeParseStatus.BadRequest, Parse(bytes, out _, out string? error));
        Assert.Equal("The header line 1 ends with a bare LF; lines must end with CRLF", error);
    }

    [Fact]
    public void A_bad_request_line_is_rejected_before_the_headers_arrive()
    {
        Assert.Equal(HandshakeParseStatus.MethodNotAllowed, Parse(Bytes("POST /ws HTTP/1.1\r\nHo"), out _, out _));
        Assert.Equal(HandshakeParseStatus.BadRequest, Parse(Bytes("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n"), out _, out _));
    }

    [Fact]
    public void Accepts_mixed_case_names_and_token_lists()
    {
        byte[] bytes = Lines(
            "GET /ws HTTP/1.1|hOST: h|upgrade: WebSocket|CONNECTION: keep-alive, Upgrade|sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==|SEC-WEBSOCKET-VERSION: 13");

        HandshakeParseStatus status = Parse(bytes, out HandshakeRequest? request, out string? error);

        Assert.True(status == HandshakeParseStatus.Ok, error);
        Assert.Equal("h", request!.Host);
        Assert.Equal("keep-alive, Upgrade", request.GetHeader("Connection"));
        Assert.Empty(request.SubProtocols);
        Assert.Null(request.QueryString);
        Assert.Null(request.Origin);
    }

    [Theory]
    [InlineData("Connection: keep-alive, Upgrade")]
    [InlineData("Connection: Upgrade,keep-alive")]
    [InlineData("Connection: keep-alive|Connection: upgrade")]
    [InlineData("Connection:\tUpgrade\t")]
    public void Finds_the_Upgrade_token_in_any_Connection_list(string connection)
    {
        byte[] bytes = Lines($"GET / HTTP/1.1|Host: h|Upgrade: h2c, websocket|{connection}|Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==|Sec-WebSocket-Version: 13");

        HandshakeParseStatus status = Parse(bytes, out _, out string? error);

        Assert.True(status == HandshakeParseStatus.Ok, error);
    }

    [Fact]
    public void Combines_repeated_fields_and_subprotocol_lines()
    {
        byte[] bytes = Lines(
            "GET / HTTP/1.1|Host: h|Upgrade: websocket|Connection: Upgrade|Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==|Sec-WebSocket-Version: 13" +
            "|Sec-WebSocket-Protocol: a, ,b|sec-websocket-protocol: c|X-Tag: one|X-Tag: two|Cookie: k=\xe9");

        Assert.Equal(HandshakeParseStatus.Ok, Parse(bytes, out HandshakeRequest? request, out _));

        Assert.Equal(["a", "b", "c"], request!.SubProtocols);
        Assert.Equal("one, two", request.GetHeader("x-tag"));
        Assert.Equal("k=\u00e9", request.GetHeader("Cookie")); // obs-text kept byte for byte (ISO-8859-1)
    }

    [Fact]
    public void Skips_empty_lines_before_the_request_line_and_accepts_HTTP_1_1_or_later_1_x()
    {
        byte[] bytes = Bytes("\r\n\r\n" + ValidRequest.Replace("HTTP/1.1", "HTTP/1.2", StringComparison.Ordinal));

        Assert.Equal(HandshakeParseStatus.Ok, Parse(bytes, out HandshakeRequest? request, out _));
        AssertValid(request);
    }

    [Theory]
    [InlineData("http://gw.example.com/ws?x=1", "/ws", "x=1")]
    [InlineData("HTTPS://gw.example.com:443", "/", null)]
    [InlineData("http://gw.example.com?q", "/", "q")]
    [InlineData("/ws?", "/ws", "")]
    public void Accepts_origin_form_and_absolute_form_targets(string target, string path, string? query)
    {
        byte[] bytes = Bytes(ValidRequest.Replace("/ws?session=7", target, StringComparison.Ordinal));

        Assert.Equal(HandshakeParseStatus.Ok, Parse(bytes, out HandshakeRequest? request, out _));

        Assert.Equal(path, request!.Path);
        Assert.Equal(query, request.QueryString);
    }

    [Fact]
    public void Configured_path_must_match()
    {
        byte[] bytes = Bytes(ValidRequest);

        Assert.Equal(HandshakeParseStatus.Ok, Parse(bytes, out _, out _, path: "/ws"));

        Assert.Equal(HandshakeParseStatus.NotFound, Parse(bytes, out _, out string? error, path: "/trades"));
        Assert.Equal("No WebSocket endpoint at '/ws'; expected '/trades'", error);
        Assert.Equal(HandshakeParseStatus.NotFound, Parse(bytes, out _, out _, path: "/WS"));
    }

    [Fact]
    public void Header_block_is_limited_to_maxHeaderBytes_including_the_blank_line()
    {
        byte[] bytes = Bytes(ValidRequest);

        Assert.Equal(HandshakeParseStatus.Ok, Parse(bytes, out _, out _, limit: bytes.Length));

        // Ends one byte beyond the limit.
        Assert.Equal(HandshakeParseStatus.HeaderTooLarge, Parse(bytes, out _, out string? error, limit: bytes.Length - 1));
        Assert.Equal($"Request header block exceeds the limit of {bytes.Length - 1} bytes", error);

        // Not ended yet, but already more than the limit: no point waiting.
        byte[] endless = Bytes("GET / HTTP/1.1\r\nHost: h\r\nCookie: " + new string('a', 9000));
        Assert.Equal(HandshakeParseStatus.HeaderTooLarge, Parse(endless, out _, out _));
        Assert.Equal(HandshakeParseStatus.HeaderTooLarge, Parse(SequenceFactory.Split(endless, 100, 4096, 8192), out _, out _, out _));

        // Not ended and within the limit: wait.
        Assert.Equal(HandshakeParseStatus.Incomplete, Parse(endless[..Limit], out _, out _));
    }

    [Fact]
    public void More_than_100_header_fields_is_431()
    {
        var lines = new StringBuilder("GET / HTTP/1.1|Host: h");
        for (int i = 0; i < HandshakeParser.MaxHeaderCount; i++)
        {
            lines.Append("|X: ").Append(i);
        }

        Assert.Equal(HandshakeParseStatus.HeaderTooLarge, Parse(Lines(lines.ToString()), out _, out string? error));
        Assert.Equal("Request has more than 100 header fields", error);
    }

    [Property(MaxTest = 500)]
    public void Never_throws_on_arbitrary_or_corrupted_input(byte[] junk, int position, byte value)
    {
        byte[] corrupted = Bytes(ValidRequest);
        corrupted[(int)((uint)position % (uint)corrupted.Length)] = value;

        foreach (byte[] bytes in new[] { junk ?? [], corrupted, [.. Bytes("GET / HTTP/1.1\r\n"), .. junk ?? []] })
        {
            HandshakeParseStatus status = Parse(SequenceFactory.Split(bytes, bytes.Length / 2), out _, out HandshakeRequest? request, out string? error, limit: 512);

            Assert.Equal(status == HandshakeParseStatus.Ok, request is not null);
            Assert.Equal(status is HandshakeParseStatus.Ok or HandshakeParseStatus.Incomplete, error is null);
        }
    }
}
