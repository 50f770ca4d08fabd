using System.Diagnostics;
using System.Diagnostics.Metrics;
using WsGateway.Diagnostics;

namespace WsGateway.Sinks;

/// <summary>
/// The sink pipeline's instruments, on the gateway's meter <c>WsGateway</c>, each tagged with <c>wsgateway.sink</c>
/// (the sink's name). Counted once per batch (one socket read), never per trade.
/// </summary>
internal sealed class SinkMetrics : IDisposable
{
    internal const string SinkTag = "wsgateway.sink";

    // Publishing takes from a fraction of a millisecond to seconds (a cluster electing a leader): 100 µs to 30 s.
    private static readonly double[] s_durationBuckets =
        [0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    private readonly Meter? _ownMeter;
    private readonly TagList _tags;
    private readonly Counter<long> _stored;
    private readonly Counter<long> _batches;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _acks;
    private readonly Counter<long> _duplicates;
    private readonly Histogram<double> _publishDuration;
    private readonly Histogram<double> _ackDuration;

    public SinkMetrics(Meter? meter, string sinkName, SinkPipeline pipeline)
    {
        if (meter is null)
        {
            _ownMeter = new Meter(GatewayMetrics.MeterName);
            meter = _ownMeter;
        }

        _tags = new TagList { { SinkTag, sinkName } };
        KeyValuePair<string, object?>[] tags = [new(SinkTag, sinkName)];
        _stored = meter.CreateCounter<long>("wsgateway.sink.trades.stored", "{trade}", "Trades the sink acknowledged as durably stored");
        _batches = meter.CreateCounter<long>("wsgateway.sink.batches.stored", "{batch}", "Batches (the trades of one socket read) the sink stored");
        _retries = meter.CreateCounter<long>("wsgateway.sink.retries", "{attempt}", "Failed publish attempts, each retried after a backoff");
        _duplicates = meter.CreateCounter<long>("wsgateway.sink.trades.duplicate", "{trade}", "Trades stored that the sink already held when they came (a client's resend, a re-run with the same trade ids); never counted by a sink that cannot tell (kafka)");
        _acks = meter.CreateCounter<long>("wsgateway.sink.acks.sent", "{ack}", "TradeAck messages sent to clients");
        _publishDuration = meter.CreateHistogram<double>(
            "wsgateway.sink.publish.duration", "s", "Time of one successful publish of a batch, until the sink acknowledged it",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_durationBuckets });
        _ackDuration = meter.CreateHistogram<double>(
            "wsgateway.sink.ack.duration", "s", "Time from the end of the read that brought a batch to the sink's acknowledgement, retries included",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_durationBuckets });
        meter.CreateObservableUpDownCounter("wsgateway.sink.inflight.trades", () => new Measurement<long>(pipeline.InFlightTrades, tags), "{trade}", "Trades handed to the sink and not yet acknowledged");
        meter.CreateObservableUpDownCounter("wsgateway.sink.inflight.bytes", () => new Measurement<long>(pipeline.InFlightBytes, tags), "By", "Bytes of trades handed to the sink and not yet acknowledged");
        meter.CreateObservableUpDownCounter("wsgateway.sink.connections.paused", () => new Measurement<int>(pipeline.PausedConnections, tags), "{connection}", "Connections not read because the sink is at its in-flight bound");
        meter.CreateObservableGauge("wsgateway.sink.lag", () => new Measurement<double>(pipeline.Lag.TotalSeconds, tags), "s", "Age of the oldest trade handed to the sink and not yet acknowledged");
        meter.CreateObservableGauge("wsgateway.sink.ready", () => new Measurement<int>(pipeline.NotReadyReason is null ? 1 : 0, tags), "{sink}", "1 once the sink's start-up check passed (or none was asked for), 0 while it is retried (started degraded)");
    }

    public void Stored(int trades, double publishSeconds, double ackSeconds)
    {
        _stored.Add(trades, _tags);
        _batches.Add(1, _tags);
        if (_publishDuration.Enabled)
        {
            _publishDuration.Record(publishSeconds, _tags);
        }

        if (_ackDuration.Enabled)
        {
            _ackDuration.Record(ackSeconds, _tags);
        }
    }

    public void Duplicates(int trades) => _duplicates.Add(trades, _tags);

    public void Retry() => _retries.Add(1, _tags);

    public void AcknowledgementSent() => _acks.Add(1, _tags);

    public void Dispose() => _ownMeter?.Dispose();
}
