using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using WsGateway.Handlers;
using WsGateway.Tests.Infrastructure;
using Xunit.Abstractions;

namespace WsGateway.Tests.Soak;

/// <summary>Runs alone (after the parallel tests), so that its socket, descriptor and memory counts are its own.</summary>
[CollectionDefinition(nameof(SoakCollection), DisableParallelization = true)]
public sealed class SoakCollection;

/// <summary>
/// Issue 11's soak: healthy clients stream verified trades while faulty ones (not reading, dripping, garbage,
/// vanishing mid-frame, handshake only) come and go. Every healthy trade arrives exactly once and in order; once the
/// faulty clients have left, the server's open sockets, the socket descriptors on its port and the process's memory return to
/// their baseline; the heartbeat keeps its schedule throughout (a probe's unfinished handshake is always answered
/// 408 on time). About a minute; <c>WSGW_SOAK_SECONDS</c> sets how long the faulty clients run (default 40).
/// </summary>
[Collection(nameof(SoakCollection))]
public sealed class FaultSoakTests(ITestOutputHelper output)
{
    private const int Healthy = 8;
    private const int FaultyAtOnce = 12;

    [Fact]
    public async Task Healthy_clients_are_unharmed_while_faulty_ones_come_and_go_and_everything_returns_to_baseline()
    {
        TimeSpan faultsFor = TimeSpan.FromSeconds(int.TryParse(Environment.GetEnvironmentVariable("WSGW_SOAK_SECONDS"), CultureInfo.InvariantCulture, out int s) && s > 0 ? s : 40);
        using var overall = new CancellationTokenSource(faultsFor + TimeSpan.FromSeconds(60));
        var options = new TradeGatewayOptions
        {
            MaxMessageSize = 1024 * 1024,
            HandshakeTimeout = TimeSpan.FromSeconds(2),
            KeepAliveInterval = TimeSpan.FromSeconds(2),
            KeepAliveTimeout = TimeSpan.FromSeconds(2),
            CloseTimeout = TimeSpan.FromSeconds(2),
            WriteTimeout = TimeSpan.FromSeconds(3),
            MinReceiveRate = new MinReceiveRate(200, TimeSpan.FromSeconds(2)),
        };
        var handlers = new ConcurrentDictionary<int, SequenceHandler>();
        await using WebSocketServer server = new WebSocketServer(
            "127.0.0.1:0",
            c => c.Path.StartsWith("/healthy/", StringComparison.Ordinal)
                ? handlers.GetOrAdd(int.Parse(c.Path[9..], CultureInfo.InvariantCulture), _ => new SequenceHandler())
                : new EchoHandler(),
            options).Start();
        int port = server.LocalEndPoint!.Port;

        // Healthy clients first; the baseline is taken with them connected.
        using var stopHealthy = new CancellationTokenSource();
        var healthy = Enumerable.Range(0, Healthy).Select(i => Task.Run(() => RunHealthyAsync(server, i, stopHealthy.Token, overall.Token))).ToArray();
        await WaitUntilAsync(() => server.ConnectionCount == Healthy, overall.Token);
        (int sockets, int fds, long rss) baseline = await MeasureAsync(port);
        output.WriteLine($"baseline: {baseline.sockets} server sockets, {baseline.fds} socket fds on the port, {baseline.rss / 1048576} MiB");

        // Faulty clients, FaultyAtOnce at a time, and the heartbeat probe, for faultsFor.
        using var stopFaults = new CancellationTokenSource(faultsFor);
        var kinds = new ConcurrentDictionary<string, int>();
        Task faults = Task.WhenAll(Enumerable.Range(0, FaultyAtOnce).Select(worker => Task.Run(async () =>
        {
            var random = new Random(worker);
            while (!stopFaults.IsCancellationRequested)
            {
                string kind = await RunFaultyAsync(server, random, overall.Token);
                kinds.AddOrUpdate(kind, 1, (_, n) => n + 1);
            }
        })));
        var lateness = new List<TimeSpan>();
        while (!stopFaults.IsCancellationRequested)
        {
            lateness.Add(await ProbeHeartbeatAsync(server, options.HandshakeTimeout, overall.Token));
        }

        await faults.WaitAsync(overall.Token);
        output.WriteLine("faulty clients: " + string.Join(", ", kinds.OrderBy(k => k.Key).Select(k => $"{k.Key} {k.Value}")));
        output.WriteLine($"heartbeat probe: {lateness.Count} probes, 408 at most {lateness.Max().TotalSeconds:0.00} s after the handshake timeout");

        // Every faulty connection is gone: back to the baseline.
        await WaitUntilAsync(() => server.ConnectionCount == Healthy && TcpTable.EstablishedOnLocalPort(port) <= baseline.sockets, overall.Token, TimeSpan.FromSeconds(20));
        (int sockets, int fds, long rss) after = await MeasureAsync(port);
        output.WriteLine($"after: {after.sockets} server sockets, {after.fds} socket fds on the port, {after.rss / 1048576} MiB");

        await stopHealthy.CancelAsync();
        (int Index, ulong Sent)[] sent = await Task.WhenAll(healthy).WaitAsync(overall.Token);

        Assert.True(kinds.Count == 5, "every kind of faulty client ran: " + string.Join(", ", kinds.Keys));
        Assert.All(lateness, late => Assert.True(late < TimeSpan.FromSeconds(2.5), $"a 408 came {late.TotalSeconds:0.00} s late"));
        Assert.Equal(baseline.sockets, after.sockets);
        Assert.InRange(after.fds, 0, baseline.fds);
        Assert.InRange(after.rss, 0, baseline.rss + (96L * 1024 * 1024));
        foreach ((int index, ulong count) in sent)
        {
            SequenceHandler handler = handlers[index];
            await WaitUntilAsync(() => handler.Disconnects == 1, overall.Token);
            Assert.True(handler.Problem is null, $"healthy client {index}: {handler.Problem}");
            Assert.Equal(count, handler.Count);
            Assert.Equal(1000, handler.Close!.Value.Code);
            Assert.True(count > 100, $"healthy client {index} sent only {count} trades");
        }
    }

