using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text.Json;
using WsGateway.Cli.Tests.Infrastructure;

namespace WsGateway.Cli.Tests;

/// <summary><c>wsgw serve</c> as a user runs it: a child process, its exit code, and what it writes to standard output
/// (data only) and standard error (logs, status, errors).</summary>
public sealed class ServeProcessTests
{
    private static string TradingSchema => Path.Combine(AppContext.BaseDirectory, "Schemas", "trading.xml");

    [Fact]
    public async Task The_banner_names_the_sink_and_where_it_stores_without_its_password()
    {
        // Nothing listens on port 1: --sink-wait listens anyway (the banner says the sink is not ready yet, and why).
        (WsgwProcess serve, Uri _) = await WsgwProcess.StartServeAsync("--stats-interval", "0", "--admin", "none", "--sink-wait", "--sink", "nats://trader:s3cret@127.0.0.1:1?stream=TRADES");
        using WsgwProcess process = serve;
        string banner = serve.Stderr.First(l => l.Contains("listening on", StringComparison.Ordinal));

        Assert.Contains("sink: nats://trader:***@127.0.0.1:1?stream=TRADES", banner, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", banner, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stopping_with_trades_its_sink_never_stored_says_how_many_and_exits_3()
    {
        // No JetStream on port 1 (--sink-wait listens anyway): every trade received stays in flight until the drain
        // timeout gives up on it.
        (WsgwProcess serve, Uri url) = await WsgwProcess.StartServeAsync("--stats-interval", "0", "--admin", "none", "--sink-wait", "--sink", "nats://127.0.0.1:1?stream=TRADES&drain-timeout=1s");
        using WsgwProcess _ = serve;
        await SendTradesAndCloseAsync(url, 5);

        await serve.StopAsync();

        Assert.Equal(3, serve.ExitCode);
        Assert.Contains(serve.Stderr, l => l.Contains("wsgw: 5 trades received were not stored by the sink before it stopped", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Serve_listens_counts_and_shuts_down_gracefully_on_SIGTERM()
    {
        (WsgwProcess serve, Uri url) = await WsgwProcess.StartServeAsync("--stats-interval", "0.2", "--admin", "none");
        using WsgwProcess _ = serve;

        await SendTradesAndCloseAsync(url, 1);

        // The session line, and a line of the live view after the connection closed, with the trade counted (a loaded
        // machine may print earlier lines first).
        await serve.WaitForStdoutAsync(l => l.Contains("connections 0, frames/s 0, trades/s 0, total 1 frames", StringComparison.Ordinal));
        await serve.StopAsync();

        Assert.Equal(0, serve.ExitCode);
        string stdout = string.Join('\n', serve.Stdout);
        Assert.Matches(@"Session stats: connection \d+ \(127\.0\.0\.1:\d+\): 1 trades, total quantity 1000, 0 errors, closed 1000", stdout);
        Assert.Matches(@"connections 0, frames/s 0, trades/s 0, total 1 frames, 1 trades, \d+ bytes", stdout);
        Assert.Contains("wsgw: 1 connections, 1 trades, total quantity 1000, 0 errors", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("messages", stdout, StringComparison.Ordinal);

        // Status is not data: the banner and the shutdown notice are on standard error.
        Assert.DoesNotContain("listening on", stdout, StringComparison.Ordinal);
        Assert.Contains("wsgw: shutting down (closing connections with 1001)", serve.Stderr);
    }

    [Theory]
    [InlineData("nonsense", "expected host:port such as 127.0.0.1:9001")]
    [InlineData("127.0.0.1:99999", "expected host:port such as 127.0.0.1:9001")]
    [InlineData("example.com:9001", "'example.com' is not an IP address, localhost or *")]
    public async Task A_bad_listen_address_is_one_line_on_stderr_naming_it_and_exit_2(string listen, string expected)
    {
        using WsgwProcess serve = await WsgwProcess.RunAsync("serve", "--listen", listen, "--admin", "none");

        Assert.Equal(2, serve.ExitCode);
        Assert.Empty(serve.Stdout);
        string line = Assert.Single(serve.Stderr);
        Assert.StartsWith($"wsgw serve: Invalid listen address '{listen}': ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_admin_address_is_one_line_on_stderr_and_exit_2_without_the_help()
    {
        using WsgwProcess serve = await WsgwProcess.RunAsync("serve", "--admin", "foo");

        Assert.Equal(2, serve.ExitCode);
        Assert.Empty(serve.Stdout);
        Assert.StartsWith("wsgw serve: Invalid admin address 'foo': expected host:port", Assert.Single(serve.Stderr), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--max-message-size", "0", "wsgw serve: --max-message-size must be between 8 and")]
    [InlineData("--max-connections", "0", "wsgw serve: --max-connections must be at least 1, got 0")]
    public async Task A_limit_out_of_range_is_one_line_naming_the_option_and_exit_2(string option, string value, string expected)
    {
        using WsgwProcess serve = await WsgwProcess.RunAsync("serve", option, value, "--listen", "127.0.0.1:0", "--admin", "none");

        Assert.Equal(2, serve.ExitCode);
        Assert.Empty(serve.Stdout);
        Assert.StartsWith(expected, Assert.Single(serve.Stderr), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_port_in_use_is_one_line_on_stderr_with_the_ws_url_and_nothing_on_stdout()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;

        using WsgwProcess serve = await WsgwProcess.RunAsync("serve", "--listen", $"127.0.0.1:{port}", "--admin", "none");

        Assert.Equal(1, serve.ExitCode);
        Assert.Empty(serve.Stdout);
        Assert.Equal($"wsgw serve: cannot listen on ws://127.0.0.1:{port}/ (--listen): address already in use", Assert.Single(serve.Stderr));
    }

    [Theory]
    [InlineData("native")]
    [InlineData("kestrel")]
    public async Task A_second_serve_on_the_port_of_a_running_one_fails_with_address_in_use(string transport)
    {
        // Issue 17, finding 3: the port is not shared silently (SO_REUSEPORT), whichever transport either one runs.
        (WsgwProcess first, Uri url) = await WsgwProcess.StartServeAsync("--transport", transport, "--admin", "none", "--stats-interval", "0");
        using WsgwProcess _ = first;

        foreach (string other in new[] { "native", "kestrel" })
        {
            using WsgwProcess second = await WsgwProcess.RunAsync("serve", "--listen", $"127.0.0.1:{url.Port}", "--transport", other, "--admin", "none", "--stats-interval", "0");
            Assert.Equal(1, second.ExitCode);
            Assert.Empty(second.Stdout);
            Assert.Equal($"wsgw serve: cannot listen on ws://127.0.0.1:{url.Port}/ (--listen): address already in use", Assert.Single(second.Stderr));
        }

        Assert.True(first.IsRunning);
        await first.StopAsync();
        Assert.Equal(0, first.ExitCode);
    }

    [Fact]
    public async Task An_admin_port_in_use_names_the_admin_url()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;

        using WsgwProcess serve = await WsgwProcess.RunAsync("serve", "--listen", "127.0.0.1:0", "--admin", $"127.0.0.1:{port}");

        Assert.Equal(1, serve.ExitCode);
        Assert.Empty(serve.Stdout);
        Assert.StartsWith($"wsgw serve: cannot listen on http://127.0.0.1:{port}/ (--admin", Assert.Single(serve.Stderr), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logs_go_to_stderr_and_stdout_holds_only_data()
    {
        (WsgwProcess serve, Uri url) = await WsgwProcess.StartServeAsync("--admin", "127.0.0.1:0", "--log-level", "Debug", "--stats-interval", "0");
        using WsgwProcess _ = serve;
        using (var client = new ClientWebSocket())
        {
            await client.ConnectAsync(url, CancellationToken.None);
            await client.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }

        await serve.WaitForStdoutLinesAsync(1);
        await serve.StopAsync();

        Assert.Equal(0, serve.ExitCode);
        Assert.Contains(serve.Stderr, l => l.StartsWith("info: WsGateway.Cli.Admin[300]", StringComparison.Ordinal)); // admin endpoints listening
        Assert.Contains(serve.Stderr, l => l.StartsWith("dbug: ", StringComparison.Ordinal));
        Assert.Collection(
            serve.Stdout,
            l => Assert.Matches(@"^Session stats: connection \d+ \(127\.0\.0\.1:\d+\): 0 trades, total quantity 0, 0 errors, closed 1000$", l),
            l => Assert.Equal("wsgw: 1 connections, 0 trades, total quantity 0, 0 errors", l));
    }

    [Fact]
    public async Task Json_handler_writes_every_message_of_the_schema_as_one_json_line()
    {
        (WsgwProcess serve, Uri url) = await WsgwProcess.StartServeAsync("--schema", TradingSchema, "--handler", "json", "--admin", "none");
        using WsgwProcess _ = serve;

        using (var client = new ClientWebSocket())
        {
            await client.ConnectAsync(url, CancellationToken.None);
            await SendAsync(client, Order(7, 'A', 'B', 1, 101.25, 300, 1_700_000_000_000_000_001));
            await SendAsync(client, [.. Position(42, 'Z', -150, 99.75, -12.5, ('X', -100, 99.5), ('Y', -50, 100.25)), .. Order(8, 'B', 'S', 2, double.NaN, 5, 2), .. Trade(9, 'C', 1.5, 10)]);
            await client.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }

        await serve.WaitForStdoutLinesAsync(4);
        await serve.StopAsync();

        Assert.Equal(0, serve.ExitCode);
        Assert.Equal(4, serve.Stdout.Count); // JSON only: no banner, no live view
        using JsonDocument limit = JsonDocument.Parse(serve.Stdout[0]);
        JsonElement order = limit.RootElement;
        Assert.Equal("Order", order.GetProperty("$message").GetString());
        Assert.Equal(2, order.GetProperty("$header").GetProperty("templateId").GetInt32());
        Assert.Equal(7UL, order.GetProperty("orderId").GetUInt64());
        Assert.Equal("A", order.GetProperty("symbol").GetString());
        Assert.Equal("Buy", order.GetProperty("side").GetString());
        Assert.Equal("Limit", order.GetProperty("orderType").GetString());
        Assert.Equal(101.25, order.GetProperty("price").GetDouble());
        Assert.Equal(300U, order.GetProperty("quantity").GetUInt32());
        Assert.Equal(1_700_000_000_000_000_001UL, order.GetProperty("timestamp").GetUInt64());

        using JsonDocument position = JsonDocument.Parse(serve.Stdout[1]);
        JsonElement p = position.RootElement;
        Assert.Equal("Position", p.GetProperty("$message").GetString());
        Assert.Equal(42U, p.GetProperty("account").GetUInt32());
        Assert.Equal(-150L, p.GetProperty("netQuantity").GetInt64());
        Assert.Equal(-12.5, p.GetProperty("realizedPnl").GetDouble());
        JsonElement fills = p.GetProperty("fills");
        Assert.Equal(2, fills.GetArrayLength());
        Assert.Equal(("X", -100L, 99.5), (fills[0].GetProperty("venue").GetString(), fills[0].GetProperty("quantity").GetInt64(), fills[0].GetProperty("price").GetDouble()));
        Assert.Equal(("Y", -50L, 100.25), (fills[1].GetProperty("venue").GetString(), fills[1].GetProperty("quantity").GetInt64(), fills[1].GetProperty("price").GetDouble()));

        using JsonDocument market = JsonDocument.Parse(serve.Stdout[2]);
        Assert.Equal("Market", market.RootElement.GetProperty("orderType").GetString());
        Assert.Equal(JsonValueKind.Null, market.RootElement.GetProperty("price").ValueKind); // NaN is the null value
        Assert.Equal("Sell", market.RootElement.GetProperty("side").GetString());

        using JsonDocument trade = JsonDocument.Parse(serve.Stdout[3]);
        Assert.Equal("Trade", trade.RootElement.GetProperty("$message").GetString());
        Assert.Equal(9UL, trade.RootElement.GetProperty("tradeId").GetUInt64());
        Assert.Equal(10U, trade.RootElement.GetProperty("quantity").GetUInt32());

        Assert.Contains("wsgw: 1 connections, 2 frames, 4 messages written as JSON, 0 errors", serve.Stderr);
    }

    [Fact]
    public async Task Json_handler_reports_a_bad_message_on_stderr_and_closes_with_1007_delivering_what_arrives_before_the_answer()
    {
        (WsgwProcess serve, Uri url) = await WsgwProcess.StartServeAsync("--schema", TradingSchema, "--handler", "json", "--admin", "none");
        using WsgwProcess _ = serve;

        WebSocketCloseStatus? closed;
        using (var client = new ClientWebSocket())
        {
            await client.ConnectAsync(url, CancellationToken.None);
            await SendAsync(client, [.. Header(blockLength: 4, templateId: 99), 1, 2, 3, 4]);
            byte[] position = Position(1, 'P', 1, 1, 1, ('V', 1, 1));
            await SendAsync(client, [.. Order(1, 'A', 'B', 1, 1, 1, 1), .. position.AsSpan(0, position.Length - 3)]);
            await SendAsync(client, Order(2, 'A', 'B', 1, 2, 2, 2));
            await client.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            closed = client.CloseStatus;
        }

        await serve.WaitForStdoutLinesAsync(2);
        await serve.StopAsync();

        // The first message it cannot decode closes the connection with 1007 and the reason, so the sender learns;
        // the frames the client sent before it read the close are still decoded.
        Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, closed);
        Assert.Equal(0, serve.ExitCode);
        Assert.Equal([1UL, 2UL], serve.Stdout.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("orderId").GetUInt64()));
        string[] errors = [.. serve.Stderr.Where(l => l.Contains(", frame ", StringComparison.Ordinal))];
        Assert.Equal(2, errors.Length);
        Assert.Matches(@"^wsgw serve: connection \d+ \(127\.0\.0\.1:\d+\), frame 1, message 1 at offset 0: Unknown template id 99: .*; closing with 1007$", errors[0]);
        Assert.Matches(@"^wsgw serve: connection \d+ \(127\.0\.0\.1:\d+\), frame 2, message 2 at offset 39: \S", errors[1]);
        Assert.DoesNotContain("closing", errors[1], StringComparison.Ordinal);
        Assert.Contains("wsgw: 1 connections, 3 frames, 2 messages written as JSON, 2 errors", serve.Stderr);
    }

    [Fact]
    public async Task Json_handler_refuses_a_text_frame_with_1003()
    {
        (WsgwProcess serve, Uri url) = await WsgwProcess.StartServeAsync("--schema", TradingSchema, "--handler", "json", "--admin", "none");
        using WsgwProcess _ = serve;
        using var client = new ClientWebSocket();
        await client.ConnectAsync(url, CancellationToken.None);
        await client.SendAsync("{}"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        WebSocketReceiveResult result = await client.ReceiveAsync(new byte[256], timeout.Token);

        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.InvalidMessageType, result.CloseStatus); // 1003
        await serve.WaitForStderrAsync(l => l.Contains("frame 1: a text frame; expected binary SBE messages", StringComparison.Ordinal));
        await serve.StopAsync();
        Assert.Empty(serve.Stdout);
    }

    [Fact]
    public async Task Json_lines_of_concurrent_connections_never_interleave()
    {
        const int Connections = 4;
        const int Frames = 50;
        // A Position of 200 fills is ~10 KB of JSON: far above the 4 KiB a pipe writes atomically, so two connections
        // writing at once without the output's lock would cut into each other's lines.
        const int Fills = 200;
        byte[] position = Position(7, 'P', 1, 1.5, 2.5, [.. Enumerable.Range(0, Fills).Select(i => ((char)('A' + (i % 26)), (long)i, i + 0.5))]);
        (WsgwProcess serve, Uri url) = await WsgwProcess.StartServeAsync("--schema", TradingSchema, "--handler", "json", "--admin", "none");
        using WsgwProcess _ = serve;

        await Task.WhenAll(Enumerable.Range(0, Connections).Select(async c =>
        {
            using var client = new ClientWebSocket();
            await client.ConnectAsync(url, CancellationToken.None);
            for (int f = 0; f < Frames; f++)
            {
                ulong id = (ulong)((c * Frames) + f) * 2;
                await SendAsync(client, [.. Order(id, 'A', 'B', 1, 1, 1, 1), .. position, .. Order(id + 1, 'A', 'S', 2, double.NaN, 1, 1)]);
            }

            await client.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }));

        await serve.WaitForStdoutLinesAsync(Connections * Frames * 3);
        await serve.StopAsync();

        var orderIds = new HashSet<ulong>();
        foreach (string line in serve.Stdout)
        {
            using JsonDocument message = JsonDocument.Parse(line); // throws on a line made of two halves
            if (message.RootElement.GetProperty("$message").GetString() == "Order")
            {
                Assert.True(orderIds.Add(message.RootElement.GetProperty("orderId").GetUInt64()));
            }
            else
            {
                Assert.Equal(Fills, message.RootElement.GetProperty("fills").GetArrayLength());
            }
        }

        Assert.Equal(Connections * Frames * 3, serve.Stdout.Count);
        Assert.Equal(Connections * Frames * 2, orderIds.Count);
    }

    [Fact]
    public async Task Json_handler_needs_a_schema_and_a_bad_schema_is_one_line()
    {
        using WsgwProcess noSchema = await WsgwProcess.RunAsync("serve", "--handler", "json", "--admin", "none");
        Assert.Equal(2, noSchema.ExitCode);
        Assert.StartsWith("wsgw serve: --handler json needs --schema", Assert.Single(noSchema.Stderr), StringComparison.Ordinal);

        using WsgwProcess missing = await WsgwProcess.RunAsync("serve", "--handler", "json", "--schema", "/nonexistent/trading.xml", "--admin", "none");
        Assert.Equal(2, missing.ExitCode);
        Assert.Equal("wsgw serve: SBE schema not found: /nonexistent/trading.xml", Assert.Single(missing.Stderr));
        Assert.Empty(missing.Stdout);
    }

    // ---------------------------------------------------------------- messages of schemas/trading.xml, by hand

    private static byte[] Header(ushort blockLength, ushort templateId)
    {
        var header = new byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(header, blockLength);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(2), templateId);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(4), 2); // schema id
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(6), 0); // version
        return header;
    }

    private static byte[] Trade(ulong tradeId, char symbol, double price, uint quantity)
    {
        byte[] m = [.. Header(21, 1), .. new byte[21]];
        Span<byte> b = m.AsSpan(8);
        BinaryPrimitives.WriteUInt64LittleEndian(b, tradeId);
        b[8] = (byte)symbol;
        BinaryPrimitives.WriteDoubleLittleEndian(b[9..], price);
        BinaryPrimitives.WriteUInt32LittleEndian(b[17..], quantity);
        return m;
    }

    private static byte[] Order(ulong orderId, char symbol, char side, byte orderType, double price, uint quantity, ulong timestamp)
    {
        byte[] m = [.. Header(31, 2), .. new byte[31]];
        Span<byte> b = m.AsSpan(8);
        BinaryPrimitives.WriteUInt64LittleEndian(b, orderId);
        b[8] = (byte)symbol;
        b[9] = (byte)side;
        b[10] = orderType;
        BinaryPrimitives.WriteDoubleLittleEndian(b[11..], price);
        BinaryPrimitives.WriteUInt32LittleEndian(b[19..], quantity);
        BinaryPrimitives.WriteUInt64LittleEndian(b[23..], timestamp);
        return m;
    }

    private static byte[] Position(uint account, char symbol, long netQuantity, double averagePrice, double realizedPnl, params (char Venue, long Quantity, double Price)[] fills)
    {
        byte[] m = [.. Header(29, 3), .. new byte[29 + 4 + (17 * fills.Length)]];
        Span<byte> b = m.AsSpan(8);
        BinaryPrimitives.WriteUInt32LittleEndian(b, account);
        b[4] = (byte)symbol;
        BinaryPrimitives.WriteInt64LittleEndian(b[5..], netQuantity);
        BinaryPrimitives.WriteDoubleLittleEndian(b[13..], averagePrice);
        BinaryPrimitives.WriteDoubleLittleEndian(b[21..], realizedPnl);
        BinaryPrimitives.WriteUInt16LittleEndian(b[29..], 17); // group block length
        BinaryPrimitives.WriteUInt16LittleEndian(b[31..], (ushort)fills.Length);
        for (int i = 0; i < fills.Length; i++)
        {
            Span<byte> fill = b.Slice(33 + (17 * i), 17);
            fill[0] = (byte)fills[i].Venue;
            BinaryPrimitives.WriteInt64LittleEndian(fill[1..], fills[i].Quantity);
            BinaryPrimitives.WriteDoubleLittleEndian(fill[9..], fills[i].Price);
        }

        return m;
    }

    private static Task SendAsync(ClientWebSocket client, byte[] frame)
        => client.SendAsync(frame, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);

    /// <summary>Connects, sends <paramref name="count"/> copies of one 29-byte trade (quantity 1000), one message each,
    /// and closes cleanly.</summary>
    private static async Task SendTradesAndCloseAsync(Uri url, int count)
    {
        using var client = new ClientWebSocket();
        await client.ConnectAsync(url, CancellationToken.None);
        byte[] trade = Convert.FromHexString("15000100010000003930000000000000420000000000205940e8030000");
        for (int i = 0; i < count; i++)
        {
            await client.SendAsync(trade, WebSocketMessageType.Binary, true, CancellationToken.None);
        }

        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
    }
}
