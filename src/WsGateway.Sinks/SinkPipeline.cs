using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
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
/// <para><b>Starting.</b> <see cref="CheckSinkAsync"/> runs the sink's start-up check
/// (<see cref="ITradeSink.InitializeAsync"/>: connect, authenticate, check or create the stream, table or topic) with
/// a deadline, before the gateway accepts clients; <see cref="StartCheckingSink"/> starts degraded instead: the
/// check is retried in the background, batches wait for it (under the bound, so clients are paused, never
/// acknowledged early) and the health check says Unhealthy until it passes.</para>
/// <para><b>Stopping.</b> Stop the gateway first (its connections hand over their last reads), then dispose the
/// pipeline (or <see cref="StopAsync"/> with a deadline of your own): it stores what is in flight and closes the sink,
/// both within <see cref="SinkPipelineOptions.DrainTimeout"/>; what was not stored is counted in
/// <see cref="TradesNotStored"/>.</para>
/// </remarks>
public sealed class SinkPipeline : IAsyncDisposable
{
    private const int PoolLimit = 256;
    private const int PooledBufferLimit = 1024 * 1024;

    /// <summary>The least time the sink is given to close when stopping, even past the deadline.</summary>
    private static readonly TimeSpan CloseGrace = TimeSpan.FromMilliseconds(200);

    private readonly ITradeSink _sink;
    private readonly bool _countsDuplicates;
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
    private long _received;
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

    // The start-up check: null once it passed or when it was never asked for; otherwise why the sink is not ready,
    // and the gate batches wait at while the check is retried (StartCheckingSink).
    private string? _notReady;
    private TaskCompletionSource? _readyGate;
    private Task? _checking;

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
        _countsDuplicates = sink.CountsDuplicates;
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

    /// <summary>Trades received and never stored: what was still in flight when stopping gave up after its deadline
    /// (<see cref="SinkPipelineOptions.DrainTimeout"/>; their clients were not acknowledged), and what arrived after
    /// the pipeline had stopped. 0 until then.</summary>
    public long TradesNotStored => Volatile.Read(ref _notStored);

    /// <summary>Trades handed to the pipeline since the start (stored, in flight or not stored).</summary>
    public long TradesReceived => Volatile.Read(ref _received);