    /// <summary>Streams trades 0, 1, 2, ... (single and batched) until told to stop, then closes with 1000.</summary>
    private static async Task<(int, ulong)> RunHealthyAsync(WebSocketServer server, int index, CancellationToken stop, CancellationToken cancellationToken)
    {
        var random = new Random(1000 + index);
        using RawWebSocketClient client = await RawWebSocketClient.ConnectAsync(server.LocalEndPoint!, $"/healthy/{index}", cancellationToken);
        ulong next = 0;
        while (!stop.IsCancellationRequested)
        {
            int count = random.Next(1, 8);
            await client.SendAsync(ClientFrames.BinaryFrame(count == 1 ? ClientFrames.Trade(next) : ClientFrames.Trades(next, count)), cancellationToken);
            next += (ulong)count;
            await Task.Delay(random.Next(1, 10), cancellationToken);
        }

        await client.SendAsync(ClientFrames.CloseFrame(1000), cancellationToken);
        ServerFrame? close;
        do
        {
            close = await client.ReadFrameAsync(cancellationToken); // a keep-alive ping may come first
        }
        while (close is { Opcode: not ClientFrames.Close });

        Assert.Equal((ushort)1000, close?.CloseCode);
        Assert.Null(await client.ReadFrameAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(5), cancellationToken));
        return (index, next);
    }

    /// <summary>One faulty client, of a random kind; returns its kind once it is gone.</summary>
    private static async Task<string> RunFaultyAsync(WebSocketServer server, Random random, CancellationToken cancellationToken)
    {
        switch (random.Next(5))
        {
            case 0:
                using (StuckClient stuck = await StuckClient.ConnectAsync(server.LocalEndPoint!))
                {
                    // The echo of half a megabyte never drains: the write timeout drops it.
                    await stuck.SendAsync(ClientFrames.BinaryFrame(new byte[512 * 1024])).WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
                    await WaitForServerCloseAsync(stuck.Socket, TimeSpan.FromSeconds(10), cancellationToken);
                }

                return "not reading";
            case 1:
                using (RawWebSocketClient drip = await RawWebSocketClient.ConnectAsync(server.LocalEndPoint!, "/fault", cancellationToken))
                {
                    byte[] frame = ClientFrames.BinaryFrame(new byte[4000]);
                    for (int i = 0; i < frame.Length && drip.Socket.Connected; i++)
                    {
                        try
                        {
                            await drip.SendAsync(frame.AsMemory(i, 1), cancellationToken);
                        }
                        catch (SocketException)
                        {
                            break;
                        }

                        if (drip.Socket.Poll(0, SelectMode.SelectRead))
                        {
                            break; // the server's close (or FIN)
                        }

                        await Task.Delay(250, cancellationToken);
                    }
                }

                return "dripping";
            case 2:
                using (RawWebSocketClient garbage = await RawWebSocketClient.ConnectAsync(server.LocalEndPoint!, "/fault", cancellationToken))
                {
                    byte[] bytes = new byte[random.Next(2, 2000)];
                    random.NextBytes(bytes);
                    bytes[0] = 0xF2; // reserved bits set: a protocol error whatever follows
                    await garbage.SendAsync(bytes, cancellationToken);
                    await WaitForServerCloseAsync(garbage.Socket, TimeSpan.FromSeconds(10), cancellationToken);
                }

                return "garbage";
            case 3:
                using (RawWebSocketClient vanish = await RawWebSocketClient.ConnectAsync(server.LocalEndPoint!, "/fault", cancellationToken))
                {
                    byte[] frame = ClientFrames.BinaryFrame(new byte[random.Next(100, 100_000)]);
                    await vanish.SendAsync(frame.AsMemory(0, random.Next(1, frame.Length)), cancellationToken);
                    vanish.Abort();
                }

                return "vanishing mid-frame";
            default:
                using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
                {
                    await socket.ConnectAsync(server.LocalEndPoint!, cancellationToken);
                    await socket.SendAsync("GET /fault HTTP/1.1\r\nHost: x\r\n"u8.ToArray(), SocketFlags.None, cancellationToken);
                    await WaitForServerCloseAsync(socket, TimeSpan.FromSeconds(10), cancellationToken);
                }

                return "handshake only";
        }
    }

    /// <summary>Starts a handshake and never finishes it; returns how long after the handshake timeout the 408
    /// came (the heartbeat runs once a second, so up to a second is on schedule; the test allows 2.5 s on a loaded machine,
    /// where a stalled heartbeat would never answer).</summary>
    private static async Task<TimeSpan> ProbeHeartbeatAsync(WebSocketServer server, TimeSpan handshakeTimeout, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var clock = Stopwatch.StartNew();
        await socket.ConnectAsync(server.LocalEndPoint!, cancellationToken);
        await socket.SendAsync("GET /probe HTTP/1.1\r\n"u8.ToArray(), SocketFlags.None, cancellationToken);
        byte[] buffer = new byte[256];
        int n = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(15), cancellationToken);
        TimeSpan late = clock.Elapsed - handshakeTimeout;
        Assert.StartsWith("HTTP/1.1 408 ", Encoding.ASCII.GetString(buffer, 0, n), StringComparison.Ordinal);
        return late;
    }

    /// <summary>Reads (and drops) what the server sends until it closes the connection; fails after the timeout.</summary>
    private static async Task WaitForServerCloseAsync(Socket socket, TimeSpan timeout, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[64 * 1024];
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token) > 0)
            {
            }
        }
        catch (SocketException)
        {
            // reset: closed as well
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Assert.Fail($"the server did not close a faulty connection within {timeout}");
        }
    }

    private static async Task<(int Sockets, int Fds, long Rss)> MeasureAsync(int port)
    {
        for (int i = 0; i < 3; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            await Task.Delay(100);
        }

        using var process = Process.GetCurrentProcess();
        return (TcpTable.EstablishedOnLocalPort(port), TcpTable.SocketDescriptorsOnPort(port), process.WorkingSet64);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < (timeout ?? TimeSpan.FromSeconds(10)), "condition not met in time");
            await Task.Delay(50, cancellationToken);
        }
    }

    /// <summary>Checks, as they arrive, that trade ids are contiguous from 0 (no gap, no duplicate, no reordering).</summary>
    private sealed class SequenceHandler : ITradeMessageHandler
    {
        private int _disconnects;

        public ulong Count { get; private set; }

        public string? Problem { get; private set; }

        public WebSocketCloseInfo? Close { get; private set; }

        public int Disconnects => Volatile.Read(ref _disconnects);

        public void OnTrade(ReadOnlySpan<byte> data)
        {
            ulong id = BinaryPrimitives.ReadUInt64LittleEndian(data[8..]);
            if (id != Count && Problem is null)
            {
                Problem = $"expected trade {Count}, got {id}";
            }

            Count++;
        }

        public void OnError(WsError error) => Problem ??= error.ToString();

        public void OnDisconnect(WebSocketCloseInfo close)
        {
            Close = close;
            Interlocked.Increment(ref _disconnects);
        }
    }
}
