using System.Buffers;
using System.Text;
using Microsoft.Extensions.Primitives;
using WsGateway.Connections.Handshake;
using WsGateway.Hosting;

namespace WsGateway.Tests.Handshake;

/// <summary>
/// The ASP.NET Core path (<see cref="HandshakeValidator"/>, headers already parsed) refuses the same upgrade requests
/// as the standalone server's <see cref="HandshakeParser"/>, with the same status and message: both apply
/// <see cref="UpgradeRequestRules"/>.
/// </summary>
public class HandshakeValidatorTests
{
    private const string Key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==";

    [Theory]
    [InlineData("Upgrade: websocket|Connection: Upgrade|Sec-WebSocket-Version: 13", 400, "Sec-WebSocket-Key header is missing; expected base64 of 16 random bytes")]
    [InlineData("Upgrade: websocket|Connection: Upgrade|Sec-WebSocket-Key: not base64!|Sec-WebSocket-Version: 13", 400, "Sec-WebSocket-Key must be base64 of 16 bytes, got 'not base64!' which is not base64")]
    [InlineData("Upgrade: websocket|Connection: Upgrade|Sec-WebSocket-Key: AAAAAAAAAAAAAAAA|Sec-WebSocket-Version: 13", 400, "Sec-WebSocket-Key must be base64 of 16 bytes, got 12 bytes")]
    [InlineData("Upgrade: websocket|Connection: Upgrade|" + Key + "|" + Key + "|Sec-WebSocket-Version: 13", 400, "Sec-WebSocket-Key must appear exactly once; it appears more than once")]
    [InlineData("Connection: Upgrade|" + Key + "|Sec-WebSocket-Version: 13", 400, "Upgrade header is missing; expected 'Upgrade: websocket'")]
    [InlineData("Upgrade: h2c|Connection: Upgrade|" + Key + "|Sec-WebSocket-Version: 13", 400, "Upgrade header must contain 'websocket'; got 'h2c'")]
    [InlineData("Upgrade: h2c|Upgrade: WebSocket|Connection: Upgrade|" + Key + "|Sec-WebSocket-Version: 13", 0, null)]
    [InlineData("Upgrade: we'b\u00e9|Connection: Upgrade|" + Key + "|Sec-WebSocket-Version: 13", 400, @"Upgrade header must contain 'websocket'; got 'we\x27b\xE9'")]
    [InlineData("Upgrade: websocket|Connection: keep-alive|" + Key + "|Sec-WebSocket-Version: 13", 400, "Connection header must contain the 'Upgrade' token; got 'keep-alive'")]
    [InlineData("Upgrade: websocket|Connection: keep-alive|Connection: upgrade|" + Key + "|Sec-WebSocket-Version: 13", 0, null)]
    [InlineData("Upgrade: websocket|" + Key + "|Sec-WebSocket-Version: 13", 400, "Connection header is missing; expected 'Connection: Upgrade'")]
    [InlineData("Upgrade: websocket|Connection: Upgrade|" + Key + "|Sec-WebSocket-Version: 8", 426, "Sec-WebSocket-Version '8' is not supported; expected 13")]
    [InlineData("Upgrade: websocket|Connection: Upgrade|" + Key, 400, "Sec-WebSocket-Version header is missing; expected 13")]
    [InlineData("Upgrade: websocket|Connection: Upgrade|" + Key + "|Sec-WebSocket-Version: 13|Sec-WebSocket-Version: 13", 400, "Sec-WebSocket-Version must appear exactly once; it appears more than once")]
    [InlineData("Upgrade: websocket|Connection: Upgrade|" + Key + "|Sec-WebSocket-Version: 13", 0, null)]
    public void Refuses_what_the_parser_refuses_with_the_same_status_and_message(string headerLines, int expectedStatus, string? expectedMessage)
    {
        string[] lines = headerLines.Split('|');

        string raw = "GET / HTTP/1.1\r\nHost: h\r\n" + string.Concat(lines.Select(l => l + "\r\n")) + "\r\n";
        HandshakeParseStatus parsed = HandshakeParser.TryParse(new ReadOnlySequence<byte>(Encoding.Latin1.GetBytes(raw)), 8192, out _, out _, out string? parserMessage);

        string? message = HandshakeValidator.Validate(
            upgradable: true,
            upgrade: Field(lines, "Upgrade"),
            connection: Field(lines, "Connection"),
            version: Field(lines, "Sec-WebSocket-Version"),
            key: Field(lines, "Sec-WebSocket-Key"),
            out int status);

        Assert.Equal(expectedMessage, parserMessage);
        Assert.Equal(expectedMessage, message);
        if (expectedMessage is null)
        {
            Assert.Equal(HandshakeParseStatus.Ok, parsed);
        }
        else
        {
            Assert.Equal(expectedStatus, HandshakeResponse.GetStatusCode(parsed));
            Assert.Equal(expectedStatus, status);
        }
    }

    [Fact]
    public void A_request_the_server_cannot_upgrade_is_refused_first_with_400()
    {
        string? message = HandshakeValidator.Validate(false, "websocket", "Upgrade", "13", "dGhlIHNhbXBsZSBub25jZQ==", out int status);

        Assert.Equal(400, status);
        Assert.Equal("Expected a WebSocket upgrade request: 'Connection: Upgrade' and 'Upgrade: websocket' over HTTP/1.1", message);
    }

    /// <summary>The field's lines as ASP.NET Core's header dictionary holds them: one value per line, OWS trimmed.</summary>
    private static StringValues Field(string[] lines, string name)
        => new([.. lines
            .Where(l => l.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))
            .Select(l => l[(name.Length + 1)..].Trim())]);
}
