using Microsoft.Extensions.Diagnostics.HealthChecks;
using WsGateway.Sbe;
using WsGateway.Sinks.Tests.Infrastructure;

namespace WsGateway.Sinks.Tests.Pipeline;

/// <summary>The pipeline's own rules, driven through its handler with a sink the test completes batch by batch.</summary>
public sealed class SinkPipelineTests
{
    [Fact]
    public async Task An_acknowledgement_covers_only_the_contiguous_stored_prefix_of_its_connection()
    {
        var sink = new GatedSink();
        await using var pipeline = new SinkPipeline(sink, new SinkPipelineOptions { MaxConcurrentBatches = 4 });
        var connection = new RecordingConnection(1);
        var handler = (IReadCompletionHandler)pipeline.CreateHandler();
        handler.OnConnect(connection);
        Read(handler, 1, 10);   // batch 1: trades 1-10
        Read(handler, 11, 5);   // batch 2: 11-15
        Read(handler, 16, 7);   // batch 3: 16-22

        sink.Release(11);
        sink.Release(16);
        await WaitUntilAsync(() => pipeline.GetStatus().TradesStored == 12);
        await Task.Delay(50);
        Assert.Empty(connection.Acks); // batches 2 and 3 are stored, batch 1 is not: nothing may be acknowledged

        sink.Release(1);
        TradeAck ack = await connection.WaitForAckAsync(22);
        Assert.Equal(new TradeAck(22, 22), ack);
        Assert.All(connection.Acks, a => Assert.True(a.Count is 22, $"an acknowledgement past a gap: {a}"));
    }

    [Fact]
    public async Task The_read_that_reaches_the_bound_pauses_its_connection_until_acknowledgements_bring_it_under_the_low_water_mark()
    {
        var sink = new GatedSink();
        await using var pipeline = new SinkPipeline(sink, new SinkPipelineOptions { MaxInFlightTrades = 100, ResumeFraction = 0.5, MaxConcurrentBatches = 4 });
        var a = new RecordingConnection(1);
        var b = new RecordingConnection(2);
        var handlerA = (IReadCompletionHandler)pipeline.CreateHandler();
        var handlerB = (IReadCompletionHandler)pipeline.CreateHandler();
        handlerA.OnConnect(a);
        handlerB.OnConnect(b);

        Read(handlerA, 1, 60);
        Assert.False(a.IsReceivingPaused);
        Read(handlerB, 1001, 50); // 110 in flight: the bound
        Assert.True(b.IsReceivingPaused);
        Assert.False(a.IsReceivingPaused);
        Assert.Equal(1, pipeline.GetStatus().PausedConnections);

        Read(handlerA, 61, 10); // a read arriving at the bound pauses its connection too
        Assert.True(a.IsReceivingPaused);

        sink.Release(1001); // 70 left: above the low-water mark (50)
        await WaitUntilAsync(() => pipeline.GetStatus().InFlightTrades == 70);
        Assert.True(a.IsReceivingPaused && b.IsReceivingPaused);

        sink.Release(61); // 60 left
        await WaitUntilAsync(() => pipeline.GetStatus().InFlightTrades == 60);
        Assert.True(a.IsReceivingPaused && b.IsReceivingPaused);

        sink.Release(1); // 0 left: both resume
        await WaitUntilAsync(() => !a.IsReceivingPaused && !b.IsReceivingPaused);
        Assert.Equal(0, pipeline.GetStatus().PausedConnections);
    }

