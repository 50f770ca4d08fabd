using System.Net.WebSockets;
using WsGateway.Client.Tests.Infrastructure;
using WsGateway.Sbe;

namespace WsGateway.Client.Tests;

/// <summary>The opening handshake against a scripted server, and what the client puts on the wire.</summary>
public sealed class HandshakeTests
{
    [Fact]
    public async Task The_request_has_the_upgrade_headers_the_key_and_the_extra_headers()
    {
        using var server = new FakeServer();
        var options = new TradeClientOptions();
        options.RequestHeaders.Add(new("Authorization", "Bearer abc"));
        options.RequestHeaders.Add(new("Origin", "https://example.com"));
        Task<TradeClient> connecting = TradeClient.ConnectAsync(server.Url, options);
        using FakeConnection connection = await server.AcceptAsync();
        await connection.Send101Async();
        await using TradeClient client = await connecting;

        string[] lines = connection.Request.Split("\r\n");
        Assert.Equal("GET /feed?x=1 HTTP/1.1", lines[0]);
        Assert.Contains($"Host: {server.Url.Authority}", lines);
        Assert.Contains("Upgrade: websocket", lines);
        Assert.Contains("Connection: Upgrade", lines);
        Assert.Contains("Sec-WebSocket-Version: 13", lines);
        Assert.Contains("Authorization: Bearer abc", lines);
        Assert.Contains("Origin: https://example.com", lines);
        Assert.Equal(16, Convert.FromBase64String(connection.Key).Length);
        Assert.Null(client.CloseStatus);
    }

    [Fact]
    public async Task A_wrong_accept_value_fails_the_connect()
    {
        using var server = new FakeServer();
        Task<TradeClient> connecting = TradeClient.ConnectAsync(server.Url);
        using FakeConnection connection = await server.AcceptAsync();
        await connection.Send101Async(accept: FakeConnection.Accept("c29tZSBvdGhlciBrZXkhIQ=="));

        var ex = await Assert.ThrowsAsync<WebSocketHandshakeException>(() => connecting);
        Assert.Equal(101, ex.StatusCode);
        Assert.Contains("Sec-WebSocket-Accept", ex.Message, StringComparison.Ordinal);
        Assert.True(await connection.ClientClosedAsync(), "the client drops the connection");
    }

