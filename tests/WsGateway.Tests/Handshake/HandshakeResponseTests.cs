using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using FsCheck.Xunit;
using WsGateway.Connections.Handshake;

namespace WsGateway.Tests.Handshake;

public class HandshakeResponseTests
{
    private static string Written(Action<IBufferWriter<byte>> write)
    {
        var output = new ArrayBufferWriter<byte>();
        write(output);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    [Fact]
    public void Accept_for_the_RFC_6455_example_key()
    {
        // RFC 6455 §1.3 (and §4.2.2 step 5.4).
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", HandshakeResponse.ComputeAccept("dGhlIHNhbXBsZSBub25jZQ=="));
    }

    [Property(MaxTest = 200)]
    public bool Accept_is_base64_of_SHA1_of_key_and_GUID(Guid nonce)
    {
        string key = Convert.ToBase64String(nonce.ToByteArray());
#pragma warning disable CA5350 // SHA-1 is what RFC 6455 prescribes.
        string expected = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
#pragma warning restore CA5350
        return HandshakeResponse.ComputeAccept(key) == expected;
    }

    [Fact]
    public void Writes_101_for_the_RFC_example_key()
    {
        string response = Written(o => HandshakeResponse.WriteSwitchingProtocols(o, "dGhlIHNhbXBsZSBub25jZQ=="));

        Assert.Equal(
            "HTTP/1.1 101 Switching Protocols\r\n" +
            "Upgrade: websocket\r\n" +
            "Connection: Upgrade\r\n" +
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
            "\r\n",
            response);
    }

    [Fact]
    public void Writes_101_with_the_chosen_subprotocol()
    {
        string response = Written(o => HandshakeResponse.WriteSwitchingProtocols(o, "dGhlIHNhbXBsZSBub25jZQ==", "sbe.v1"));

        Assert.Equal(
            "HTTP/1.1 101 Switching Protocols\r\n" +
            "Upgrade: websocket\r\n" +
            "Connection: Upgrade\r\n" +
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
            "Sec-WebSocket-Protocol: sbe.v1\r\n" +
            "\r\n",
            response);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a b")]
    [InlineData("x\r\nSet-Cookie: a=b")]
    public void Rejects_a_subprotocol_that_is_not_a_token(string subProtocol)
    {
        Assert.Throws<ArgumentException>(() => HandshakeResponse.WriteSwitchingProtocols(new ArrayBufferWriter<byte>(), "dGhlIHNhbXBsZSBub25jZQ==", subProtocol));
    }

    [Fact]
    public void Writes_426_with_the_supported_version()
    {
        string response = Written(o => HandshakeResponse.WriteError(o, HandshakeParseStatus.UnsupportedVersion, "Sec-WebSocket-Version '8' is not supported; expected 13"));

        Assert.Equal(
            "HTTP/1.1 426 Upgrade Required\r\n" +
            "Content-Type: text/plain; charset=utf-8\r\n" +
            "Content-Length: 56\r\n" +
            "Connection: Upgrade, close\r\n" +
            "Upgrade: websocket\r\n" +
            "Sec-WebSocket-Version: 13\r\n" +
            "\r\n" +
            "Sec-WebSocket-Version '8' is not supported; expected 13\n",
            response);
    }

    [Fact]
    public void Writes_405_with_Allow_GET()
    {
        string response = Written(o => HandshakeResponse.WriteError(o, HandshakeParseStatus.MethodNotAllowed, "Use GET"));

        Assert.Equal(
            "HTTP/1.1 405 Method Not Allowed\r\n" +
            "Content-Type: text/plain; charset=utf-8\r\n" +
            "Content-Length: 8\r\n" +
            "Connection: close\r\n" +
            "Allow: GET\r\n" +
            "\r\n" +
            "Use GET\n",
            response);
    }

    [Fact]
    public void Writes_503_with_Retry_After()
    {
        string response = Written(o => HandshakeResponse.WriteError(o, 503, "Connection limit of 10000 reached", [new("Retry-After", "5")]));

        Assert.Equal(
            "HTTP/1.1 503 Service Unavailable\r\n" +
            "Content-Type: text/plain; charset=utf-8\r\n" +
            "Content-Length: 34\r\n" +
            "Connection: close\r\n" +
            "Retry-After: 5\r\n" +
            "\r\n" +
            "Connection limit of 10000 reached\n",
            response);
    }

    [Theory]
    [InlineData(400, "HTTP/1.1 400 Bad Request\r\n")]
    [InlineData(401, "HTTP/1.1 401 Unauthorized\r\n")]
    [InlineData(403, "HTTP/1.1 403 Forbidden\r\n")]
    [InlineData(404, "HTTP/1.1 404 Not Found\r\n")]
    [InlineData(405, "HTTP/1.1 405 Method Not Allowed\r\n")]
    [InlineData(408, "HTTP/1.1 408 Request Timeout\r\n")]
    [InlineData(426, "HTTP/1.1 426 Upgrade Required\r\n")]
    [InlineData(431, "HTTP/1.1 431 Request Header Fields Too Large\r\n")]
    [InlineData(503, "HTTP/1.1 503 Service Unavailable\r\n")]
    [InlineData(599, "HTTP/1.1 599 \r\n")]
    public void Status_line_has_the_registered_reason_phrase(int statusCode, string statusLine)
    {
        string response = Written(o => HandshakeResponse.WriteError(o, statusCode, "x"));

        Assert.StartsWith(statusLine, response, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\nx\n", response, StringComparison.Ordinal);
    }

    [Fact]
    public void Content_length_counts_UTF8_bytes()
    {
        string response = Written(o => HandshakeResponse.WriteError(o, 403, "Origin 'https://exämple' is not allowed"));

        Assert.Contains("Content-Length: 41\r\n", response, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\nOrigin 'https://exämple' is not allowed\n", response, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(nameof(HandshakeParseStatus.BadRequest), 400)]
    [InlineData(nameof(HandshakeParseStatus.NotFound), 404)]
    [InlineData(nameof(HandshakeParseStatus.MethodNotAllowed), 405)]
    [InlineData(nameof(HandshakeParseStatus.UnsupportedVersion), 426)]
    [InlineData(nameof(HandshakeParseStatus.HeaderTooLarge), 431)]
    public void Maps_parser_status_to_status_code(string name, int statusCode)
    {
        HandshakeParseStatus status = Enum.Parse<HandshakeParseStatus>(name);
        Assert.Equal(statusCode, HandshakeResponse.GetStatusCode(status));
        Assert.StartsWith($"HTTP/1.1 {statusCode} ", Written(o => HandshakeResponse.WriteError(o, status, "x")), StringComparison.Ordinal);
    }

    [Fact]
    public void Rejects_bad_arguments()
    {
        var output = new ArrayBufferWriter<byte>();
        Assert.Throws<ArgumentOutOfRangeException>(() => HandshakeResponse.WriteError(output, 200, "x"));
        Assert.Throws<ArgumentOutOfRangeException>(() => HandshakeResponse.WriteError(output, 600, "x"));
        Assert.Throws<ArgumentOutOfRangeException>(() => HandshakeResponse.GetStatusCode(HandshakeParseStatus.Ok));
        Assert.Throws<ArgumentException>(() => HandshakeResponse.WriteError(output, 503, "x", [new("Retry-After", "5\r\nSet-Cookie: a=b")]));
        Assert.Throws<ArgumentException>(() => HandshakeResponse.WriteError(output, 503, "x", [new("Retry After", "5")]));
        Assert.Throws<ArgumentException>(() => HandshakeResponse.ComputeAccept("ключ"));
        Assert.Equal(0, output.WrittenCount);
    }
}