    /// <summary>Why the sink is not ready, after its start-up check (<see cref="CheckSinkAsync"/>,
    /// <see cref="StartCheckingSink"/>) failed and until it passes; null once it has, or when no check was asked for.</summary>
    public string? NotReadyReason => Volatile.Read(ref _notReady);

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
            NotReadyReason = NotReadyReason,
            TradesDuplicate = _sink.CountsDuplicates ? TradesDuplicate : null,
        };
    }

    /// <summary>
    /// The sink's start-up check (<see cref="ITradeSink.InitializeAsync"/>: connect, authenticate, check or create the
    /// stream, table or topic), given at most <paramref name="timeout"/>. Call it before the gateway accepts clients,
    /// so that a wrong address, password or name fails the start, not the first trade.
    /// </summary>
    /// <param name="timeout">The deadline; an unreachable host (no answer) fails when it passes.</param>
    /// <param name="cancellationToken">Ends the check (Ctrl+C).</param>
    /// <returns>A task that completes once the sink is ready.</returns>
    /// <exception cref="SinkNotReadyException">The check failed or the deadline passed; <see cref="SinkNotReadyException.Reason"/> says why in one line.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task CheckSinkAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (await TryCheckAsync(timeout, cancellationToken).ConfigureAwait(false) is { } reason)
        {
            throw new SinkNotReadyException(_sink.Name, reason);
        }
    }

    /// <summary>
    /// Starts degraded: the sink's start-up check is run now (again, after a failed <see cref="CheckSinkAsync"/>) and
    /// retried in the background (each attempt given <paramref name="attemptTimeout"/>, with the retry backoff in
    /// between) until it passes. Meanwhile batches are not published: they wait in flight, so the bound pauses their
    /// connections and nothing is acknowledged before it is stored; <see cref="NotReadyReason"/> and the health check
    /// (Unhealthy) say why. Call it once, before the gateway accepts clients.
    /// </summary>
    /// <param name="attemptTimeout">The deadline of each attempt.</param>
    /// <returns>A task that completes when the sink is ready (true), or false when the pipeline stopped first.</returns>
    public Task<bool> StartCheckingSink(TimeSpan attemptTimeout)
    {
        Interlocked.CompareExchange(ref _notReady, "not checked yet", null);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _readyGate, gate);
        Task<bool> checking = Task.Run(async () =>
        {
            TimeSpan delay = _options.RetryInitialDelay;
            string? logged = null;
            for (int attempt = 1; ; attempt++)
            {
                string? reason;
                try
                {
                    reason = await TryCheckAsync(attemptTimeout, _abort.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return false;
                }

                if (reason is null)
                {
                    if (attempt > 1)
                    {
                        Log.Ready(_logger, _sink.Name, attempt);
                    }

                    Volatile.Write(ref _readyGate, null);
                    gate.TrySetResult();
                    return true;
                }

                if (reason != logged)
                {
                    logged = reason;
                    Log.NotReady(_logger, _sink.Name, reason);
                }

                try
                {
                    await Task.Delay(delay, _time, _abort.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return false;
                }

                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.RetryMaxDelay.Ticks));
            }
        });
        _checking = checking;
        return checking;
    }

    /// <summary>One attempt of the start-up check: null when it passed (the pipeline is ready), else why not.</summary>
    private async Task<string?> TryCheckAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        string reason;
        try
        {
            // WaitAsync as well: a sink that does not look at its token is still given up on (a moment after the
            // deadline, so that one that does can say what it was waiting for).
            await _sink.InitializeAsync(deadline.Token).AsTask().WaitAsync(timeout + CloseGrace, _time, cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _notReady, null);
            return null;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is TimeoutException || (e is OperationCanceledException && deadline.IsCancellationRequested))
        {
            reason = string.Create(CultureInfo.InvariantCulture, $"no answer within {timeout.TotalSeconds:0.###} s");
        }
        catch (Exception e)
        {
            reason = Describe(e, _sink.Name);
        }

        Volatile.Write(ref _notReady, reason);
        return reason;
    }

    /// <summary>An exception as one line: its message, and its innermost cause's when that says more (a socket error
    /// under "failed to connect").</summary>
    private static string Describe(Exception e, string sink)
    {
        Exception inner = e;
        while (inner.InnerException is { } next)
        {
            inner = next;
        }

        // "kafka sink: ..." is said by whoever reports the sink by name or URI.
        string text = e.Message.TrimEnd('.', ' ');
        string prefix = sink + " sink: ";
        if (text.StartsWith(prefix, StringComparison.Ordinal))
        {
            text = text[prefix.Length..];
        }

        if (!ReferenceEquals(inner, e) && !string.IsNullOrWhiteSpace(inner.Message) && !text.Contains(inner.Message.TrimEnd('.'), StringComparison.Ordinal))
        {
            text += ": " + inner.Message.TrimEnd('.', ' ');
        }

        return text.ReplaceLineEndings(" ");
    }

    /// <summary>Stores what is in flight, stops the publishing tasks and closes the sink, all within
    /// <see cref="SinkPipelineOptions.DrainTimeout"/> (<see cref="StopAsync"/>). Stop the gateway first. Idempotent.</summary>
    /// <returns>A task that completes when the pipeline has stopped.</returns>
    public ValueTask DisposeAsync() => new(StopAsync(_options.DrainTimeout));

    /// <summary>
    /// Stops within <paramref name="timeout"/> (or <see cref="SinkPipelineOptions.DrainTimeout"/>, whichever is
    /// shorter): waits for the batches in flight to be stored, then closes the sink (<see cref="IAsyncDisposable.DisposeAsync"/>:
    /// Kafka's flush, connections) with what is left of the time. What was still in flight at the deadline is given up
    /// (<see cref="TradesNotStored"/>; its clients were not acknowledged and resend it), and a sink that does not
    /// close in time is left to finish on its own (logged). Stop the gateway first. Idempotent: the first call's
    /// deadline holds.
    /// </summary>
    /// <param name="timeout">The whole stop's deadline, the sink's close included.</param>
    /// <returns>A task that completes when the pipeline has stopped.</returns>
    public Task StopAsync(TimeSpan timeout) => _disposed ??= DisposeCoreAsync(timeout < _options.DrainTimeout ? timeout : _options.DrainTimeout);

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
        Interlocked.Add(ref _received, batch.Count);
        long trades = Interlocked.Add(ref _inFlightTrades, batch.Count);
        long bytes = Interlocked.Add(ref _inFlightBytes, batch.Length);
        if (!_queue.Writer.TryWrite(batch))
        {
            // Stopped: nothing will store it; the client, unacknowledged, resends it after reconnecting.
            Interlocked.Add(ref _notStored, batch.Count);
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
        if (Volatile.Read(ref _readyGate) is { } gate)
        {
            // Started degraded: the start-up check has not passed yet; the batch waits in flight (bounded).
            try
            {
                await gate.Task.WaitAsync(_abort.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        TimeSpan delay = _options.RetryInitialDelay;
        for (int attempt = 1; ; attempt++)
        {
            long started = _time.GetTimestamp();
            try
            {
                // A sink that cannot tell duplicates is called as it always was: no counting wrapper (an async state
                // machine per batch) around its PublishAsync.
                int duplicates = 0;
                if (_countsDuplicates)
                {
                    duplicates = await _sink.PublishCountingDuplicatesAsync(batch.Trades, _abort.Token).ConfigureAwait(false);
                }
                else
                {
                    await _sink.PublishAsync(batch.Trades, _abort.Token).ConfigureAwait(false);
                }
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

    private async Task DisposeCoreAsync(TimeSpan timeout)
    {
        long started = _time.GetTimestamp();
        _queue.Writer.TryComplete();
        Task publishers = Task.WhenAll(_publishers);
        try
        {
            await publishers.WaitAsync(timeout < TimeSpan.Zero ? TimeSpan.Zero : timeout, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            long abandoned = InFlightTrades;
            Interlocked.Add(ref _notStored, abandoned);
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

        // Also ends a start-up check still being retried.
        await _abort.CancelAsync().ConfigureAwait(false);
        if (_checking is { } checking)
        {
            await checking.ConfigureAwait(false);
        }

        // What is left of the deadline, and a moment at least for a sink with nothing left to send to close cleanly.
        TimeSpan remaining = timeout - _time.GetElapsedTime(started);
        TimeSpan close = remaining > CloseGrace ? remaining : CloseGrace;
        try
        {
            await _sink.DisposeAsync().AsTask().WaitAsync(close, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Log.CloseTimedOut(_logger, _sink.Name, close.TotalSeconds);
        }

        _metrics.Dispose();
        _abort.Dispose();
    }
}