    [Fact]
    public async Task A_101_without_the_upgrade_header_fails_the_connect()
    {
        using var server = new FakeServer();
        Task<TradeClient> connecting = TradeClient.ConnectAsync(server.Url);
        using FakeConnection connection = await server.AcceptAsync();
        await connection.SendAsync($"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {FakeConnection.Accept(connection.Key)}\r\n\r\n");

        var ex = await Assert.ThrowsAsync<WebSocketHandshakeException>(() => connecting);
        Assert.Contains("Upgrade: websocket", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_extension_the_client_did_not_offer_fails_the_connect()
    {
        using var server = new FakeServer();
        Task<TradeClient> connecting = TradeClient.ConnectAsync(server.Url);
        using FakeConnection connection = await server.AcceptAsync();
        await connection.Send101Async(extraHeaders: "Sec-WebSocket-Extensions: permessage-deflate\r\n");

        var ex = await Assert.ThrowsAsync<WebSocketHandshakeException>(() => connecting);
        Assert.Contains("permessage-deflate", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_503_carries_its_status_and_body_text()
    {
        using var server = new FakeServer();
        Task<TradeClient> connecting = TradeClient.ConnectAsync(server.Url);
        using FakeConnection connection = await server.AcceptAsync();
        const string Body = "Connection limit reached: 1 connections are open\n";
        await connection.SendAsync($"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {Body.Length}\r\nConnection: close\r\n\r\n{Body}");

        var ex = await Assert.ThrowsAsync<WebSocketHandshakeException>(() => connecting);
        Assert.Equal(503, ex.StatusCode);
        Assert.Equal(Body, ex.ResponseBody);
        Assert.Contains("503 Service Unavailable: Connection limit reached", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_plain_http_page_is_quoted_by_its_status_line_and_at_most_200_bytes_of_body_on_one_line()
    {
        // What a --url pointing at an ordinary web server gets back: a 200 with a whole HTML page (3.6 KB here).
        string body = "<!DOCTYPE html>\n<html>\n<head><title>Welcome</title></head>\n<body>\n"
            + string.Concat(Enumerable.Repeat("  <p>An ordinary web page, not a WebSocket endpoint.</p>\n", 60)) + "</body>\n</html>\n";
        int bodyBytes = System.Text.Encoding.UTF8.GetByteCount(body);
        Assert.InRange(bodyBytes, 3500, 3700);
        using var server = new FakeServer();
        Task<TradeClient> connecting = TradeClient.ConnectAsync(server.Url);
        using FakeConnection connection = await server.AcceptAsync();
        await connection.SendAsync($"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {bodyBytes}\r\n\r\n{body}");

        var ex = await Assert.ThrowsAsync<WebSocketHandshakeException>(() => connecting);
        Assert.Equal(200, ex.StatusCode);
        Assert.Equal(body, ex.ResponseBody); // the whole page stays available to code that wants it
        const string Head = "The server answered HTTP/1.1 200 OK instead of 101 Switching Protocols: is the URL a WebSocket endpoint?: ";
        Assert.StartsWith(Head, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
        string quoted = ex.Message[Head.Length..ex.Message.IndexOf(" ... (", StringComparison.Ordinal)];
        Assert.StartsWith("<!DOCTYPE html> <html> <head><title>Welcome</title></head> <body> <p>An ordinary web page", quoted, StringComparison.Ordinal);
        Assert.InRange(System.Text.Encoding.UTF8.GetByteCount(quoted), 150, 200);
        Assert.EndsWith(" more bytes of body)", ex.Message, StringComparison.Ordinal);
        Assert.True(ex.Message.Length < 400, ex.Message);
    }

    [Fact]
    public async Task A_long_error_body_is_cut_at_200_bytes_without_splitting_a_character()
    {
        // 'a' then 150 two-byte characters: byte 200 is the second half of one, so 199 bytes are quoted.
        string body = "a" + new string('é', 150);
        using var server = new FakeServer();
        Task<TradeClient> connecting = TradeClient.ConnectAsync(server.Url);
        using FakeConnection connection = await server.AcceptAsync();
        await connection.SendAsync($"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 301\r\n\r\n{body}");

        var ex = await Assert.ThrowsAsync<WebSocketHandshakeException>(() => connecting);
        Assert.Equal(403, ex.StatusCode);
        Assert.Equal($"The server refused the WebSocket handshake: HTTP/1.1 403 Forbidden: a{new string('é', 99)} ... (102 more bytes of body)", ex.Message);
    }

    [Fact]
    public async Task A_chunked_error_body_is_decoded()
    {
        using var server = new FakeServer();
        Task<TradeClient> connecting = TradeClient.ConnectAsync(server.Url);
        using FakeConnection connection = await server.AcceptAsync();
        await connection.SendAsync("HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nNot al\r\nB;ext=1\r\nlowed here\n\r\n0\r\n\r\n");

        var ex = await Assert.ThrowsAsync<WebSocketHandshakeException>(() => connecting);
        Assert.Equal(403, ex.StatusCode);
        Assert.Equal("Not allowed here\n", ex.ResponseBody);
    }

    [Fact]
    public async Task A_server_that_hangs_up_during_the_handshake_fails_the_connect()
    {
        using var server = new FakeServer();
        Task<TradeClient> connecting = TradeClient.ConnectAsync(server.Url);
        using (FakeConnection connection = await server.AcceptAsync())
        {
            await connection.SendAsync("HTTP/1.1 101 Switch");
        }

        var ex = await Assert.ThrowsAsync<WebSocketHandshakeException>(() => connecting);
        Assert.Equal(0, ex.StatusCode);
        Assert.Contains("in the middle of its handshake response", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_that_never_answers_times_out()
    {
        using var server = new FakeServer();
        Task<TradeClient> connecting = TradeClient.ConnectAsync(server.Url, new TradeClientOptions { ConnectTimeout = TimeSpan.FromMilliseconds(300) });
        using FakeConnection connection = await server.AcceptAsync();

        await Assert.ThrowsAsync<TimeoutException>(() => connecting);
    }

    [Theory]
    [InlineData("http://127.0.0.1:1/")]
    [InlineData("ws://127.0.0.1:1/#frag")]
    public async Task A_url_that_is_not_a_websocket_url_is_refused(string url)
        => await Assert.ThrowsAsync<ArgumentException>(() => TradeClient.ConnectAsync(new Uri(url)));

    [Theory]
    [InlineData("X-Evil", "a\r\nInjected: yes", "control or non-ASCII")]
    [InlineData("Bad Name", "v", "not a valid HTTP token")]
    [InlineData("sec-websocket-key", "AAAA", "set by the WebSocket handshake itself")]
    public async Task Headers_that_would_break_the_request_are_refused(string name, string value, string expected)
    {
        var options = new TradeClientOptions();
        options.RequestHeaders.Add(new(name, value));
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => TradeClient.ConnectAsync(new Uri("ws://127.0.0.1:1/"), options));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Frames_on_the_wire_have_the_injected_key_and_the_hand_written_bytes()
    {
        using var server = new FakeServer();
        var options = new TradeClientOptions { MaskKeyOverride = () => 0x3D21FA37 };
        Task<TradeClient> connecting = TradeClient.ConnectAsync(server.Url, options);
        using FakeConnection connection = await server.AcceptAsync();
        await connection.Send101Async();
        await using TradeClient client = await connecting;

        await client.SendTradeAsync(new Trade(0x0102030405060708, (byte)'B', 100.5, 1000));

        byte[] wire = await connection.ReadAsync(35);
        Assert.Equal(
            [
                0x82, 0x9D, 0x37, 0xFA, 0x21, 0x3D,
                0x22, 0xFA, 0x20, 0x3D, 0x36, 0xFA, 0x21, 0x3D, 0x3F, 0xFD, 0x27, 0x38, 0x33, 0xF9, 0x23, 0x3C,
                0x75, 0xFA, 0x21, 0x3D, 0x37, 0xFA, 0x01, 0x64, 0x77, 0x12, 0x22, 0x3D, 0x37,
            ],
            wire);
        Assert.Equal(1, client.MessagesSent);
        Assert.Equal(35, client.BytesSent);
    }

    [Fact]
    public async Task Every_frame_on_the_wire_has_its_own_nonzero_key()
    {
        using var server = new FakeServer();
        Task<TradeClient> connecting = TradeClient.ConnectAsync(server.Url);
        using FakeConnection connection = await server.AcceptAsync();
        await connection.Send101Async();
        await using TradeClient client = await connecting;

        for (uint i = 0; i < 200; i++)
        {
            Assert.True(client.TryWriteTrade(new Trade(i, (byte)'K', i, i)));
        }

        await client.FlushAsync();
        var keys = new List<string>();
        for (uint i = 0; i < 200; i++)
        {
            (byte first, byte[] key, byte[] payload) = await connection.ReadFrameAsync();
            Assert.Equal(0x82, first);
            Assert.Equal(new Trade(i, (byte)'K', i, i), Trade.Decode(payload));
            keys.Add(Convert.ToHexString(key));
        }

        Assert.Equal(200, keys.Distinct().Count());
        Assert.DoesNotContain("00000000", keys);
    }

    [Fact]
    public async Task A_ping_is_answered_with_a_masked_pong_carrying_its_payload()
    {
        using var server = new FakeServer();
        Task<TradeClient> connecting = TradeClient.ConnectAsync(server.Url);
        using FakeConnection connection = await server.AcceptAsync();
        await connection.Send101Async();
        await using TradeClient client = await connecting;

        ValueTask<ClientMessage> receive = client.ReceiveAsync();
        await connection.SendAsync([0x89, 0x03, (byte)'a', (byte)'b', (byte)'c']);
        (byte first, _, byte[] payload) = await connection.ReadFrameAsync();
        Assert.Equal(0x8A, first);
        Assert.Equal("abc"u8.ToArray(), payload);

        // The ping is not a message: the receive is still waiting, and gets the next binary message.
        Assert.False(receive.IsCompleted);
        await connection.SendAsync([0x82, 0x02, 0x01, 0x02]);
        ClientMessage message = await receive;
        Assert.Equal(WebSocketMessageType.Binary, message.MessageType);
        Assert.Equal([1, 2], message.Payload.ToArray());
    }

    [Fact]
    public async Task CloseOutputAsync_sends_the_buffered_frames_and_a_close_without_waiting_and_later_messages_are_still_received()
    {
        using var server = new FakeServer();
        Task<TradeClient> connecting = TradeClient.ConnectAsync(server.Url);
        using FakeConnection connection = await server.AcceptAsync();
        await connection.Send101Async();
        await using TradeClient client = await connecting;

        Assert.True(client.TryWriteTrade(new Trade(7, (byte)'X', 1.5, 3)));
        await client.CloseOutputAsync(1000, "done").WaitAsync(TimeSpan.FromSeconds(10)); // the server has not answered

        (byte first, _, byte[] payload) = await connection.ReadFrameAsync();
        Assert.Equal(0x82, first);
        Assert.Equal(new Trade(7, (byte)'X', 1.5, 3), Trade.Decode(payload));
        (first, _, payload) = await connection.ReadFrameAsync();
        Assert.Equal(0x88, first);
        Assert.Equal([0x03, 0xE8, (byte)'d', (byte)'o', (byte)'n', (byte)'e'], payload);
        Assert.Null(client.CloseStatus);
        Assert.Throws<WebSocketException>(() => client.TryWriteTrade(new Trade(8, (byte)'X', 1.5, 3)));

        // The server still had a reply in flight: it is delivered, then the server's close.
        await connection.SendAsync([0x82, 0x02, 0x01, 0x02, 0x88, 0x02, 0x03, 0xE8]);
        ClientMessage reply = await client.ReceiveAsync();
        Assert.Equal(WebSocketMessageType.Binary, reply.MessageType);
        Assert.Equal([1, 2], reply.Payload.ToArray());
        ClientMessage close = await client.ReceiveAsync();
        Assert.True(close.IsClose);
        Assert.Equal(1000, close.CloseStatus);
        Assert.Equal((ushort)1000, client.CloseStatus);

        // The client answered nothing more (its close went first); CloseAsync then only waits for the TCP close.
        connection.Dispose();
        await client.CloseAsync().WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task After_the_closing_handshake_the_client_ends_its_side_so_a_server_waiting_for_that_can_close()
    {
        // A server that failed the connection (here 1009) reads on until the client's side ends, so that a reset cannot
        // destroy its close frame; the client waits for the server's TCP close. One of them has to go first.
        using var server = new FakeServer();
        Task<TradeClient> connecting = TradeClient.ConnectAsync(server.Url, new TradeClientOptions { CloseTimeout = TimeSpan.FromSeconds(30) });
        using FakeConnection connection = await server.AcceptAsync();
        await connection.Send101Async();
        await using TradeClient client = await connecting;

        await connection.SendAsync([0x88, 0x05, 0x03, 0xF1, (byte)'b', (byte)'i', (byte)'g']);
        ClientMessage close = await client.ReceiveAsync();
        Assert.Equal(1009, close.CloseStatus);
        Task closing = client.CloseAsync();

        (byte first, _, byte[] payload) = await connection.ReadFrameAsync(); // the client's answer, 1009 as well
        Assert.Equal(0x88, first);
        Assert.Equal([0x03, 0xF1], payload);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.True(await connection.ClientClosedAsync()); // the client's FIN, long before its 30 s close timeout
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"FIN after {clock.Elapsed}");
        connection.Dispose();
        await closing.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((ushort)1009, client.CloseStatus);
    }

    [Fact]
    public async Task Frames_sent_right_after_the_101_are_not_lost()
    {
        using var server = new FakeServer();
        Task<TradeClient> connecting = TradeClient.ConnectAsync(server.Url);
        using FakeConnection connection = await server.AcceptAsync();
        byte[] head = System.Text.Encoding.ASCII.GetBytes($"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {FakeConnection.Accept(connection.Key)}\r\n\r\n");
        await connection.SendAsync([.. head, 0x81, 0x02, (byte)'h', (byte)'i']);
        await using TradeClient client = await connecting;

        ClientMessage message = await client.ReceiveAsync();
        Assert.Equal(WebSocketMessageType.Text, message.MessageType);
        Assert.Equal("hi"u8.ToArray(), message.Payload.ToArray());
    }

    [Theory]
    [InlineData(new byte[] { 0x82, 0x82, 1, 2, 3, 4, 5, 6 }, 1002, "Masked server frame")]
    [InlineData(new byte[] { 0xC2, 0x00 }, 1002, "Reserved bits set: RSV1")]
    [InlineData(new byte[] { 0x00, 0x00 }, 1002, "Continuation frame without a message to continue")]
    [InlineData(new byte[] { 0x81, 0x02, 0xC3, 0x28 }, 1007, "Invalid UTF-8")]
    [InlineData(new byte[] { 0x82, 0x7F, 0, 0, 0, 0, 0, 0x20, 0, 0 }, 1009, "Frame too large")]
    public async Task A_protocol_violation_by_the_server_fails_the_connection_with_the_right_code(byte[] frame, int code, string reason)
    {
        using var server = new FakeServer();
        Task<TradeClient> connecting = TradeClient.ConnectAsync(server.Url);
        using FakeConnection connection = await server.AcceptAsync();
        await connection.Send101Async();
        await using TradeClient client = await connecting;

        await connection.SendAsync(frame);
        var ex = await Assert.ThrowsAsync<WebSocketException>(async () => await client.ReceiveAsync());

        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
        (byte first, _, byte[] payload) = await connection.ReadFrameAsync();
        Assert.Equal(0x88, first);
        Assert.Equal(code, (payload[0] << 8) | payload[1]);
        Assert.Equal((ushort)code, client.CloseStatus);
        Assert.True(await connection.ClientClosedAsync());
    }

    [Fact]
    public async Task A_server_vanishing_without_a_close_frame_is_1006()
    {
        using var server = new FakeServer();
        Task<TradeClient> connecting = TradeClient.ConnectAsync(server.Url);
        FakeConnection connection = await server.AcceptAsync();
        await connection.Send101Async();
        await using TradeClient client = await connecting;

        connection.Dispose();
        var ex = await Assert.ThrowsAsync<WebSocketException>(async () => await client.ReceiveAsync());
        Assert.Equal(WebSocketError.ConnectionClosedPrematurely, ex.WebSocketErrorCode);
        Assert.Equal((ushort)1006, client.CloseStatus);
    }

    [Fact]
    public async Task A_fragmented_message_with_a_ping_in_between_is_reassembled()
    {
        using var server = new FakeServer();
        Task<TradeClient> connecting = TradeClient.ConnectAsync(server.Url);
        using FakeConnection connection = await server.AcceptAsync();
        await connection.Send101Async();
        await using TradeClient client = await connecting;

        // "h\u00e9" split inside the 2-byte character, a ping between the fragments.
        await connection.SendAsync([0x01, 0x02, (byte)'h', 0xC3, 0x89, 0x00, 0x80, 0x02, 0xA9, (byte)'!']);
        ClientMessage message = await client.ReceiveAsync();

        Assert.Equal(WebSocketMessageType.Text, message.MessageType);
        Assert.Equal("h\u00e9!", System.Text.Encoding.UTF8.GetString(message.Payload.Span));
        (byte first, _, _) = await connection.ReadFrameAsync();
        Assert.Equal(0x8A, first);
    }
}
