using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace WsGateway.Sinks;

/// <summary>
/// Carries the trades a gateway receives into an <see cref="ITradeSink"/> and acknowledges them to their clients.
/// </summary>
/// <remarks>
/// <para><b>Path.</b> The handler from <see cref="CreateHandler"/> (one per connection) copies the trades of each
/// socket read into a pooled batch and hands it over at <see cref="IReadCompletionHandler.OnReadComplete"/>: an
/// interlocked add and a channel write, on the receive thread, which never waits for the sink. Up to
/// <see cref="SinkPipelineOptions.MaxConcurrentBatches"/> publishing tasks take the batches in arrival order and call
/// <see cref="ITradeSink.PublishAsync"/>, retrying a failed batch with exponential backoff until it is stored: never a
/// drop. Once a connection's batches are stored without a gap, a <see cref="Sbe.TradeAck"/> with the count of its
/// trades stored goes to the client with <see cref="IGatewayConnection.SendAsync"/> from the publishing task.</para>
/// <para><b>Bound.</b> The trades and bytes in flight (handed over, not yet acknowledged by the sink) are bounded: the
/// read that reaches <see cref="SinkPipelineOptions.MaxInFlightTrades"/> or
/// <see cref="SinkPipelineOptions.MaxInFlightBytes"/> pauses its connection
/// (<see cref="IGatewayConnection.PauseReceiving"/>: TCP then slows the client down), and acknowledgements that bring
/// both under <see cref="SinkPipelineOptions.ResumeFraction"/> of the bounds resume every paused connection. So the
/// queue holds at most the bound plus one read per connection: it is never unbounded.</para>
/// <para><b>Stopping.</b> Stop the gateway first (its connections hand over their last reads), then dispose the
/// pipeline: it stores what is in flight, for at most <see cref="SinkPipelineOptions.DrainTimeout"/>, and disposes the
/// sink.</para>
/// </remarks>
public sealed class SinkPipeline : IAsyncDisposable
{
    private const int PoolLimit = 256;
    private const int PooledBufferLimit = 1024 * 1024;

    private readonly ITradeSink _sink;
    private readonly SinkPipelineOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly SinkMetrics _metrics;
    private readonly Channel<SinkBatch> _queue;
    private readonly ConcurrentQueue<SinkBatch> _pool = new();
    private readonly Task[] _publishers;
    private readonly CancellationTokenSource _abort = new();
    private readonly long[] _publishing;
    private readonly long _resumeTrades;
    private readonly long _resumeBytes;

    private readonly Lock _pauseLock = new();
    private readonly List<SinkConnection> _paused = [];
    private int _pausedCount;

    private long _inFlightTrades;
    private long _notStored;
    private long _inFlightBytes;
    private long _stored;
    private long _retries;
    private long _duplicates;
    private long _acks;
    private long _failingSince;
    private int _failures;
    private string? _lastError;
    private Task? _disposed;

    /// <summary>Creates the pipeline and starts its publishing tasks.</summary>
    /// <param name="sink">Where the trades go; disposed with the pipeline.</param>
    /// <param name="options">Bounds and retries; defaults when null.</param>
    /// <param name="loggerFactory">For the pipeline's logs (failures and retries, pauses).</param>
    /// <param name="meter">The meter to count on (the gateway's: <c>GatewayMetrics.Meter</c>); a meter
    /// <c>WsGateway</c> of the pipeline's own when null.</param>
    /// <param name="timeProvider">The clock for lag, backoff and health; the system's when null.</param>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public SinkPipeline(ITradeSink sink, SinkPipelineOptions? options = null, ILoggerFactory? loggerFactory = null, Meter? meter = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(sink);
        options ??= new SinkPipelineOptions();
        if (options.Validate() is { } problem)
        {
            throw new ArgumentException(problem, nameof(options));
        }

