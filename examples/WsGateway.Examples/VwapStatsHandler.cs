// Example 2: statistics over every connection. One shared, thread-safe handler keeps per-symbol VWAP, volume,
// low/high/last; the runner prints the table every few seconds and when it stops.
// Run:  dotnet run --project examples/WsGateway.Examples.Runner -- stats --port 9001 --interval 5
// Feed: dotnet run --project examples/WsGateway.Examples.Runner -- client --url ws://127.0.0.1:9001/ --count 1000
using System.Globalization;
using WsGateway.Sbe;

namespace WsGateway.Examples;

/// <summary>Statistics of one symbol, as of a <see cref="VwapStatsHandler.Snapshot"/>.</summary>
/// <param name="Symbol">The symbol byte as a character.</param>
/// <param name="Trades">Trades seen.</param>
/// <param name="Volume">Sum of their quantities.</param>
/// <param name="Notional">Sum of price × quantity.</param>
/// <param name="Low">Lowest price.</param>
/// <param name="High">Highest price.</param>
/// <param name="Last">Price of the last trade added.</param>
public readonly record struct SymbolStatistics(char Symbol, long Trades, ulong Volume, double Notional, double Low, double High, double Last)
{
    /// <summary>Volume-weighted average price, <c>Notional / Volume</c>; NaN when the volume is 0.</summary>
    public double Vwap => Volume == 0 ? double.NaN : Notional / Volume;

    /// <summary>One line, for example <c>B: 2 trades, volume 400, VWAP 100.75, low 100, high 101, last 101</c> (the VWAP
    /// rounded to 4 decimals).</summary>
    /// <returns>The line, culture-invariant.</returns>
    public override string ToString()
        => string.Create(CultureInfo.InvariantCulture, $"{Symbol}: {Trades} trades, volume {Volume}, VWAP {Vwap:0.####}, low {Low}, high {High}, last {Last}");
}

/// <summary>
/// Per-symbol statistics (trades, volume, VWAP, low, high, last) over every connection of a gateway: one instance
/// shared by all connections.
/// </summary>
/// <remarks>
/// <para><b>One instance for every connection.</b> Pass the handler itself to the server
/// (<c>new WebSocketServer(listen, handler)</c>), not a factory: the gateway then calls it from many connections'
/// receive loops at once, so it must be thread-safe. It takes one lock per <em>message</em>, not per trade: a batch of
/// a thousand trades is added under a single lock. Readers (<see cref="Snapshot"/>) take the same lock briefly.</para>
/// <para><b>Compared with the library's <see cref="Handlers.StatsHandler"/>.</b> <c>StatsHandler</c> is the other
/// design: one instance per connection counting without any lock, added to a shared
/// <see cref="Handlers.GatewayTotals"/> (with <see cref="Interlocked"/>) only when the connection closes. It is cheaper
/// per message, but the totals only move when connections close; this handler's numbers are live.</para>
/// <para><b>The span.</b> Each trade is decoded into a <see cref="Trade"/> value inside the callback and only numbers are
/// kept; nothing refers to the receive buffer afterwards.</para>
/// <para><b>Memory.</b> A fixed table of 256 entries, one per possible symbol byte: no allocation per trade and no
/// dictionary to grow.</para>
/// </remarks>
public sealed class VwapStatsHandler : ITradeMessageHandler
{
    private readonly Lock _lock = new();
    private readonly Accumulator[] _bySymbol = new Accumulator[256];
    private long _trades;
    private long _errors;
    private long _connectionsOpen;

    /// <summary>Trades added so far, over every connection.</summary>
    public long Trades => Volatile.Read(ref _trades);

    /// <summary>Errors reported so far, over every connection (bad messages, protocol errors, ...).</summary>
    public long Errors => Volatile.Read(ref _errors);

    /// <summary>Connections open now.</summary>
    public long ConnectionsOpen => Volatile.Read(ref _connectionsOpen);

    /// <inheritdoc />
    public void OnConnect(IGatewayConnection connection) => Interlocked.Increment(ref _connectionsOpen);

    /// <inheritdoc />
    public void OnTrade(ReadOnlySpan<byte> data)
    {
        // Decode outside the lock: only the shared table needs it.
        Trade trade = Trade.Decode(data);
        lock (_lock)
        {
            Add(trade);
            _trades++;
        }
    }

    /// <inheritdoc />
    public void OnTrades(ReadOnlySpan<byte> data, int messageSize)
    {
        // The whole frame under one lock. TradeBatchReader walks the frame without allocating; each message's length
        // comes from its own header, which the gateway has checked (all equal, messageSize bytes each).
        int count = 0;
        lock (_lock)
        {
            foreach (Trade trade in new TradeBatchReader(data))
            {
                Add(trade);
                count++;
            }

            _trades += count;
        }
    }

    /// <inheritdoc />
    public void OnError(WsError error) => Interlocked.Increment(ref _errors);

    /// <inheritdoc />
    public void OnDisconnect(WebSocketCloseInfo close) => Interlocked.Decrement(ref _connectionsOpen);

    /// <summary>Copies the statistics of every symbol seen so far, in symbol order.</summary>
    /// <returns>One entry per symbol that had at least one trade.</returns>
    public IReadOnlyList<SymbolStatistics> Snapshot()
    {
        var result = new List<SymbolStatistics>();
        lock (_lock)
        {
            for (int symbol = 0; symbol < _bySymbol.Length; symbol++)
            {
                ref readonly Accumulator a = ref _bySymbol[symbol];
                if (a.Trades > 0)
                {
                    result.Add(new SymbolStatistics((char)symbol, a.Trades, a.Volume, a.Notional, a.Low, a.High, a.Last));
                }
            }
        }

        return result;
    }

    /// <summary>Writes the table: one <see cref="SymbolStatistics"/> line per symbol, then a total line
    /// (<c>total: 3 trades, 0 errors, 1 connections open</c>).</summary>
    /// <param name="output">Where to write.</param>
    public void WriteTable(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        foreach (SymbolStatistics symbol in Snapshot())
        {
            output.WriteLine(symbol.ToString());
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"total: {Trades} trades, {Errors} errors, {ConnectionsOpen} connections open"));
    }

    // Caller holds _lock.
    private void Add(in Trade trade)
    {
        ref Accumulator a = ref _bySymbol[trade.Symbol];
        if (a.Trades == 0)
        {
            a.Low = trade.Price;
            a.High = trade.Price;
        }
        else
        {
            a.Low = Math.Min(a.Low, trade.Price);
            a.High = Math.Max(a.High, trade.Price);
        }

        a.Trades++;
        a.Volume += trade.Quantity;
        a.Notional += trade.Price * trade.Quantity;
        a.Last = trade.Price;
    }

    private struct Accumulator
    {
        public long Trades;
        public ulong Volume;
        public double Notional;
        public double Low;
        public double High;
        public double Last;
    }
}
