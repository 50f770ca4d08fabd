using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using WsGateway.Tests.Infrastructure;

namespace WsGateway.Tests.Soak;

/// <summary>
/// Hundreds of real loopback connections sending while some vanish in the middle of a frame and the server shuts down
/// gracefully in the middle: every message reaches its handler exactly once and in order, every connection gets
/// exactly one OnDisconnect (1006 for the vanished, 1001 or 1000 for the others). Bounded to about 15 s.
/// </summary>
public sealed class SoakTests
{
    private const int Connections = 200;

    [Fact]
    public async Task Two_hundred_connections_some_vanishing_mid_frame_through_a_graceful_shutdown()
    {
        using var overall = new CancellationTokenSource(TimeSpan.FromSeconds(25));
        var handlers = new ConcurrentDictionary<int, SequenceHandler>();
        var options = new TradeGatewayOptions { KeepAliveInterval = TimeSpan.Zero, ShutdownTimeout = TimeSpan.FromSeconds(10), CloseTimeout = TimeSpan.FromSeconds(5) };
        WebSocketServer server = new WebSocketServer("127.0.0.1:0", c => handlers.GetOrAdd(int.Parse(c.Path[6..], System.Globalization.CultureInfo.InvariantCulture), _ => new SequenceHandler()), options).Start();
        var clock = Stopwatch.StartNew();

        var clients = new Task<ClientOutcome>[Connections];
        for (int i = 0; i < Connections; i++)
        {
            int index = i;
            bool vanishes = index % 5 == 0;
            clients[i] = Task.Run(() => RunClientAsync(server, index, vanishes, overall.Token));
        }

        await Task.Delay(TimeSpan.FromSeconds(2), overall.Token);
        await server.StopAsync().WaitAsync(overall.Token);
        ClientOutcome[] outcomes = await Task.WhenAll(clients).WaitAsync(overall.Token);
        await server.DisposeAsync();

        Assert.Equal(Connections, handlers.Count);
        long total = 0;
        foreach (ClientOutcome outcome in outcomes)
        {
            SequenceHandler handler = handlers[outcome.Index];
            Assert.True(handler.OutOfOrder is null, $"connection {outcome.Index}: {handler.OutOfOrder}");
            Assert.Equal(1, handler.Disconnects);
            WebSocketCloseInfo close = handler.Close!.Value;
            if (outcome.Vanished)
            {
                Assert.Equal(1006, close.Code);
                Assert.InRange(handler.Count, 0, outcome.MessagesSent); // a reset may discard bytes still in flight
            }
            else
            {
                Assert.True(close.Code is 1001 or 1000, $"connection {outcome.Index} closed with {close.Code}");
                Assert.Equal(outcome.MessagesSent, handler.Count); // everything sent before the client's close arrived
            }

            total += handler.Count;
        }

        Assert.True(outcomes.Count(o => o.Vanished) >= Connections / 5);
        Assert.True(total > Connections * 10, $"only {total} messages in the run");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
    }

    private sealed record ClientOutcome(int Index, bool Vanished, int MessagesSent);

    /// <summary>Sends trades with ids 0, 1, 2, ... (single frames and batches) until the server's 1001 arrives, then
    /// answers the close; a vanishing client instead sends half a frame and resets the connection.</summary>
    private static async Task<ClientOutcome> RunClientAsync(WebSocketServer server, int index, bool vanishes, CancellationToken cancellationToken)
    {
        var random = new Random(index);
        using RawWebSocketClient client = await RawWebSocketClient.ConnectAsync(server.LocalEndPoint!, $"/soak/{index}", cancellationToken);
        Task<ServerFrame?> closeFromServer = client.ReadFrameAsync(cancellationToken);
        int vanishAfter = vanishes ? random.Next(0, 300) : int.MaxValue;
        ulong next = 0;
        while (!closeFromServer.IsCompleted)
        {
            int count = random.Next(1, 8);
            byte[] frame = ClientFrames.BinaryFrame(count == 1 ? ClientFrames.Trade(next) : ClientFrames.Trades(next, count));
            if ((int)next + count > vanishAfter)
            {
                await client.SendAsync(frame.AsMemory(0, 1 + random.Next(frame.Length - 1)), cancellationToken);
                client.Abort();
                return new ClientOutcome(index, true, (int)next);
            }

            try
            {
                await client.SendAsync(frame, cancellationToken);
            }
            catch (System.Net.Sockets.SocketException)
            {
                break;
            }

            next += (ulong)count;
            await Task.Delay(random.Next(1, 20), cancellationToken);
        }

        ServerFrame? close = await closeFromServer;
        if (vanishes)
        {
            // The shutdown came first: vanish now, mid-frame.
            byte[] frame = ClientFrames.BinaryFrame(ClientFrames.Trade(next));
            await client.SendAsync(frame.AsMemory(0, 5), cancellationToken);
            client.Abort();
            return new ClientOutcome(index, true, (int)next);
        }

        Assert.Equal((ushort)1001, close?.CloseCode);
        await client.SendAsync(ClientFrames.CloseFrame(1001), cancellationToken);
        while (await client.ReadFrameAsync(cancellationToken) is not null)
        {
        }

        return new ClientOutcome(index, false, (int)next);
    }

    /// <summary>Checks, as they arrive, that trade ids are contiguous from 0 (no gap, no duplicate, no reordering).</summary>
    private sealed class SequenceHandler : ITradeMessageHandler
    {
        private int _disconnects;

        public int Count { get; private set; }

        public string? OutOfOrder { get; private set; }

        public WebSocketCloseInfo? Close { get; private set; }

        public int Disconnects => Volatile.Read(ref _disconnects);

        public void OnTrade(ReadOnlySpan<byte> data)
        {
            ulong id = BinaryPrimitives.ReadUInt64LittleEndian(data[8..]);
            if (id != (ulong)Count && OutOfOrder is null)
            {
                OutOfOrder = $"expected trade {Count}, got {id}";
            }

            Count++;
        }

        public void OnError(WsError error)
        {
            if (error.Kind != WsErrorKind.Transport && error.Kind != WsErrorKind.Timeout)
            {
                OutOfOrder ??= error.ToString();
            }
        }

        public void OnDisconnect(WebSocketCloseInfo close)
        {
            Close = close;
            Interlocked.Increment(ref _disconnects);
        }
    }
}