        _sink = sink;
        _options = options;
        _logger = (ILogger?)loggerFactory?.CreateLogger<SinkPipeline>() ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _resumeTrades = (long)(options.MaxInFlightTrades * options.ResumeFraction);
        _resumeBytes = (long)(options.MaxInFlightBytes * options.ResumeFraction);
        // Not SingleReader even with one publishing task: Lag peeks at the queue from other threads, which only the
        // multi-reader channel allows.
        _queue = Channel.CreateUnbounded<SinkBatch>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
        _metrics = new SinkMetrics(meter, sink.Name, this);
        _publishing = new long[options.MaxConcurrentBatches];
        _publishers = new Task[options.MaxConcurrentBatches];
        for (int i = 0; i < _publishers.Length; i++)
        {
            int slot = i;
            _publishers[i] = Task.Run(() => PublishLoopAsync(slot));
        }
    }

    /// <summary>The sink.</summary>
    public ITradeSink Sink => _sink;

    /// <summary>The options in force.</summary>
    public SinkPipelineOptions Options => _options;

    internal long InFlightTrades => Volatile.Read(ref _inFlightTrades);

    /// <summary>Trades received and never stored: what was still in flight when disposing gave up after
    /// <see cref="SinkPipelineOptions.DrainTimeout"/> (their clients were not acknowledged). 0 until then.</summary>
    public long TradesNotStored => Volatile.Read(ref _notStored);

    internal long InFlightBytes => Volatile.Read(ref _inFlightBytes);

    /// <summary>Trades the sink already held when they came (a client's resend, a re-run with the same trade ids),
    /// since the start: stored once, before. 0 when the sink cannot tell (<see cref="ITradeSink.CountsDuplicates"/>).</summary>
    public long TradesDuplicate => Volatile.Read(ref _duplicates);

    internal int PausedConnections => Volatile.Read(ref _pausedCount);

    /// <summary>Age of the oldest batch handed over and not yet stored.</summary>
    internal TimeSpan Lag
    {
        get
        {
            long oldest = long.MaxValue;
            for (int i = 0; i < _publishing.Length; i++)
            {
                long value = Volatile.Read(ref _publishing[i]);
                if (value != 0 && value < oldest)
                {
                    oldest = value;
                }
            }

            if (_queue.Reader.TryPeek(out SinkBatch? queued) && queued is not null && queued.Submitted < oldest)
            {
                oldest = queued.Submitted;
            }

            return oldest == long.MaxValue ? TimeSpan.Zero : _time.GetElapsedTime(oldest);
        }
    }

    /// <summary>
    /// A handler for one connection (call it from the gateway's handler factory: <c>_ =&gt; pipeline.CreateHandler()</c>).
    /// It hands every trade to the sink and passes every callback on to <paramref name="inner"/> as well, when given.
    /// </summary>
    /// <param name="inner">A handler that sees the same callbacks (for statistics, say), or null.</param>
    /// <returns>The handler; it implements <see cref="IReadCompletionHandler"/>.</returns>
    public ITradeMessageHandler CreateHandler(ITradeMessageHandler? inner = null) => new SinkHandler(this, inner);

    /// <summary>A snapshot of the pipeline's state.</summary>
    /// <returns>Counts, lag and the failure state.</returns>
    public SinkStatus GetStatus()
    {
        long failingSince = Volatile.Read(ref _failingSince);
        return new SinkStatus(
            _sink.Name,
            Volatile.Read(ref _stored),
            InFlightTrades,
            InFlightBytes,
            _options.MaxInFlightTrades,
            PausedConnections,
            Volatile.Read(ref _retries),
            Volatile.Read(ref _acks),
            Lag,
            failingSince == 0 ? TimeSpan.Zero : _time.GetElapsedTime(failingSince),
            failingSince == 0 ? null : Volatile.Read(ref _lastError))
        {
            TradesDuplicate = _sink.CountsDuplicates ? TradesDuplicate : null,
        };
    }

    /// <summary>Stores what is in flight (for at most <see cref="SinkPipelineOptions.DrainTimeout"/>), stops the
    /// publishing tasks and disposes the sink. Stop the gateway first. Idempotent.</summary>
    /// <returns>A task that completes when the pipeline has stopped.</returns>
    public ValueTask DisposeAsync() => new(_disposed ??= DisposeCoreAsync());

    internal SinkBatch RentBatch(SinkConnection connection, int messageSize)
    {
        if (!_pool.TryDequeue(out SinkBatch? batch))
        {
            batch = new SinkBatch();
        }

        batch.Start(connection, messageSize);
        return batch;
    }

    /// <summary>Hands a read's batch over (receive thread): numbers it, counts it in flight, queues it, and pauses
    /// its connection when the bound is reached. Never waits.</summary>
    internal void Submit(SinkBatch batch)
    {
        SinkConnection connection = batch.Connection;
        if (batch.Count == 0)
        {
            Return(batch);
            return;
        }

        batch.Sequence = connection.NextSequence++;
        connection.Received += (ulong)batch.Count;
        batch.EndCount = connection.Received;
        batch.LastTradeId = TradeMessages.TradeId(batch.Trades[batch.Count - 1].Span);
        batch.Submitted = _time.GetTimestamp();
        long trades = Interlocked.Add(ref _inFlightTrades, batch.Count);
        long bytes = Interlocked.Add(ref _inFlightBytes, batch.Length);
        if (!_queue.Writer.TryWrite(batch))
        {
            // Stopped: nothing will store it; the client, unacknowledged, resends it after reconnecting.
            Release(batch);
            Return(batch);
            return;
        }

        if (trades >= _options.MaxInFlightTrades || bytes >= _options.MaxInFlightBytes)
        {
            Pause(connection, trades);
        }
    }

    internal void Disconnected(SinkConnection connection)
    {
        lock (_pauseLock)
        {
            if (connection.Paused)
            {
                connection.Paused = false;
                _paused.Remove(connection);
                _pausedCount = _paused.Count;
            }
        }
    }

    internal void AcknowledgementSent()
    {
        Interlocked.Increment(ref _acks);
        _metrics.AcknowledgementSent();
    }

    internal void AcknowledgementFailed(SinkConnection connection, Exception exception)
        => Log.AckFailed(_logger, _sink.Name, connection.Gateway.Id, exception);

    private void Pause(SinkConnection connection, long trades)
    {
        lock (_pauseLock)
        {
            if (!connection.Paused)
            {
                connection.Paused = true;
                _paused.Add(connection);
                _pausedCount = _paused.Count;
                connection.Gateway.PauseReceiving();
                Log.Paused(_logger, _sink.Name, trades, connection.Gateway.Id);
            }
        }

        // The acknowledgements that bring the count down may have come between the add above and the pause: look again.
        ResumeIfUnderLowWater();
    }

    private void ResumeIfUnderLowWater()
    {
        if (Volatile.Read(ref _pausedCount) == 0 || InFlightTrades > _resumeTrades || InFlightBytes > _resumeBytes)
        {
            return;
        }

        lock (_pauseLock)
        {
            if (_paused.Count == 0 || InFlightTrades > _resumeTrades || InFlightBytes > _resumeBytes)
            {
                return;
            }

            foreach (SinkConnection connection in _paused)
            {
                connection.Paused = false;
                connection.Gateway.ResumeReceiving();
            }

            Log.Resumed(_logger, _sink.Name, _paused.Count);
            _paused.Clear();
            _pausedCount = 0;
        }
    }

    private async Task PublishLoopAsync(int slot)
    {
        ChannelReader<SinkBatch> reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out SinkBatch? batch))
            {
                Volatile.Write(ref _publishing[slot], batch.Submitted);
                bool stored = await PublishAsync(batch).ConfigureAwait(false);
                Volatile.Write(ref _publishing[slot], 0);
                if (stored && batch.Connection.Stored(batch))
                {
                    batch.Connection.ScheduleAcknowledgement(this);
                }

                Release(batch);
                Return(batch);
                ResumeIfUnderLowWater();
            }
        }
    }

    /// <summary>Publishes until stored (true) or the pipeline is aborted (false).</summary>
    private async Task<bool> PublishAsync(SinkBatch batch)
    {
        TimeSpan delay = _options.RetryInitialDelay;
        for (int attempt = 1; ; attempt++)
        {
            long started = _time.GetTimestamp();
            try
            {
                int duplicates = await _sink.PublishCountingDuplicatesAsync(batch.Trades, _abort.Token).ConfigureAwait(false);
                TimeSpan published = _time.GetElapsedTime(started);
                batch.Duplicates = Math.Clamp(duplicates, 0, batch.Count);
                Interlocked.Add(ref _stored, batch.Count);
                _metrics.Stored(batch.Count, published.TotalSeconds, _time.GetElapsedTime(batch.Submitted).TotalSeconds);
                if (batch.Duplicates > 0)
                {
                    Interlocked.Add(ref _duplicates, batch.Duplicates);
                    _metrics.Duplicates(batch.Duplicates);
                }
                long failingSince = Interlocked.Exchange(ref _failingSince, 0);
                if (failingSince != 0)
                {
                    Log.Recovered(_logger, _sink.Name, Interlocked.Exchange(ref _failures, 0), _time.GetElapsedTime(failingSince).TotalSeconds);
                }

                return true;
            }
            catch (OperationCanceledException) when (_abort.IsCancellationRequested)
            {
                return false;
            }
            catch (Exception e)
            {
                Interlocked.Increment(ref _retries);
                Interlocked.Increment(ref _failures);
                Interlocked.CompareExchange(ref _failingSince, started, 0);
                Volatile.Write(ref _lastError, e.Message);
                _metrics.Retry();

                // Jitter keeps concurrent batches from retrying in lockstep.
                TimeSpan wait = delay * (1 + (Random.Shared.NextDouble() * 0.2));
                if (attempt == 1 || attempt % 10 == 0)
                {
                    Log.PublishFailed(_logger, _sink.Name, batch.Count, attempt, (long)wait.TotalMilliseconds, e.Message);
                }

                try
                {
                    await Task.Delay(wait, _time, _abort.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return false;
                }

                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.RetryMaxDelay.Ticks));
            }
        }
    }

    private void Release(SinkBatch batch)
    {
        Interlocked.Add(ref _inFlightTrades, -batch.Count);
        Interlocked.Add(ref _inFlightBytes, -batch.Length);
    }

    private void Return(SinkBatch batch)
    {
        batch.Clear();
        if (batch.Capacity > PooledBufferLimit || _pool.Count >= PoolLimit)
        {
            batch.ReturnBuffer();
            if (_pool.Count >= PoolLimit)
            {
                return;
            }
        }

        _pool.Enqueue(batch);
    }

    private async Task DisposeCoreAsync()
    {
        _queue.Writer.TryComplete();
        Task publishers = Task.WhenAll(_publishers);
        try
        {
            await publishers.WaitAsync(_options.DrainTimeout, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            long abandoned = InFlightTrades;
            Volatile.Write(ref _notStored, abandoned);
            await _abort.CancelAsync().ConfigureAwait(false);
            await publishers.ConfigureAwait(false);
            Log.Abandoned(_logger, _sink.Name, abandoned);
        }

        while (_queue.Reader.TryRead(out SinkBatch? left))
        {
            Release(left);
        }

        lock (_pauseLock)
        {
            foreach (SinkConnection connection in _paused)
            {
                connection.Gateway.ResumeReceiving();
            }

            _paused.Clear();
            _pausedCount = 0;
        }

        while (_pool.TryDequeue(out SinkBatch? pooled))
        {
            pooled.ReturnBuffer();
        }

        await _sink.DisposeAsync().ConfigureAwait(false);
        _metrics.Dispose();
        _abort.Dispose();
    }
}
