using System.Diagnostics;
using System.Net.Sockets;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using WsGateway.Sbe;
using WsGateway.Sinks.Tests.Infrastructure;

namespace WsGateway.Sinks.Tests.Pipeline;

/// <summary>The pipeline's start-up check (<see cref="SinkPipeline.CheckSinkAsync"/>, <see cref="SinkPipeline.StartCheckingSink"/>)
/// and its bounded stop (<see cref="SinkPipeline.StopAsync"/>), with a sink whose check, publishes and close the test
/// scripts (the process tests run the same against real engines).</summary>
public sealed class SinkStartStopTests
{
    [Fact]
    public async Task A_check_that_never_answers_and_ignores_its_token_fails_at_the_deadline()
    {
        var sink = new ScriptedSink { Initialize = _ => new ValueTask(Task.Delay(Timeout.Infinite, CancellationToken.None)) };
        await using var pipeline = new SinkPipeline(sink);
        var clock = Stopwatch.StartNew();

        SinkNotReadyException e = await Assert.ThrowsAsync<SinkNotReadyException>(() => pipeline.CheckSinkAsync(TimeSpan.FromMilliseconds(300)));

        Assert.Equal("no answer within 0.3 s", e.Reason);
        Assert.Equal("scripted", e.Sink);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task A_failed_check_says_why_in_one_line_with_the_cause_under_it()
    {
        var sink = new ScriptedSink
        {
            Initialize = _ => throw new IOException("scripted sink: failed to connect to 127.0.0.1:1.\nretry later", new SocketException((int)SocketError.ConnectionRefused)),
        };
        await using var pipeline = new SinkPipeline(sink);

        SinkNotReadyException e = await Assert.ThrowsAsync<SinkNotReadyException>(() => pipeline.CheckSinkAsync(TimeSpan.FromSeconds(5)));

        Assert.Equal("failed to connect to 127.0.0.1:1. retry later: Connection refused", e.Reason);
        Assert.Equal("scripted sink is not ready: failed to connect to 127.0.0.1:1. retry later: Connection refused", e.Message);
    }

    [Fact]
    public async Task Started_degraded_batches_wait_unpublished_and_unacknowledged_health_is_unhealthy_until_the_check_passes()
    {
        int checks = 0;
        var sink = new ScriptedSink
        {
            Initialize = _ => Interlocked.Increment(ref checks) <= 3 ? throw new IOException("the database is starting up") : ValueTask.CompletedTask,
        };
        await using var pipeline = new SinkPipeline(sink, new SinkPipelineOptions { RetryInitialDelay = TimeSpan.FromMilliseconds(100), RetryMaxDelay = TimeSpan.FromMilliseconds(100) });
        await Assert.ThrowsAsync<SinkNotReadyException>(() => pipeline.CheckSinkAsync(TimeSpan.FromSeconds(5)));
        Task<bool> ready = pipeline.StartCheckingSink(TimeSpan.FromSeconds(5));
        var connection = new RecordingConnection(1);
        var handler = (IReadCompletionHandler)pipeline.CreateHandler();
        handler.OnConnect(connection);
        Read(handler, 1, 10);

        HealthCheckResult waiting = SinkHealthCheck.Evaluate(pipeline.GetStatus(), pipeline.Options);
        Assert.Equal(HealthStatus.Unhealthy, waiting.Status);
        Assert.Contains("not ready (10 trades waiting), retrying the start-up check: the database is starting up", waiting.Description, StringComparison.Ordinal);
        Assert.Equal("the database is starting up", pipeline.NotReadyReason);
        await Task.Delay(150);
        Assert.Equal(0, sink.Publishes);
        Assert.Empty(connection.Acks);

        Assert.True(await ready.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(new TradeAck(10, 10), await connection.WaitForAckAsync(10));
        Assert.Null(pipeline.NotReadyReason);
        Assert.Equal(HealthStatus.Healthy, SinkHealthCheck.Evaluate(pipeline.GetStatus(), pipeline.Options).Status);
        Assert.Equal(4, Volatile.Read(ref checks));
    }

    [Fact]
    public async Task A_stop_with_a_sink_that_neither_stores_nor_closes_ends_at_its_deadline_and_counts_what_was_not_stored()
    {
        var sink = new ScriptedSink { StoreNothing = true, DisposeDelay = TimeSpan.FromSeconds(30) };
        var pipeline = new SinkPipeline(sink); // DrainTimeout 10 s: the stop's own deadline is shorter
        var connection = new RecordingConnection(1);
        var handler = (IReadCompletionHandler)pipeline.CreateHandler();
        handler.OnConnect(connection);
        Read(handler, 1, 25);
        Read(handler, 26, 5);
        var clock = Stopwatch.StartNew();

        await pipeline.StopAsync(TimeSpan.FromSeconds(1));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"the stop took {clock.Elapsed} with a 1 s deadline");
        Assert.Equal(30, pipeline.TradesNotStored);
        Assert.Equal(30, pipeline.TradesReceived);
        Assert.Equal(0, pipeline.GetStatus().TradesStored);
        Assert.Empty(connection.Acks);
        Assert.True(sink.DisposeStarted, "the sink was not closed");
    }

    [Fact]
    public async Task Trades_arriving_after_the_stop_count_as_not_stored()
    {
        var sink = new ScriptedSink();
        var pipeline = new SinkPipeline(sink);
        var handler = (IReadCompletionHandler)pipeline.CreateHandler();
        handler.OnConnect(new RecordingConnection(1));
        Read(handler, 1, 3);
        await pipeline.StopAsync(TimeSpan.FromSeconds(5));

        Read(handler, 4, 2);

        Assert.Equal(3, pipeline.GetStatus().TradesStored);
        Assert.Equal(2, pipeline.TradesNotStored);
        Assert.Equal(5, pipeline.TradesReceived);
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

    private sealed class ScriptedSink : ITradeSink
    {
        private int _publishes;

        public string Name => "scripted";

        public Func<CancellationToken, ValueTask> Initialize { get; init; } = _ => ValueTask.CompletedTask;

        /// <summary>Publishes wait until cancelled (a sink that is down), instead of storing at once.</summary>
        public bool StoreNothing { get; init; }

        public TimeSpan DisposeDelay { get; init; }

        public int Publishes => Volatile.Read(ref _publishes);

        public bool DisposeStarted { get; private set; }

        public ValueTask InitializeAsync(CancellationToken cancellationToken) => Initialize(cancellationToken);

        public async ValueTask PublishAsync(TradeBatch batch, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _publishes);
            if (StoreNothing)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
        }

        public async ValueTask DisposeAsync()
        {
            DisposeStarted = true;
            await Task.Delay(DisposeDelay);
        }
    }
}
