using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;

namespace WsGateway.Cli.Admin;

/// <summary>
/// What the dashboard shows: live totals (from <see cref="GatewayMonitor"/>), errors by kind and dispatch latency
/// (from its own listener on the gateway's meter), and one sample a second of the last five minutes.
/// </summary>
/// <remarks>Listens to the given meter instance only, so two gateways in one process never mix. The listener's
/// callbacks run on the gateway's receive loops: they do an interlocked add, nothing more.</remarks>
internal sealed class GatewayStats : IDisposable
{
    /// <summary>Samples kept: five minutes at one a second.</summary>
    public const int SeriesLength = 300;

    /// <summary>The window of the "recent" dispatch percentiles.</summary>
    public const int WindowSeconds = 10;

    private readonly GatewayMonitor _monitor;
    private readonly TimeProvider _timeProvider;
    private readonly MeterListener _listener = new();
    private readonly LatencyHistogram _dispatch = new();
    private readonly ConcurrentDictionary<int, long> _protocolErrors = new();
    private readonly ConcurrentDictionary<int, long> _rejected = new();
    private readonly Lock _lock = new();
    private readonly Queue<StatsSample> _samples = new();
    private readonly Queue<long[]> _histograms = new(); // cumulative dispatch counts at each of the last samples
    private readonly long _started;
    private readonly ITimer? _timer;
    private GatewayMonitor.Snapshot _last;
    private long _lastTimestamp;
    private long[] _lastHistogram;

    public GatewayStats(GatewayMonitor monitor, Meter meter, TimeProvider? timeProvider = null, bool sampleEverySecond = true)
    {
        _monitor = monitor;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _started = _timeProvider.GetTimestamp();
        _lastTimestamp = _started;
        _last = monitor.Read();
        _lastHistogram = _dispatch.Snapshot();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, meter)
                && instrument.Name is "wsgateway.dispatch.duration" or "wsgateway.protocol.errors" or "wsgateway.connections.rejected")
            {
                listener.EnableMeasurementEvents(instrument, this);
            }
        };
        _listener.SetMeasurementEventCallback<double>(static (_, value, _, state) => ((GatewayStats)state!)._dispatch.Record(value));
        _listener.SetMeasurementEventCallback<long>(static (instrument, value, tags, state) => ((GatewayStats)state!).OnCount(instrument.Name, value, tags));
        _listener.Start();
        if (sampleEverySecond)
        {
            _timer = _timeProvider.CreateTimer(static state => ((GatewayStats)state!).Sample(), this, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>Takes one sample: rates since the previous one and the dispatch percentiles of the interval. Called
    /// once a second by the timer (and by tests).</summary>
    public void Sample()
    {
        lock (_lock)
        {
            long timestamp = _timeProvider.GetTimestamp();
            GatewayMonitor.Snapshot now = _monitor.Read();
            long[] histogram = _dispatch.Snapshot();
            double seconds = _timeProvider.GetElapsedTime(_lastTimestamp, timestamp).TotalSeconds;
            LatencySummary interval = LatencyHistogram.Summarize(histogram, _lastHistogram);
            var sample = new StatsSample(
                _timeProvider.GetUtcNow().ToUnixTimeMilliseconds(),
                Rate(now.Messages - _last.Messages, seconds),
                Rate(now.Trades - _last.Trades, seconds),
                Rate(now.Bytes - _last.Bytes, seconds),
                now.Errors - _last.Errors,
                now.Active,
                interval.P50,
                interval.P99);
            _samples.Enqueue(sample);
            if (_samples.Count > SeriesLength)
            {
                _samples.Dequeue();
            }

            _histograms.Enqueue(histogram);
            if (_histograms.Count > WindowSeconds + 1)
            {
                _histograms.Dequeue();
            }

            _last = now;
            _lastTimestamp = timestamp;
            _lastHistogram = histogram;
        }
    }

    /// <summary>The dashboard's view: totals as of now, rates of the last sample, the series.</summary>
    public StatsResponse Read(Uri? gatewayUrl, bool listening)
    {
        GatewayMonitor.Snapshot totals = _monitor.Read();
        long[] histogram = _dispatch.Snapshot();
        StatsSample[] samples;
        long[]? windowStart;
        lock (_lock)
        {
            samples = [.. _samples];
            // The snapshot of WindowSeconds samples ago; since the start while there is no such sample yet.
            windowStart = _histograms.Count > WindowSeconds ? _histograms.Peek() : null;
        }

        StatsSample? last = samples.Length > 0 ? samples[^1] : null;
        return new StatsResponse(
            _timeProvider.GetUtcNow().ToUnixTimeMilliseconds(),
            Math.Round(_timeProvider.GetElapsedTime(_started).TotalSeconds, 1),
            new GatewayInfo(gatewayUrl?.ToString(), listening),
            new TotalsInfo(totals.Active, totals.Opened, totals.Rejected, totals.Messages, totals.Trades, totals.Bytes, totals.Errors),
            new RatesInfo(last?.Messages ?? 0, last?.Trades ?? 0, last?.Bytes ?? 0),
            new ErrorsInfo(totals.DecodeErrors, totals.HandlerErrors, totals.ProtocolErrors, ByCode(_protocolErrors), ByCode(_rejected)),
            new DispatchInfo(WindowSeconds, LatencyHistogram.Summarize(histogram, windowStart), LatencyHistogram.Summarize(histogram, null)),
            new SeriesInfo(
                1,
                [.. samples.Select(s => s.Time)],
                [.. samples.Select(s => s.Messages)],
                [.. samples.Select(s => s.Trades)],
                [.. samples.Select(s => s.Bytes)],
                [.. samples.Select(s => s.Errors)],
                [.. samples.Select(s => s.Connections)],
                [.. samples.Select(s => s.DispatchP50)],
                [.. samples.Select(s => s.DispatchP99)]));
    }

    public void Dispose()
    {
        _timer?.Dispose();
        _listener.Dispose();
    }

    private void OnCount(string instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        ConcurrentDictionary<int, long> byCode = instrument == "wsgateway.protocol.errors" ? _protocolErrors : _rejected;
        int code = 0;
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Value is int number)
            {
                code = number;
            }
        }

        byCode.AddOrUpdate(code, value, (_, old) => old + value);
    }

    private static double Rate(long delta, double seconds) => seconds <= 0 ? 0 : Math.Round(delta / seconds, 1);

    private static SortedDictionary<string, long> ByCode(ConcurrentDictionary<int, long> counts)
        => new(counts.ToDictionary(kv => kv.Key.ToString(CultureInfo.InvariantCulture), kv => kv.Value), StringComparer.Ordinal);

    private sealed record StatsSample(long Time, double Messages, double Trades, double Bytes, long Errors, long Connections, double? DispatchP50, double? DispatchP99);
}
