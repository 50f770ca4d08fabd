using System.Collections.Concurrent;
using System.Net.WebSockets;
using WsGateway.Client;
using WsGateway.Sbe;
using WsGateway.Sinks.Tests.Infrastructure;

namespace WsGateway.Sinks.Tests.Pipeline;

/// <summary>
/// The durable path's promise under constant backpressure: many connections on one event loop, a small in-flight
/// bound so that reads pause and resume all the time (resumes come from the sink's completions on pool threads), and
/// every trade checked for the connection it arrived on, for being stored exactly once, and for being stored before
/// its acknowledgement reached the client. Run on both transports.
/// </summary>
public sealed class IntegrityStressTests(Xunit.Abstractions.ITestOutputHelper output)
{
    internal const ulong ClientIdBase = 1_000_000_000;

    public static TheoryData<GatewayTransport, int> Rounds()
    {
        var data = new TheoryData<GatewayTransport, int>();
        foreach (GatewayTransport transport in new[] { GatewayTransport.Native, GatewayTransport.Kestrel })
        {
            int rounds = RoundCount();
            for (int round = 1; round <= rounds; round++)
            {
                data.Add(transport, round);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Rounds))]
    public async Task Under_constant_pause_and_resume_every_trade_stays_with_its_connection_and_is_stored_once_before_it_is_acknowledged(GatewayTransport transport, int round)
    {
        const int Clients = 12;
        const int TradesPerClient = 100_000;
        var sink = new StoringSink();
        await using var pipeline = new SinkPipeline(sink, new SinkPipelineOptions { MaxInFlightTrades = 300, MaxConcurrentBatches = 4 });
        var checks = new ConnectionChecks();
        int port = FreePorts.Take(1)[0];
        var options = new TradeGatewayOptions { Transport = transport, EventLoops = 1 };
        await using var server = new WebSocketServer($"127.0.0.1:{port}", c => pipeline.CreateHandler(new AttributionCheck(c, checks, onLoopThread: transport == GatewayTransport.Native)), options);
        await server.StartAsync();
        Assert.Equal(transport, server.Transport);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var runs = new Task<string?>[Clients];
        for (int k = 1; k <= Clients; k++)
        {
            runs[k - 1] = RunClientAsync(port, k, TradesPerClient, sink.Stored.ContainsKey, timeout.Token);
        }

        var elapsed = System.Diagnostics.Stopwatch.StartNew();
        string?[] problems = await Task.WhenAll(runs);
        output.WriteLine($"{transport}, round {round}: {Clients * TradesPerClient} trades stored and acknowledged in {elapsed.ElapsedMilliseconds} ms, {checks.PausesSeen} reads ended paused");
        Assert.All(problems, Assert.Null);
        Assert.Empty(checks.Violations);
        Assert.Equal(0, checks.Errors);
        Assert.Equal(Clients * TradesPerClient, sink.Stored.Count);
        Assert.Empty(sink.Duplicates);
        Assert.True(checks.PausesSeen > 0, "the bound never paused a connection: the test did not exercise pause and resume");
    }

