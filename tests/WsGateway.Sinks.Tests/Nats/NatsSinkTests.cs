using NATS.Client.Core;
using NATS.Client.JetStream;
using WsGateway.Client;
using WsGateway.Sbe;
using WsGateway.Sinks.Nats;

namespace WsGateway.Sinks.Tests.Nats;

/// <summary>The gateway (in this process) with a sink pipeline into the three-node JetStream cluster, fed by
/// <see cref="ReliableTradeClient"/>s: what is stored, what is acknowledged, and a node killed in the middle.</summary>
[Collection(NatsClusterCollection.Name)]
public sealed class NatsSinkTests(NatsCluster cluster)
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(NatsRecord.Trade)]
    [InlineData(NatsRecord.Frame)]
    public async Task Every_trade_is_stored_once_as_sent_and_acknowledged_to_its_client(NatsRecord record)
    {
        string stream = NewStreamName();
        const int Count = 5_000;
        await using SinkPipeline pipeline = CreatePipeline(stream, record);
        await using var server = new WebSocketServer("127.0.0.1:0", _ => pipeline.CreateHandler());
        await server.StartAsync();
        await using ReliableTradeClient client = await ReliableTradeClient.ConnectAsync(server.Url);

        Trade[] trades = [.. Enumerable.Range(1, Count).Select(i => StreamContents.TradeFor(i))];
        for (int i = 0; i < Count; i += 50)
        {
            await client.SendAsync(trades.AsMemory(i, 50));
        }

        using var timeout = new CancellationTokenSource(s_wait);
        await client.WaitForAllAcknowledgedAsync(timeout.Token);
        Assert.Equal(Count, client.Acknowledged);
        Assert.Equal((ulong)Count, client.LastAcknowledgedTradeId);

        List<Trade> stored = await StreamContents.ReadAllAsync(cluster, stream);
        StreamContents.AssertExactlyOnce(stored, Count);
        Assert.All(stored, t => Assert.Equal(StreamContents.TradeFor((long)t.TradeId), t));

        // The stream was created by the sink with the options asked for.
        await using NatsConnection nats = cluster.Connect();
        INatsJSStream info = await new NatsJSContext(nats).GetStreamAsync(stream);
        Assert.Equal(3, info.Info.Config.NumReplicas);
        Assert.Equal(TimeSpan.FromMinutes(5), info.Info.Config.DuplicateWindow);
        Assert.Equal(Count, pipeline.GetStatus().TradesStored);

        // One JetStream message per trade, or per WebSocket message of 50 trades.
        Assert.Equal(record == NatsRecord.Frame ? Count / 50 : Count, (long)info.Info.State.Messages);
    }

    [Theory]
    [InlineData(NatsRecord.Trade)]
    [InlineData(NatsRecord.Frame)]
    public async Task A_batch_published_again_is_stored_once_and_each_record_carries_its_id(NatsRecord record)
    {
        string stream = NewStreamName();
        int[] frames = [3, 1, 5, 2];
        byte[] messages = new byte[11 * Trade.EncodedSize];
        for (int i = 0; i < 11; i++)
        {
            StreamContents.TradeFor(101 + i).Encode(messages.AsSpan(i * Trade.EncodedSize));
        }

        var batch = new TradeBatch(messages, 11, Trade.EncodedSize) { Frames = frames };
        await using (var sink = new NatsJetStreamSink(Options(stream, record)))
        {
            await sink.PublishAsync(batch, CancellationToken.None);
            await sink.PublishAsync(batch, CancellationToken.None); // a retry: every record a duplicate
            await sink.PublishAsync(batch with { Messages = messages.AsMemory(3 * Trade.EncodedSize), Count = 8, Frames = frames.AsMemory(1) }, CancellationToken.None); // a resend of the unacknowledged frames
        }

        List<Trade> stored = await StreamContents.ReadAllAsync(cluster, stream);
        StreamContents.AssertExactlyOnce(stored, [.. Enumerable.Range(101, 11).Select(i => (ulong)i)]);

        // What a consumer reads: the record's trades as sent, with the trade id, or the frame's first-last, as Msg-Id.
        await using NatsConnection nats = cluster.Connect();
        var js = new NatsJSContext(nats);
        INatsJSConsumer consumer = await js.CreateOrderedConsumerAsync(stream);
        var ids = new List<string>();
        var sizes = new List<int>();
        using var timeout = new CancellationTokenSource(s_wait);
        await foreach (NatsJSMsg<byte[]> message in consumer.ConsumeAsync<byte[]>(cancellationToken: timeout.Token))
        {
            ids.Add(message.Headers!["Nats-Msg-Id"].ToString());
            sizes.Add(message.Data!.Length / Trade.EncodedSize);
            if (ids.Count == (record == NatsRecord.Frame ? frames.Length : 11))
            {
                break;
            }
        }

        if (record == NatsRecord.Frame)
        {
            Assert.Equal(["101-103", "104", "105-109", "110-111"], ids);
            Assert.Equal(frames, sizes);
        }
        else
        {
            Assert.Equal([.. Enumerable.Range(101, 11).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))], ids);
        }
    }

    /// <summary>The case per-frame records exist for: trades stored whose acknowledgement never reached the client.
    /// The client resends them after reconnecting, and the stream must recognise them as the frames it has.</summary>
    [Theory]
    [InlineData(NatsRecord.Trade)]
    [InlineData(NatsRecord.Frame)]
    public async Task Frames_stored_but_not_acknowledged_when_the_connection_drops_are_resent_and_stored_once(NatsRecord record)
    {
        string stream = NewStreamName();
        const int Count = 6_000;
        const int FrameSize = 37;
        var sink = new CloseAfterStoring(new NatsJetStreamSink(Options(stream, record)), closeAfter: 1_000);
        await using SinkPipeline pipeline = new(sink, new SinkPipelineOptions { RetryMaxDelay = TimeSpan.FromMilliseconds(500) });
        await using var server = new WebSocketServer("127.0.0.1:0", _ => pipeline.CreateHandler(sink));
        await server.StartAsync();
        await using ReliableTradeClient client = await ReliableTradeClient.ConnectAsync(server.Url);

        long reconnects = 0;
        while (client.Sent < Count)
        {
            int size = (int)Math.Min(FrameSize, Count - client.Sent);
            Trade[] frame = [.. Enumerable.Range((int)client.Sent + 1, size).Select(id => StreamContents.TradeFor(id))];
            try
            {
                await client.SendAsync(frame);
                await Task.Delay(client.Sent % 370 == 0 ? 1 : 0);
            }
            catch (System.Net.WebSockets.WebSocketException)
            {
                await client.ReconnectAsync();
                reconnects++;
            }
        }

        try
        {
            await WaitForAllAcknowledgedAsync(client, pipeline);
        }
        catch (System.Net.WebSockets.WebSocketException)
        {
            await client.ReconnectAsync(); // the loss was seen only after the last send: resend now
            reconnects++;
            await WaitForAllAcknowledgedAsync(client, pipeline);
        }

        Assert.True(sink.StoredUnacknowledged > 0, "the connection closed with nothing stored and unacknowledged: the test proved nothing");
        Assert.Equal(1, reconnects);
        List<Trade> stored = await StreamContents.ReadAllAsync(cluster, stream);
        StreamContents.AssertExactlyOnce(stored, Count);
    }

    /// <summary>Stores through the inner sink; once <c>closeAfter</c> trades are stored, closes the client's
    /// connection before the batch completes, so that its acknowledgement is never sent.</summary>
    private sealed class CloseAfterStoring(ITradeSink inner, long closeAfter) : ITradeSink, ITradeMessageHandler
    {
        private IGatewayConnection? _connection;
        private long _stored;
        private int _closed;

        public string Name => inner.Name;

        /// <summary>Trades of the batch stored when the connection was closed (never acknowledged on it).</summary>
        public long StoredUnacknowledged { get; private set; }

        public void OnConnect(IGatewayConnection connection) => _connection ??= connection;

        public void OnTrade(ReadOnlySpan<byte> data)
        {
        }

        public async ValueTask PublishAsync(TradeBatch batch, CancellationToken cancellationToken)
        {
            await inner.PublishAsync(batch, cancellationToken);
            if (Interlocked.Add(ref _stored, batch.Count) >= closeAfter && Interlocked.Exchange(ref _closed, 1) == 0)
            {
                StoredUnacknowledged = batch.Count;
                _connection!.Close(1011, "test: closed after storing, before acknowledging");
                await Task.Delay(100, cancellationToken); // the close is on its way before the pipeline tries the ack
            }
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    [Fact]
    public async Task A_subject_no_stream_captures_fails_the_batch_at_once_saying_so()
    {
        string stream = NewStreamName();
        await using (var creator = new NatsJetStreamSink(Options(stream, NatsRecord.Trade)))
        {
            byte[] one = new byte[Trade.EncodedSize];
            StreamContents.TradeFor(1).Encode(one);
            await creator.PublishAsync(new TradeBatch(one, 1, Trade.EncodedSize), CancellationToken.None);
        }

        // The stream exists, but captures only its own subject: JetStream does not answer the other one.
        NatsSinkOptions options = Options(stream, NatsRecord.Trade);
        options.Subject = "nobody." + stream.ToLowerInvariant();
        options.CreateStream = false;
        options.AckTimeout = TimeSpan.FromSeconds(20);
        await using var sink = new NatsJetStreamSink(options);
        byte[] message = new byte[Trade.EncodedSize];
        StreamContents.TradeFor(2).Encode(message);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        NatsSinkException error = await Assert.ThrowsAsync<NatsSinkException>(async () => await sink.PublishAsync(new TradeBatch(message, 1, Trade.EncodedSize), CancellationToken.None));
        Assert.Contains("no responders", error.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the failure took {clock.Elapsed}: it waited for the timeout instead of the server's answer");
    }

    [Theory]
    [InlineData(NatsRecord.Trade)]
    [InlineData(NatsRecord.Frame)]
    public async Task Killing_the_stream_leader_with_sigkill_mid_stream_loses_and_doubles_nothing(NatsRecord record)
    {
        string stream = NewStreamName();
        const int Count = 30_000;
        await using SinkPipeline pipeline = CreatePipeline(stream, record);
        await using var server = new WebSocketServer("127.0.0.1:0", _ => pipeline.CreateHandler());
        await server.StartAsync();
        await using ReliableTradeClient client = await ReliableTradeClient.ConnectAsync(server.Url);

        int killed = -1;
        try
        {
            for (int i = 1; i <= Count; i += 100)
            {
                Trade[] frame = [.. Enumerable.Range(i, 100).Select(id => StreamContents.TradeFor(id))];
                if (i == 10_001)
                {
                    // The leader holds the stream's writes. Stopped first (SIGSTOP), it takes this frame and answers
                    // nothing, so the frame is surely in flight when it is killed: the sink's wait for its ack fails
                    // and the retry meets the new leader.
                    killed = await cluster.LeaderOfAsync(stream);
                    cluster.Freeze(killed, stop: true);
                    await client.SendAsync(frame);
                    await Task.Delay(200);
                    Assert.True(pipeline.GetStatus().InFlightTrades > 0 && client.Unacknowledged > 0, $"nothing was in flight when the node was killed: {pipeline.GetStatus()}");
                    cluster.Kill(killed);
                    continue;
                }

                await client.SendAsync(frame);
                if (i % 1000 == 1)
                {
                    await Task.Delay(10); // spread the stream over time, so that part of it meets the election
                }
            }

            await WaitForAllAcknowledgedAsync(client, pipeline);
        }
        finally
        {
            if (killed >= 0)
            {
                cluster.Kill(killed); // if an assertion stopped the test while the node was frozen
                cluster.Restart(killed);
            }
        }

        Assert.Equal(Count, client.Acknowledged);

        // The kill must have hit publishing (failed attempts, retried), or this test proved nothing.
        Assert.True(pipeline.GetStatus().Retries > 0, $"no publish failed after killing node n{killed}: {pipeline.GetStatus()}");
        await cluster.WaitForReplicasAsync(stream);
        List<Trade> stored = await StreamContents.ReadAllAsync(cluster, stream);
        StreamContents.AssertExactlyOnce(stored, Count);
    }

    /// <summary>Waits (bounded) and says where things stand when they do not arrive.</summary>
    internal static async Task WaitForAllAcknowledgedAsync(ReliableTradeClient client, SinkPipeline? pipeline)
    {
        using var timeout = new CancellationTokenSource(s_wait);
        try
        {
            await client.WaitForAllAcknowledgedAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"not every trade was acknowledged within {s_wait.TotalSeconds} s: client sent {client.Sent}, acknowledged {client.Acknowledged} ({client.AcknowledgementsReceived} acks); pipeline {pipeline?.GetStatus()}");
        }
    }

    private SinkPipeline CreatePipeline(string stream, NatsRecord record, SinkPipelineOptions? options = null)
        => new(new NatsJetStreamSink(Options(stream, record)), options ?? new SinkPipelineOptions { RetryMaxDelay = TimeSpan.FromMilliseconds(500) });

    private NatsSinkOptions Options(string stream, NatsRecord record) => new()
    {
        Record = record,
        Url = cluster.Url,
        Stream = stream,
        Subject = stream.ToLowerInvariant(),
        Replicas = 3,
        DuplicateWindow = TimeSpan.FromMinutes(5),
        AckTimeout = TimeSpan.FromSeconds(2),
    };

    private static string NewStreamName() => "T" + Guid.NewGuid().ToString("N")[..10].ToUpperInvariant();
}
