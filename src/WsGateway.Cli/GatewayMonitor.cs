using System.Diagnostics.Metrics;
using WsGateway.Diagnostics;

namespace WsGateway.Cli;

/// <summary>Listens to the gateway's meter in-process and keeps running totals for the live view.</summary>
internal sealed class GatewayMonitor : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _active;
    private long _opened;
    private long _rejected;
    private long _messages;
    private long _trades;
    private long _bytes;
    private long _decodeErrors;
    private long _protocolErrors;
    private long _handlerErrors;

    public GatewayMonitor(Meter meter)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
            {
                listener.EnableMeasurementEvents(instrument, this);
            }
        };
        _listener.SetMeasurementEventCallback<long>(static (instrument, value, _, state) => ((GatewayMonitor)state!).OnMeasurement(instrument.Name, value));
        _listener.Start();
    }

    public readonly record struct Snapshot(long Active, long Opened, long Rejected, long Messages, long Trades, long Bytes, long DecodeErrors, long ProtocolErrors, long HandlerErrors)
    {
        public long Errors => DecodeErrors + ProtocolErrors + HandlerErrors;
    }

    public Snapshot Read() => new(
        Volatile.Read(ref _active), Volatile.Read(ref _opened), Volatile.Read(ref _rejected), Volatile.Read(ref _messages), Volatile.Read(ref _trades),
        Volatile.Read(ref _bytes), Volatile.Read(ref _decodeErrors), Volatile.Read(ref _protocolErrors), Volatile.Read(ref _handlerErrors));

    private void OnMeasurement(string name, long value)
    {
        switch (name)
        {
            case "wsgateway.connections.active": Interlocked.Add(ref _active, value); break;
            case "wsgateway.connections.opened": Interlocked.Add(ref _opened, value); break;
            case "wsgateway.connections.rejected": Interlocked.Add(ref _rejected, value); break;
            case "wsgateway.messages.received": Interlocked.Add(ref _messages, value); break;
            case "wsgateway.trades.received": Interlocked.Add(ref _trades, value); break;
            case "wsgateway.bytes.received": Interlocked.Add(ref _bytes, value); break;
            case "wsgateway.decode.errors": Interlocked.Add(ref _decodeErrors, value); break;
            case "wsgateway.protocol.errors": Interlocked.Add(ref _protocolErrors, value); break;
            case "wsgateway.handler.errors": Interlocked.Add(ref _handlerErrors, value); break;
        }
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>Creates the metrics and a monitor over them.</summary>
    public static (GatewayMetrics Metrics, GatewayMonitor Monitor) Create()
    {
        var metrics = new GatewayMetrics();
        return (metrics, new GatewayMonitor(metrics.Meter));
    }
}
