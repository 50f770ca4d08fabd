using System.Buffers.Binary;
using System.Collections.Concurrent;
using WsGateway.Handlers;
using WsGateway.Sbe;

namespace WsGateway.Cli.Tests;

/// <summary><c>wsgw send</c>'s run in process, against the real gateway on 127.0.0.1 (the process itself:
/// <see cref="SendProcessTests"/>).</summary>
public sealed class SendCommandTests
{
    [Fact]
    public async Task Send_delivers_every_trade_over_every_connection_single_and_batched()
    {
        var ids = new ConcurrentBag<ulong>();
        var frames = new ConcurrentBag<int>();
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new IdHandler(ids, frames)).Start();

        var plan = new SendCommand.SendPlan(server.Url, Count: 1003, Connections: 3, Batch: 10, Rate: 0);
        SendSummary summary = await SendRunner.RunAsync(plan, null, TextWriter.Null, CancellationToken.None);

        Assert.Equal(1003, summary.TradesSent);
        Assert.Equal(0, summary.TradesUnsent);
        Assert.Equal(0, summary.ConnectionsFailed);
        Assert.Equal("3x 1000", summary.Closes);
        Assert.Equal(0, summary.ExitCode);
        await WaitForAsync(() => ids.Count == 1003);
        Assert.Equal(1003, ids.Distinct().Count());
        Assert.Equal(Enumerable.Range(0, 1003).Select(i => (ulong)i), ids.Order()); // --first-id 0 + the trade's number
        Assert.Equal(3 * 34, frames.Count); // 335/334/334 trades in frames of 10: 34 frames each
        Assert.Equal(summary.FramesSent, frames.Count);
        Assert.Equal(0, summary.FramesReceived); // the stats-like handler sends nothing back
    }

    [Fact]
    public async Task First_id_moves_every_generated_id_and_each_connection_sends_a_contiguous_range()
    {
        var frames = new ConcurrentBag<ulong[]>();
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new FrameIds(frames)).Start();

        // 10 trades over 3 connections in frames of 10: one frame per connection, 4, 3 and 3 trades.
        var plan = new SendCommand.SendPlan(server.Url, Count: 10, Connections: 3, Batch: 10, Rate: 0) { FirstId = 5000 };
        SendSummary summary = await SendRunner.RunAsync(plan, null, TextWriter.Null, CancellationToken.None);

        Assert.Equal(0, summary.ExitCode);
        await WaitForAsync(() => frames.Count == 3);
        Assert.Equal(
            ["5000-5003", "5004-5006", "5007-5009"],
            frames.Select(f => $"{f[0]}-{f[^1]}").Order(StringComparer.Ordinal));
        Assert.All(frames, f => Assert.Equal(Enumerable.Range(0, f.Length).Select(i => f[0] + (ulong)i), f)); // contiguous
    }

    private sealed class FrameIds(ConcurrentBag<ulong[]> frames) : ITradeMessageHandler
    {
        public void OnTrade(ReadOnlySpan<byte> data) => frames.Add([BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(8))]);

        public void OnTrades(ReadOnlySpan<byte> data, int messageSize)
        {
            var ids = new ulong[data.Length / messageSize];
            for (int i = 0; i < ids.Length; i++)
            {
                ids[i] = BinaryPrimitives.ReadUInt64LittleEndian(data.Slice((i * messageSize) + 8));
            }

            frames.Add(ids);
        }
    }

    [Fact]
    public async Task Echoes_are_read_while_sending_counted_and_verified()
    {
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new EchoHandler()).Start();

        // 200,000 trades one per frame is ~7 MB of echoes: more than both sides' socket buffers hold, so a send that
        // did not read while sending would stall here (the run is bounded by the WaitAsync).
        var plan = new SendCommand.SendPlan(server.Url, Count: 200_000, Connections: 2, Batch: 1, Rate: 0) { Verify = true };
        var errors = new StringWriter();
        SendSummary summary = await SendRunner.RunAsync(plan, null, errors, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(200_000, summary.TradesSent);
        Assert.Equal(200_000, summary.FramesSent);
        Assert.Equal(200_000, summary.TradesReceived);
        Assert.Equal(200_000, summary.FramesReceived);
        Assert.Equal(0, summary.FramesDiffering);
        Assert.Equal(0, summary.FramesNotEchoed);
        Assert.Equal("2x 1000", summary.Closes);
        Assert.Equal(0, summary.ExitCode);
        Assert.Empty(errors.ToString());
        Assert.Contains("wsgw send: received 200000 trades in 200000 frames from the server; --verify: 200000 frames as sent, 0 frames differed, 0 frames did not come back\n", summary.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_corrupted_echo_is_reported_with_its_frame_and_trade_and_exit_code_3()
    {
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new CorruptingEcho(corruptFrame: 6, trade: 2)).Start();

        var plan = new SendCommand.SendPlan(server.Url, Count: 1000, Connections: 1, Batch: 10, Rate: 0) { Verify = true };
        var errors = new StringWriter();
        SendSummary summary = await SendRunner.RunAsync(plan, null, errors, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        // Frame 6 holds trades 51-60 (numbered from 1); its third, number 53, is generated from index 52:
        // id 52, symbol 'A' + 52 % 26, price 100 + 52 * 0.25, quantity 53, which the server turned into 54.
        Assert.Equal(
            "wsgw send: --verify: connection 0: frame 6, trade 53: sent Trade { TradeId = 52, Symbol = 'A', Price = 113, Quantity = 53 }, "
            + "came back Trade { TradeId = 52, Symbol = 'A', Price = 113, Quantity = 54 }" + Environment.NewLine,
            errors.ToString());
        Assert.Equal(1, summary.FramesDiffering);
        Assert.Equal(100, summary.FramesReceived);
        Assert.Equal("1x 1000", summary.Closes);
        Assert.Equal(3, summary.ExitCode);
        Assert.Contains("--verify: 99 frames as sent, 1 frames differed, 0 frames did not come back", summary.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_an_echoing_server_verify_fails_because_nothing_came_back()
    {
        var ids = new ConcurrentBag<ulong>();
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new IdHandler(ids, [])).Start();

        var plan = new SendCommand.SendPlan(server.Url, Count: 100, Connections: 1, Batch: 1, Rate: 0) { Verify = true };
        SendSummary summary = await SendRunner.RunAsync(plan, null, TextWriter.Null, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(100, summary.FramesNotEchoed);
        Assert.Equal(3, summary.ExitCode);
    }

    [Fact]
    public async Task A_close_by_the_server_mid_run_counts_exactly_what_reached_it_and_what_was_unsent()
    {
        // The server closes with 4000 after 5,000 trades but, as the gateway does, still delivers what arrives until
        // the client's answer: the trades send counts as sent are exactly the trades the server got.
        var counter = new ClosingCounter(closeAfter: 5_000);
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => counter).Start();

        var plan = new SendCommand.SendPlan(server.Url, Count: 2_000_000, Connections: 1, Batch: 1, Rate: 0);
        SendSummary summary = await SendRunner.RunAsync(plan, null, TextWriter.Null, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        await counter.Disconnected.Task.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(counter.Trades, summary.TradesSent);
        Assert.Equal(counter.Trades, summary.FramesSent);
        Assert.InRange(summary.TradesSent, 5_000, 1_999_999);
        Assert.Equal(2_000_000 - summary.TradesSent, summary.TradesUnsent);
        Assert.Equal("1x 4000 from the server \"enough\"", summary.Closes);
        Assert.Equal(1, summary.ConnectionsFailed);
        Assert.Equal(1, summary.ExitCode);
        string text = summary.ToString();
        Assert.Contains($"sent {counter.Trades} trades in {counter.Trades} frames", text, StringComparison.Ordinal);
        Assert.Contains($"; {2_000_000 - counter.Trades} trades unsent\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Keep_alive_pings_are_answered_while_send_waits_between_paced_trades()
    {
        // The server pings after 1 s of quiet and drops the connection when no pong comes within 1 s; send is quiet
        // for 4 s between its two trades, so it stays connected only by answering the pings.
        var ids = new ConcurrentBag<ulong>();
        var options = new TradeGatewayOptions { KeepAliveInterval = TimeSpan.FromSeconds(1), KeepAliveTimeout = TimeSpan.FromSeconds(1) };
        await using WebSocketServer server = new WebSocketServer("127.0.0.1:0", _ => new IdHandler(ids, []), options).Start();

        var plan = new SendCommand.SendPlan(server.Url, Count: 2, Connections: 1, Batch: 1, Rate: 0.25);
        SendSummary summary = await SendRunner.RunAsync(plan, null, TextWriter.Null, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal("1x 1000", summary.Closes);
        Assert.Equal(2, summary.TradesSent);
        Assert.Equal(0, summary.ExitCode);
        await WaitForAsync(() => ids.Count == 2);
    }

    [Fact]
    public void Generated_trade_ids_are_first_id_plus_the_trades_number()
    {
        Trade a = SendCommand.Generate(0, 5);
        Trade b = SendCommand.Generate(1000, 5);
        Assert.Equal(5UL, a.TradeId);
        Assert.Equal(1005UL, b.TradeId);
        Assert.Equal((byte)'F', a.Symbol);
        Assert.Equal(101.25, a.Price);
        Assert.Equal(6u, a.Quantity);
    }

    [Fact]
    public void A_file_of_trades_is_read_and_a_bad_one_is_refused_with_its_position()
    {
        string path = Path.GetTempFileName();
        try
        {
            byte[] bytes = new byte[29 * 2 + 20];
            new Trade(1, (byte)'A', 1.5, 10).Encode(bytes);
            new Trade(2, (byte)'B', 2.5, 20).Encode(bytes.AsSpan(29));
            new Trade(3, (byte)'C', 3.5, 30).Encode()[..20].CopyTo(bytes, 58); // cut short
            File.WriteAllBytes(path, bytes);

            Assert.False(SendCommand.TryReadTrades(new FileInfo(path), out _, out string? error));
            Assert.Equal($"{Path.GetFileName(path)}: message 3 at offset 58: Insufficient data: expected 29 bytes, got 20", error);

            File.WriteAllBytes(path, bytes[..58]);
            Assert.True(SendCommand.TryReadTrades(new FileInfo(path), out Trade[] trades, out _));
            Assert.Equal([1UL, 2UL], trades.Select(t => t.TradeId));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (int i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition());
    }

    private sealed class IdHandler(ConcurrentBag<ulong> ids, ConcurrentBag<int> frames) : ITradeMessageHandler
    {
        public void OnTrade(ReadOnlySpan<byte> data)
        {
            frames.Add(1);
            ids.Add(BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(8)));
        }

        public void OnTrades(ReadOnlySpan<byte> data, int messageSize)
        {
            frames.Add(data.Length / messageSize);
            for (int offset = 0; offset < data.Length; offset += messageSize)
            {
                ids.Add(BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(offset + 8)));
            }
        }
    }

    /// <summary>Echoes every frame, except that in frame <c>corruptFrame</c> (from 1) it adds one to the quantity of
    /// trade <c>trade</c> (from 0).</summary>
    internal sealed class CorruptingEcho(int corruptFrame, int trade) : ITradeMessageHandler
    {
        private IGatewayConnection? _connection;
        private int _frames;

        public void OnConnect(IGatewayConnection connection) => _connection = connection;

        public void OnTrade(ReadOnlySpan<byte> data) => Echo(data);

        public void OnTrades(ReadOnlySpan<byte> data, int messageSize) => Echo(data);

        private void Echo(ReadOnlySpan<byte> data)
        {
            if (++_frames != corruptFrame)
            {
                _connection!.Send(data);
                return;
            }

            byte[] copy = data.ToArray();
            copy[(trade * 29) + 8 + 17]++; // the quantity's low byte: header 8, then id 8, symbol 1, price 8
            _connection!.Send(copy);
        }
    }

    private sealed class ClosingCounter(int closeAfter) : ITradeMessageHandler
    {
        private IGatewayConnection? _connection;
        private long _trades;

        public TaskCompletionSource Disconnected { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public long Trades => Volatile.Read(ref _trades);

        public void OnConnect(IGatewayConnection connection) => _connection = connection;

        public void OnTrade(ReadOnlySpan<byte> data)
        {
            if (++_trades == closeAfter)
            {
                _connection!.Close(4000, "enough");
            }
        }

        public void OnDisconnect(WebSocketCloseInfo close) => Disconnected.TrySetResult();
    }
}
