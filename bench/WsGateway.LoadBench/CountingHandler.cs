namespace WsGateway.LoadBench;

/// <summary>The gateway side of the load benchmark in count mode: counts one connection's trades in a plain field,
/// which <see cref="TradeCounters"/> reads for <c>stats</c> (no interlocked operation per message).</summary>
internal sealed class CountingHandler : ITradeMessageHandler
{
    private readonly TradeCounters _counters;
    public long Messages;
    public long Errors;

    public CountingHandler(TradeCounters counters) => _counters = counters;

    public void OnConnect(IGatewayConnection connection) => _counters.Add(this);

    public void OnTrade(ReadOnlySpan<byte> data) => Messages++;

    public void OnTrades(ReadOnlySpan<byte> data, int messageSize) => Messages += data.Length / messageSize;

    public void OnError(WsError error) => Errors++;

    public void OnDisconnect(WebSocketCloseInfo close) => _counters.Remove(this);
}

/// <summary>Totals over the live <see cref="CountingHandler"/>s and the closed ones. Locks only at connect,
/// disconnect and when read.</summary>
internal sealed class TradeCounters
{
    private readonly Lock _lock = new();
    private readonly HashSet<CountingHandler> _live = [];
    private long _closedMessages;
    private long _closedErrors;

    public void Add(CountingHandler handler)
    {
        lock (_lock)
        {
            _live.Add(handler);
        }
    }

    public void Remove(CountingHandler handler)
    {
        lock (_lock)
        {
            if (_live.Remove(handler))
            {
                _closedMessages += handler.Messages;
                _closedErrors += handler.Errors;
            }
        }
    }

    public (long Messages, long Errors) Read()
    {
        lock (_lock)
        {
            long messages = _closedMessages;
            long errors = _closedErrors;
            foreach (CountingHandler handler in _live)
            {
                messages += Volatile.Read(ref handler.Messages);
                errors += Volatile.Read(ref handler.Errors);
            }

            return (messages, errors);
        }
    }
}