    /// <summary>Client <paramref name="k"/> sends trades with ids <c>k·10⁹+i</c> (i from 1) and quantity <c>k</c> in frames
    /// of 1 to 64 trades, as fast as the socket takes them, to path <c>/k</c>, while a receive loop checks every
    /// acknowledgement (against the sink, when <paramref name="isStored"/> can tell at once), then waits for all of
    /// them and closes. Returns what went wrong, or null.</summary>
    internal static async Task<string?> RunClientAsync(int port, int k, int count, Func<ulong, bool>? isStored, CancellationToken cancellationToken)
    {
        await using TradeClient client = await TradeClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/{k}"), cancellationToken: cancellationToken);
        ulong idBase = (ulong)k * ClientIdBase;
        long acknowledged = 0;
        string? problem = null;
        bool closing = false;
        var allAcknowledged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task receiving = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    ClientMessage message = await client.ReceiveAsync(cancellationToken);
                    if (message.IsClose)
                    {
                        return;
                    }

                    if (!TradeAck.TryDecode(message.Payload.Span, out TradeAck ack))
                    {
                        continue;
                    }

                    // Nothing acknowledged that is not stored: every trade of the acknowledged prefix is in the sink now.
                    for (long i = acknowledged + 1; isStored is not null && i <= (long)ack.Count; i++)
                    {
                        if (!isStored(idBase + (ulong)i))
                        {
                            problem ??= $"client {k}: acknowledged {ack.Count} trades, but trade {idBase + (ulong)i} is not stored";
                        }
                    }

                    if ((long)ack.Count > count || ack.LastTradeId != idBase + ack.Count)
                    {
                        problem ??= $"client {k}: acknowledgement {ack} is not of its own trades (sent {count}, ids from {idBase + 1})";
                    }

                    acknowledged = Math.Max(acknowledged, (long)ack.Count);
                    if (acknowledged == count)
                    {
                        allAcknowledged.TrySetResult();
                    }
                }
            }
            catch (ObjectDisposedException) when (Volatile.Read(ref closing))
            {
                // CloseAsync below ended the client while this loop was about to read again: every ack was in.
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
                problem ??= $"client {k}: {e.Message} after {acknowledged} acknowledged";
                allAcknowledged.TrySetResult();
            }
        }, cancellationToken);

        var trades = new Trade[64];
        int sent = 0;
        int frame = k;
        while (sent < count)
        {
            int n = Math.Min(1 + (frame++ * 7 % 64), count - sent);
            for (int i = 0; i < n; i++)
            {
                trades[i] = new Trade(idBase + (ulong)(sent + i + 1), (byte)'S', 100.25, (uint)k);
            }

            if (!client.TryWriteTrades(trades.AsSpan(0, n)))
            {
                await client.FlushAsync(cancellationToken);
                Assert.True(client.TryWriteTrades(trades.AsSpan(0, n)));
            }

            sent += n;
        }

        await client.FlushAsync(cancellationToken);
        await allAcknowledged.Task.WaitAsync(cancellationToken);
        if (problem is null && acknowledged != count)
        {
            problem = $"client {k}: {acknowledged} of {count} trades acknowledged";
        }

        Volatile.Write(ref closing, true);
        await client.CloseAsync(cancellationToken: cancellationToken);
        await receiving;
        return problem;
    }

    private static int RoundCount()
        => int.TryParse(Environment.GetEnvironmentVariable("WSGW_STRESS_ROUNDS"), out int rounds) && rounds > 0 ? rounds : 10;

    /// <summary>What the connections' handlers saw: trades of another client, errors, pauses.</summary>
    private sealed class ConnectionChecks
    {
        public ConcurrentQueue<string> Violations { get; } = new();

        public int Errors;

        public int PausesSeen;
    }

    /// <summary>The inner handler of each connection: every trade must carry the quantity of the client whose path the
    /// connection was opened on (<c>/k</c>), and on the native transport arrive on an event loop's thread (the one
    /// thread allowed to read its receive buffer).</summary>
    private sealed class AttributionCheck(IGatewayConnection connection, ConnectionChecks checks, bool onLoopThread) : ITradeMessageHandler, IReadCompletionHandler
    {
        private readonly uint _client = uint.Parse(connection.Path.AsSpan(1));

        public void OnTrade(ReadOnlySpan<byte> data)
        {
            if (onLoopThread && Thread.CurrentThread.Name?.StartsWith("wsgw-loop-", StringComparison.Ordinal) != true)
            {
                checks.Violations.Enqueue($"client {_client}: a trade handled on thread '{Thread.CurrentThread.Name}', not its event loop's");
            }

            Trade trade = Trade.Decode(data);
            if (trade.Quantity != _client || trade.TradeId / ClientIdBase != _client)
            {
                checks.Violations.Enqueue($"connection of client {_client} got trade {trade.TradeId} of client {trade.Quantity}");
            }
        }

        public void OnReadComplete()
        {
            if (connection.IsReceivingPaused)
            {
                Interlocked.Increment(ref checks.PausesSeen);
            }
        }

        public void OnError(WsError error)
        {
            Interlocked.Increment(ref checks.Errors);
            checks.Violations.Enqueue($"client {_client}: {error}");
        }
    }

    /// <summary>Stores every trade by id after a short asynchronous wait, completing on a pool thread as a real sink's
    /// acknowledgement does; counts any trade stored twice.</summary>
    private sealed class StoringSink : ITradeSink
    {
        private int _publishes;

        public string Name => "memory";

        public ConcurrentDictionary<ulong, Trade> Stored { get; } = new();

        public ConcurrentQueue<ulong> Duplicates { get; } = new();

        public async ValueTask PublishAsync(TradeBatch batch, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _publishes) % 2 == 0)
            {
                await Task.Delay(1, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await Task.Yield();
            }

            for (int i = 0; i < batch.Count; i++)
            {
                Trade trade = Trade.Decode(batch[i].Span);
                if (!Stored.TryAdd(trade.TradeId, trade))
                {
                    Duplicates.Enqueue(trade.TradeId);
                }
            }
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
