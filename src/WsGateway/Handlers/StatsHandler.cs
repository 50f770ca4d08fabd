using System.Buffers.Binary;
using System.Globalization;
using WsGateway.Sbe;

namespace WsGateway.Handlers;

/// <summary>
/// Counts one connection's trades, their total quantity and its errors, and prints one line when the connection
/// closes, for example
/// <c>Session stats: connection 7 (127.0.0.1:51234): 1000 trades, total quantity 500500, 0 errors, closed 1000</c>
/// (with a sink, <c>; sink: 1000 stored, 0 duplicates</c> after it: <see cref="SessionDetail"/>).
/// </summary>
/// <remarks>Create one per connection (the gateway's handler factory does): the counters are not shared.</remarks>
public sealed class StatsHandler : ITradeMessageHandler
{
    // Offset of the quantity field in a message: the SBE header, then the field's offset in the root block.
    private const int QuantityOffset = MessageHeader.EncodedLength + TradeDecoder.QuantityOffset;

    private readonly TextWriter _output;
    private readonly GatewayTotals? _totals;
    private IGatewayConnection? _connection;

    /// <summary>Creates a handler that prints to <paramref name="output"/>.</summary>
    /// <param name="output">Where the closing line goes; standard output when null.</param>
    /// <param name="totals">Totals over all connections to add this one's to, when it closes; optional.</param>
    public StatsHandler(TextWriter? output = null, GatewayTotals? totals = null)
    {
        _output = output ?? Console.Out;
        _totals = totals;
    }

    /// <summary>Trades received on this connection (a batch frame counts each of its trades).</summary>
    public long Messages { get; private set; }

    /// <summary>Sum of the quantity of the trades received.</summary>
    public ulong TotalQuantity { get; private set; }

    /// <summary>Errors reported on this connection.</summary>
    public long Errors { get; private set; }

    /// <summary>More to say at the end of the closing line, after <c>; </c>: a sink pipeline sets it to what its sink
    /// stored of the connection, e.g. <c>sink: 1000 stored, 200 duplicates</c>. Called once, when the connection
    /// closes.</summary>
    public Func<string>? SessionDetail { get; set; }

    /// <inheritdoc />
    public void OnConnect(IGatewayConnection connection)
    {
        _connection = connection;
        _totals?.OnConnect();
    }

    /// <inheritdoc />
    public void OnTrade(ReadOnlySpan<byte> data)
    {
        Messages++;
        TotalQuantity += BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(QuantityOffset));
    }

    /// <inheritdoc />
    public void OnTrades(ReadOnlySpan<byte> data, int messageSize)
    {
        ulong quantity = 0;
        int count = 0;
        for (int offset = 0; offset + messageSize <= data.Length; offset += messageSize)
        {
            quantity += BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(offset + QuantityOffset));
            count++;
        }

        Messages += count;
        TotalQuantity += quantity;
    }

    /// <inheritdoc />
    public void OnError(WsError error) => Errors++;

    /// <inheritdoc />
    public void OnDisconnect(WebSocketCloseInfo close)
    {
        _totals?.OnDisconnect(Messages, TotalQuantity, Errors);
        string who = _connection is null
            ? "connection ?"
            : string.Create(CultureInfo.InvariantCulture, $"connection {_connection.Id} ({_connection.RemoteEndPoint})");
        _output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"Session stats: {who}: {Messages} trades, total quantity {TotalQuantity}, {Errors} errors, closed {close.Code}{(close.Clean ? string.Empty : " (not clean)")}{(SessionDetail is { } detail ? "; " + detail() : string.Empty)}"));
    }
}

/// <summary>Totals over every connection of a gateway, added to by <see cref="StatsHandler"/> as connections
/// open and close. Thread-safe.</summary>
public sealed class GatewayTotals
{
    private long _connectionsOpen;
    private long _connectionsClosed;
    private long _messages;
    private long _quantity;
    private long _errors;

    /// <summary>Connections open now.</summary>
    public long ConnectionsOpen => Volatile.Read(ref _connectionsOpen);

    /// <summary>Connections that have closed.</summary>
    public long ConnectionsClosed => Volatile.Read(ref _connectionsClosed);

    /// <summary>Trades received on closed connections.</summary>
    public long Messages => Volatile.Read(ref _messages);

    /// <summary>Total quantity of the trades received on closed connections.</summary>
    public ulong TotalQuantity => (ulong)Volatile.Read(ref _quantity);

    /// <summary>Errors on closed connections.</summary>
    public long Errors => Volatile.Read(ref _errors);

    internal void OnConnect() => Interlocked.Increment(ref _connectionsOpen);

    internal void OnDisconnect(long messages, ulong quantity, long errors)
    {
        Interlocked.Decrement(ref _connectionsOpen);
        Interlocked.Increment(ref _connectionsClosed);
        Interlocked.Add(ref _messages, messages);
        Interlocked.Add(ref _quantity, (long)quantity);
        Interlocked.Add(ref _errors, errors);
    }
}
