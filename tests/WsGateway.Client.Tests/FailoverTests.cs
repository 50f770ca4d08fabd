using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using WsGateway.Sbe;

namespace WsGateway.Client.Tests;

/// <summary><see cref="ReliableTradeClient.FailOverAsync(CancellationToken)"/> against real gateways: a dead one skipped, the next taking
/// the resend, a deadline ending the search with the trades kept.</summary>
public sealed class FailoverTests
{
    [Fact]
    public async Task The_gateway_stopped_the_client_skips_a_dead_one_and_resends_the_unacknowledged_to_the_next()
    {
        var received = new ConcurrentQueue<(char Gateway, ulong Id)>();
        WebSocketServer first = new WebSocketServer("127.0.0.1:0", _ => new Acking('A', acknowledgeUpTo: 5, received)).Start();
        await using WebSocketServer third = new WebSocketServer("127.0.0.1:0", _ => new Acking('C', acknowledgeUpTo: int.MaxValue, received)).Start();
        Uri dead = DeadUrl();
        await using ReliableTradeClient client = await ReliableTradeClient.ConnectAsync(first.Url, new ReliableTradeClientOptions
        {
            FailoverUrls = [dead, third.Url],
            ReconnectDelay = TimeSpan.FromMilliseconds(20),
        });

        for (ulong id = 1; id <= 8; id++)
        {
            await client.SendAsync(new Trade(id, (byte)'F', 1.5, 1));
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await client.WaitForAcknowledgementAsync(5, timeout.Token);
        await first.DisposeAsync(); // the first gateway goes away with trades 6-8 unacknowledged

        await Assert.ThrowsAsync<System.Net.WebSockets.WebSocketException>(() => client.WaitForAllAcknowledgedAsync(timeout.Token));
        int failed = await client.FailOverAsync(timeout.Token);
        await client.WaitForAllAcknowledgedAsync(timeout.Token);

        Assert.Equal(1, failed); // the dead URL
        Assert.Equal(third.Url, client.Url);
        Assert.Equal(1, client.Reconnects);
        Assert.Equal(8, client.Acknowledged);
        Assert.Equal([6UL, 7UL, 8UL], received.Where(r => r.Gateway == 'C').Select(r => r.Id));
    }

    [Fact]
    public async Task With_no_gateway_left_the_deadline_ends_the_search_and_the_trades_are_kept()
    {
        var received = new ConcurrentQueue<(char Gateway, ulong Id)>();
        WebSocketServer only = new WebSocketServer("127.0.0.1:0", _ => new Acking('A', acknowledgeUpTo: 0, received)).Start();
        await using ReliableTradeClient client = await ReliableTradeClient.ConnectAsync(only.Url, new ReliableTradeClientOptions
        {
            FailoverUrls = [DeadUrl()],
            ReconnectDelay = TimeSpan.FromMilliseconds(10),
            MaxReconnectDelay = TimeSpan.FromMilliseconds(50),
        });
        await client.SendAsync(new Trade(1, (byte)'F', 1.5, 1));
        await only.DisposeAsync();

        using var deadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(600));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.FailOverAsync(deadline.Token));
        Assert.Equal(1, client.Unacknowledged);
    }

    [Fact]
    public async Task Clients_of_a_gateway_that_went_away_reconnect_spread_over_the_backoff_not_at_one_instant()
    {
        const int Clients = 50;
        var arrivals = new ConcurrentQueue<long>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        WebSocketServer first = new WebSocketServer("127.0.0.1:0", _ => new Acking('A', 0, new ConcurrentQueue<(char, ulong)>())).Start();
        await using WebSocketServer second = new WebSocketServer("127.0.0.1:0", _ => new Arrival(clock, arrivals)).Start();
        var options = new ReliableTradeClientOptions { FailoverUrls = [second.Url], ReconnectDelay = TimeSpan.FromMilliseconds(200), MaxReconnectDelay = TimeSpan.FromMilliseconds(200) };
        var clients = new ReliableTradeClient[Clients];
        for (int i = 0; i < Clients; i++)
        {
            clients[i] = await ReliableTradeClient.ConnectAsync(first.Url, options);
        }

        await first.DisposeAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await Task.WhenAll(clients.Select(c => c.FailOverAsync(timeout.Token)));
        foreach (ReliableTradeClient client in clients)
        {
            await client.DisposeAsync();
        }

        // Each waited a uniform time below 200 ms: 50 such waits span far more than 40 ms (all within 40 ms has a
        // probability below 0.2^49); without the jitter they arrive within a few milliseconds of each other.
        long[] times = [.. arrivals.Order()];
        Assert.Equal(Clients, times.Length);
        Assert.True(times[^1] - times[0] >= 40, $"{Clients} reconnects arrived within {times[^1] - times[0]} ms");
    }

    [Fact]
    public async Task Closing_against_a_gateway_that_never_answers_ends_at_the_callers_token()
    {
        // A peer that completes the handshake and then reads and answers nothing (a frozen gateway).
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        Task<Socket> accepted = AcceptAndUpgradeAsync(listener);
        await using ReliableTradeClient client = await ReliableTradeClient.ConnectAsync(new Uri($"ws://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/"));
        using Socket peer = await accepted;

        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var token = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.CloseAsync(token.Token));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the close took {clock.Elapsed.TotalSeconds:0.0} s against a token of 0.3 s");
    }

    private static async Task<Socket> AcceptAndUpgradeAsync(TcpListener listener)
    {
        Socket socket = await listener.AcceptSocketAsync();
        byte[] buffer = new byte[4096];
        int read = 0;
        while (!System.Text.Encoding.ASCII.GetString(buffer, 0, read).Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            read += await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None);
        }

        string request = System.Text.Encoding.ASCII.GetString(buffer, 0, read);
        string key = request.Split("\r\n").First(l => l.StartsWith("Sec-WebSocket-Key:", StringComparison.OrdinalIgnoreCase))["Sec-WebSocket-Key:".Length..].Trim();
        string accept = Convert.ToBase64String(System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
        await socket.SendAsync(System.Text.Encoding.ASCII.GetBytes($"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"), SocketFlags.None);
        return socket;
    }

    [Theory]
    [InlineData(0, 100, "ReconnectDelay must be positive")]
    [InlineData(200, 100, "MaxReconnectDelay at least as long")]
    public void Backoff_options_out_of_range_are_refused_by_name(int initialMs, int maxMs, string expected)
    {
        var options = new ReliableTradeClientOptions { ReconnectDelay = TimeSpan.FromMilliseconds(initialMs), MaxReconnectDelay = TimeSpan.FromMilliseconds(maxMs) };
        Assert.Contains(expected, options.Validate(), StringComparison.Ordinal);
        Assert.Contains("FailoverUrls must hold absolute ws:// or wss:// URLs", new ReliableTradeClientOptions { FailoverUrls = [new Uri("http://127.0.0.1/")] }.Validate(), StringComparison.Ordinal);
    }

    /// <summary>A URL where nothing listens (a port just freed).</summary>
    private static Uri DeadUrl()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return new Uri($"ws://127.0.0.1:{port}/");
    }

    /// <summary>Records when each connection arrived.</summary>
    private sealed class Arrival(System.Diagnostics.Stopwatch clock, ConcurrentQueue<long> arrivals) : ITradeMessageHandler
    {
        public void OnConnect(IGatewayConnection connection) => arrivals.Enqueue(clock.ElapsedMilliseconds);

        public void OnTrade(ReadOnlySpan<byte> data)
        {
        }
    }

    /// <summary>Acknowledges every trade it receives up to a count, as a gateway with a sink would.</summary>
    private sealed class Acking(char gateway, int acknowledgeUpTo, ConcurrentQueue<(char Gateway, ulong Id)> received) : ITradeMessageHandler
    {
        private IGatewayConnection? _connection;
        private ulong _count;

        public void OnConnect(IGatewayConnection connection) => _connection = connection;

        public void OnTrade(ReadOnlySpan<byte> data)
        {
            Trade trade = Trade.Decode(data);
            received.Enqueue((gateway, trade.TradeId));
            if (++_count <= (ulong)acknowledgeUpTo)
            {
                byte[] ack = new byte[TradeAck.EncodedSize];
                new TradeAck(trade.TradeId, _count).Encode(ack);
                _connection!.Send(ack);
            }
        }
    }
}
