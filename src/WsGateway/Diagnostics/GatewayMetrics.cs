using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace WsGateway.Diagnostics;

/// <summary>
/// The gateway's instruments, on the meter <c>WsGateway</c> (names lowercase and dotted, units in braces, as
/// Kestrel's). Counts are added once per socket read (a read brings many frames), never per frame, and tags are
/// built off the hot path.
/// </summary>
public sealed class GatewayMetrics : IDisposable
{
    // Values of the wsgateway.limit tag.
    internal const string LimitConnections = "max_connections";
    internal const string LimitConnectionsPerAddress = "max_connections_per_address";
    internal const string LimitMessageRate = "message_rate";
    internal const string LimitHandshakeTimeout = "handshake_timeout";

    // Values of the wsgateway.limit.action tag.
    internal const string ActionRejected = "rejected";
    internal const string ActionClosed = "closed";
    internal const string ActionThrottled = "throttled";

    // Values of the wsgateway.denial.reason tag.
    internal const string DenialOrigin = "origin";
    internal const string DenialValidator = "validator";

    /// <summary>The meter's name.</summary>
    public const string MeterName = "WsGateway";

    // Handlers take microseconds for a read, not the milliseconds exporters assume by default: 1 µs to 1 s.
    private static readonly double[] s_dispatchBuckets =
        [0.000_001, 0.000_002_5, 0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

    private readonly Meter _meter;
    private readonly UpDownCounter<long> _active;
    private readonly Counter<long> _opened;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _messages;
    private readonly Counter<long> _trades;
    private readonly Counter<long> _bytes;
    private readonly Counter<long> _decodeErrors;
    private readonly Counter<long> _protocolErrors;
    private readonly Counter<long> _handlerErrors;
    private readonly Histogram<double> _dispatchDuration;
    private readonly Counter<long> _limitsExceeded;
    private readonly Counter<long> _handshakesDenied;

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/>, or on a meter of the
    /// gateway's own when none is given (standalone hosting without dependency injection).</summary>
    /// <param name="meterFactory">The application's meter factory, if any.</param>
    public GatewayMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _active = _meter.CreateUpDownCounter<long>("wsgateway.connections.active", "{connection}", "WebSocket connections open now");
        _opened = _meter.CreateCounter<long>("wsgateway.connections.opened", "{connection}", "WebSocket connections accepted (handshake completed)");
        _rejected = _meter.CreateCounter<long>("wsgateway.connections.rejected", "{connection}", "Handshakes refused, by HTTP status code");
        _messages = _meter.CreateCounter<long>("wsgateway.messages.received", "{frame}", "WebSocket data frames received, binary and text (a fragmented message counts once, when complete)");
        _trades = _meter.CreateCounter<long>("wsgateway.trades.received", "{trade}", "SBE trades delivered to handlers (a frame of N trades counts N)");
        _bytes = _meter.CreateCounter<long>("wsgateway.bytes.received", "By", "Bytes read from clients after the handshake");
        _decodeErrors = _meter.CreateCounter<long>("wsgateway.decode.errors", "{frame}", "Binary frames that were not a valid SBE trade or batch of trades (the connection goes on)");
        _protocolErrors = _meter.CreateCounter<long>("wsgateway.protocol.errors", "{connection}", "Connections closed for a protocol or policy reason, by close code");
        _handlerErrors = _meter.CreateCounter<long>("wsgateway.handler.errors", "{error}", "Exceptions thrown by handler callbacks");
        _limitsExceeded = _meter.CreateCounter<long>("wsgateway.limits.exceeded", "{event}", "Times a connection hit a limit, by limit (wsgateway.limit) and what the gateway did (wsgateway.limit.action)");
        _handshakesDenied = _meter.CreateCounter<long>("wsgateway.handshakes.denied", "{connection}", "Handshakes refused by the origin allow-list or the handshake validator, by reason (wsgateway.denial.reason)");
        _dispatchDuration = _meter.CreateHistogram<double>(
            "wsgateway.dispatch.duration",
            "s",
            "Time handlers took for the frames of one socket read",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_dispatchBuckets });
    }

    /// <summary>The meter the instruments live on.</summary>
    public Meter Meter => _meter;

    internal bool DispatchTimingEnabled => _dispatchDuration.Enabled;

    internal void ConnectionOpened()
    {
        _active.Add(1);
        _opened.Add(1);
    }

    internal void ConnectionClosed() => _active.Add(-1);

    internal void ConnectionRejected(int statusCode) => _rejected.Add(1, new KeyValuePair<string, object?>("http.response.status_code", statusCode));

    internal void Received(long messages, long trades, long bytes, long decodeErrors, long handlerErrors)
    {
        if (messages != 0)
        {
            _messages.Add(messages);
        }

        if (trades != 0)
        {
            _trades.Add(trades);
        }

        if (bytes != 0)
        {
            _bytes.Add(bytes);
        }

        if (decodeErrors != 0)
        {
            _decodeErrors.Add(decodeErrors);
        }

        if (handlerErrors != 0)
        {
            _handlerErrors.Add(handlerErrors);
        }
    }

    internal void DispatchTook(long startTimestamp, long endTimestamp)
        => _dispatchDuration.Record(Stopwatch.GetElapsedTime(startTimestamp, endTimestamp).TotalSeconds);

    internal void ProtocolError(ushort closeCode) => _protocolErrors.Add(1, new KeyValuePair<string, object?>("websocket.close_code", (int)closeCode));

    internal void LimitExceeded(string limit, string action)
        => _limitsExceeded.Add(1, new KeyValuePair<string, object?>("wsgateway.limit", limit), new KeyValuePair<string, object?>("wsgateway.limit.action", action));

    internal void HandshakeDenied(string reason, int statusCode)
        => _handshakesDenied.Add(1, new KeyValuePair<string, object?>("wsgateway.denial.reason", reason), new KeyValuePair<string, object?>("http.response.status_code", statusCode));

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();
}
