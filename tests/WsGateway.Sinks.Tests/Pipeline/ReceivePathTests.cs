using WsGateway.Client;
using WsGateway.Sbe;
using WsGateway.Sinks.Tests.Infrastructure;

namespace WsGateway.Sinks.Tests.Pipeline;

/// <summary>What the receive thread pays, and the client's resend buffer when it wraps around.</summary>
public sealed class ReceivePathTests
{
    [Fact]
    public async Task Handing_reads_over_allocates_nothing_per_trade_on_the_receive_thread_in_steady_state()
    {
        var sink = new GatedSink { Open = true };
        await using var pipeline = new SinkPipeline(sink, new SinkPipelineOptions { MaxInFlightTrades = 1_000_000 });
        var connection = new RecordingConnection(1);
        var handler = (IReadCompletionHandler)pipeline.CreateHandler();
        handler.OnConnect(connection);
        var frame = new byte[64 * Trade.EncodedSize];
        for (int i = 0; i < 64; i++)
        {
            new Trade((ulong)i + 1, (byte)'A', 1.5, 1).Encode(frame.AsSpan(i * Trade.EncodedSize));
        }

        byte[] single = frame[..Trade.EncodedSize];
        void OneRead()
        {
            handler.OnTrades(frame, Trade.EncodedSize); // one read: a 64-trade frame and a single trade
            handler.OnTrade(single);
            handler.OnReadComplete();

            // Steady state: the publishing task has stored the batch and put it back in the pool before the next
            // read (waiting without allocating; on a loaded machine it may take a while to get the CPU).
            while (pipeline.GetStatus().InFlightTrades != 0)
            {
                Thread.Yield();
            }
        }

        for (int i = 0; i < 500; i++)
        {
            OneRead(); // warm-up: the pooled batch and its buffer, the channel's segments, the tiered JIT
        }

        const int Reads = 2_000;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Reads; i++)
        {
            OneRead();
        }

        // Nothing per trade. Per read at most the thread-pool work item that wakes an idle publishing task (the
        // channel's continuation, 24 bytes); none while the publishing tasks are busy, as under load.
        double perRead = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)Reads;
        Assert.True(perRead <= 32, $"{perRead:0.0} bytes allocated per read of 65 trades on the receive thread");
        await connection.WaitForAckAsync((ulong)(2_500 * 65));
    }

    [Fact]
    public async Task The_reliable_client_wraps_its_resend_buffer_and_resends_across_the_wrap_after_a_gateway_restart()
    {
        var sink = new GatedSink { Open = true };
        await using var pipeline = new SinkPipeline(sink);
        int port = FreePorts.Take(1)[0];
        var server = new WebSocketServer($"127.0.0.1:{port}", _ => pipeline.CreateHandler());
        await server.StartAsync();
        await using ReliableTradeClient client = await ReliableTradeClient.ConnectAsync(
            new Uri($"ws://127.0.0.1:{port}/"), new ReliableTradeClientOptions { MaxUnacknowledged = 100, MaxTradesPerFrame = 30 });
        const int Count = 1_000;
        bool restarted = false;
        while (client.Sent < Count)
        {
            int n = (int)Math.Min(7 + (client.Sent % 40), Count - client.Sent);
            Trade[] trades = [.. Enumerable.Range((int)client.Sent + 1, n).Select(i => new Trade((ulong)i, (byte)'W', 2.5, (uint)i))];
            try
            {
                await client.SendAsync(trades);
            }
            catch (Exception e) when (e is System.Net.WebSockets.WebSocketException or IOException)
            {
                server = new WebSocketServer($"127.0.0.1:{port}", _ => pipeline.CreateHandler());
                await server.StartAsync();
                await client.ReconnectAsync();
                continue;
            }

            if (!restarted && client.Sent >= 450)
            {
                restarted = true;
                await server.StopAsync(); // the gateway goes away with acknowledgements possibly on the way
                await server.DisposeAsync();
            }
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await client.WaitForAllAcknowledgedAsync(timeout.Token);
        await server.DisposeAsync();

        // An in-memory sink does not deduplicate: at least once, every id, the first copies in order.
        ulong[] stored = [.. sink.Stored.Select(t => t.TradeId)];
        Assert.Equal(Enumerable.Range(1, Count).Select(i => (ulong)i), stored.Distinct().Order());
        Assert.All(sink.Stored, t => Assert.Equal((uint)t.TradeId, t.Quantity));
        Assert.Equal(Count, client.Acknowledged);
        Assert.True(restarted);
    }
}