    [Fact]
    public async Task A_failing_sink_is_retried_with_backoff_until_it_stores_and_health_says_so_meanwhile()
    {
        var sink = new GatedSink { FailuresLeft = 4 };
        var options = new SinkPipelineOptions { RetryInitialDelay = TimeSpan.FromMilliseconds(40), RetryMaxDelay = TimeSpan.FromMilliseconds(80), Unhealthy = TimeSpan.FromMilliseconds(100) };
        await using var pipeline = new SinkPipeline(sink, options);
        var health = new SinkHealthCheck(pipeline);
        var connection = new RecordingConnection(1);
        var handler = (IReadCompletionHandler)pipeline.CreateHandler();
        handler.OnConnect(connection);
        Read(handler, 1, 3);

        await WaitUntilAsync(() => sink.Attempts >= 2);
        HealthCheckResult failing = await health.CheckHealthAsync(new HealthCheckContext());
        Assert.NotEqual(HealthStatus.Healthy, failing.Status);
        Assert.Contains("the sink is down (scripted)", failing.Description, StringComparison.Ordinal);
        await WaitUntilAsync(() => sink.Attempts >= 4);
        Assert.Equal(HealthStatus.Unhealthy, (await health.CheckHealthAsync(new HealthCheckContext())).Status);

        sink.Release(1);
        Assert.Equal(new TradeAck(3, 3), await connection.WaitForAckAsync(3));
        Assert.Equal(5, sink.Attempts);
        Assert.Equal(4, pipeline.GetStatus().Retries);
        Assert.Equal([1UL, 2UL, 3UL], sink.Stored.Select(t => t.TradeId));
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync(new HealthCheckContext())).Status);
    }

    [Fact]
    public async Task Trades_of_a_newer_schema_version_go_in_a_batch_of_their_own_size_and_bytes_are_kept_as_received()
    {
        var sink = new GatedSink();
        await using var pipeline = new SinkPipeline(sink);
        var connection = new RecordingConnection(1);
        var handler = (IReadCompletionHandler)pipeline.CreateHandler();
        handler.OnConnect(connection);
        handler.OnTrade(Encode(new Trade(1, (byte)'A', 1.5, 10)));
        byte[] longer = [.. Encode(new Trade(2, (byte)'B', 2.5, 20)), 0xAB, 0xCD]; // version 1 appended two bytes
        longer[0] = 23; // blockLength 23
        handler.OnTrade(longer);
        handler.OnReadComplete();
        sink.Release(1);
        sink.Release(2);
        Assert.Equal(new TradeAck(2, 2), await connection.WaitForAckAsync(2));
        Assert.Equal([1UL, 2UL], sink.Stored.Select(t => t.TradeId).Order());
    }

    [Fact]
    public async Task Duplicates_the_sink_reports_are_counted_per_connection_in_the_acknowledgement_and_in_total()
    {
        var sink = new DeduplicatingSink();
        using var meter = new System.Diagnostics.Metrics.Meter("WsGateway");
        long measured = 0;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter == meter && instrument.Name == "wsgateway.sink.trades.duplicate")
            {
                Assert.Equal("{trade}", instrument.Unit);
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            Assert.Equal(new KeyValuePair<string, object?>("wsgateway.sink", "dedup"), tags[0]);
            Interlocked.Add(ref measured, value);
        });
        listener.Start();
        await using var pipeline = new SinkPipeline(sink, new SinkPipelineOptions { MaxConcurrentBatches = 1 }, meter: meter);
        var a = new RecordingConnection(1);
        var b = new RecordingConnection(2);
        var handlerA = (IReadCompletionHandler)pipeline.CreateHandler();
        var handlerB = (IReadCompletionHandler)pipeline.CreateHandler();
        handlerA.OnConnect(a);
        handlerB.OnConnect(b);

        Read(handlerA, 1, 10);  // new
        Assert.Equal(new TradeAck(10, 10, 0), await a.WaitForAckAsync(10));
        Read(handlerA, 5, 10);  // 5-10 stored before: 6 duplicates
        Assert.Equal(new TradeAck(14, 20, 6), await a.WaitForAckAsync(20));
        Read(handlerB, 1, 3);   // another connection, its own count: all 3 duplicates
        Assert.Equal(new TradeAck(3, 3, 3), await b.WaitForAckAsync(3));

        Assert.Equal(9, pipeline.GetStatus().TradesDuplicate);
        Assert.Equal(9, Interlocked.Read(ref measured)); // the counter wsgateway.sink.trades.duplicate
        Assert.Equal(23, pipeline.GetStatus().TradesStored);
    }

    [Fact]
    public async Task A_sink_that_cannot_tell_duplicates_acknowledges_them_as_unknown()
    {
        var sink = new GatedSink { Open = true };
        await using var pipeline = new SinkPipeline(sink);
        var connection = new RecordingConnection(1);
        var handler = (IReadCompletionHandler)pipeline.CreateHandler();
        handler.OnConnect(connection);
        Read(handler, 1, 4);
        Read(handler, 1, 4);
        TradeAck ack = await connection.WaitForAckAsync(8);
        Assert.Null(ack.Duplicates);
        Assert.Null(pipeline.GetStatus().TradesDuplicate);
    }

    /// <summary>Stores at once; a trade id seen before is a duplicate (as PostgreSQL's ON CONFLICT DO NOTHING).</summary>
    private sealed class DeduplicatingSink : ITradeSink
    {
        private readonly HashSet<ulong> _ids = [];

        public string Name => "dedup";

        public bool CountsDuplicates => true;

        public ValueTask PublishAsync(TradeBatch batch, CancellationToken cancellationToken) => throw new InvalidOperationException("the pipeline must ask for the duplicates");

        public ValueTask<int> PublishCountingDuplicatesAsync(TradeBatch batch, CancellationToken cancellationToken)
        {
            int duplicates = 0;
            lock (_ids)
            {
                for (int i = 0; i < batch.Count; i++)
                {
                    duplicates += _ids.Add(TradeMessages.TradeId(batch[i].Span)) ? 0 : 1;
                }
            }

            return ValueTask.FromResult(duplicates);
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private static void Read(IReadCompletionHandler handler, ulong firstId, int count)
    {
        var frame = new byte[count * Trade.EncodedSize];
        for (int i = 0; i < count; i++)
        {
            new Trade(firstId + (ulong)i, (byte)'X', 10.5, 1).Encode(frame.AsSpan(i * Trade.EncodedSize));
        }

        handler.OnTrades(frame, Trade.EncodedSize);
        handler.OnReadComplete();
    }

    private static byte[] Encode(Trade trade)
    {
        var bytes = new byte[Trade.EncodedSize];
        trade.Encode(bytes);
        return bytes;
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!condition())
        {
            await Task.Delay(5, timeout.Token);
        }
    }
}
