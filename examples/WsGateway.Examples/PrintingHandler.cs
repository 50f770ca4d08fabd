// Example 1: the simplest handler. Decode each trade and print one line.
// Run:  dotnet run --project examples/WsGateway.Examples.Runner -- printing --port 9001
// Feed: dotnet run --project examples/WsGateway.Examples.Runner -- client --url ws://127.0.0.1:9001/ --count 10
using System.Globalization;
using WsGateway.Sbe;

namespace WsGateway.Examples;

/// <summary>
/// Prints one line per trade, for example <c>trade 42 B 1000 @ 100.5</c>, plus a line when the connection opens, when
/// something goes wrong and when it closes.
/// </summary>
/// <remarks>
/// <para><b>One instance per connection.</b> Give the server a factory (<c>_ =&gt; new PrintingHandler()</c>): the
/// gateway then calls this instance from one connection's receive loop only, one callback at a time, so the fields
/// need no lock.</para>
/// <para><b>The span.</b> <c>data</c> points into the connection's receive buffer and is overwritten by the next read
/// once the callback returns. Everything printed comes from the decoded <see cref="Trade"/>, a 29-byte value copied
/// out of the span, never from the span itself after the call.</para>
/// <para><b>The writer</b> is shared by every connection, so it must be thread-safe: <see cref="Console.Out"/> is;
/// wrap any other writer in <see cref="TextWriter.Synchronized"/>. Each line is formatted into a stack buffer and
/// written with one call, so lines of different connections never interleave and printing a trade allocates
/// nothing (the writer itself may).</para>
/// <para><b>Batches.</b> This handler does not override <see cref="ITradeMessageHandler.OnTrades"/>: the default
/// calls <see cref="OnTrade"/> for each trade of the frame, so a batch prints one line per trade too.</para>
/// </remarks>
public sealed class PrintingHandler : ITradeMessageHandler
{
    private readonly TextWriter _output;
    private long _connectionId;

    /// <summary>Creates a handler that prints to <paramref name="output"/>.</summary>
    /// <param name="output">A thread-safe writer; <see cref="Console.Out"/> when null.</param>
    public PrintingHandler(TextWriter? output = null)
    {
        _output = output ?? Console.Out;
    }

    /// <inheritdoc />
    public void OnConnect(IGatewayConnection connection)
    {
        // The connection object outlives this call; here only its id and address are needed.
        _connectionId = connection.Id;
        _output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"connected: connection {connection.Id} from {connection.RemoteEndPoint}"));
    }

    /// <inheritdoc />
    public void OnTrade(ReadOnlySpan<byte> data)
    {
        // Decode first: the Trade is a copy, valid after the span is gone. The gateway has already checked the SBE
        // header (template, schema, length), so Decode does not throw here.
        Trade trade = Trade.Decode(data);

        // "trade 42 B 1000 @ 100.5": formatted into the stack, written in one call, no string allocated.
        Span<char> line = stackalloc char[96];
        if (line.TryWrite(CultureInfo.InvariantCulture, $"trade {trade.TradeId} {trade.SymbolChar} {trade.Quantity} @ {trade.Price}", out int length))
        {
            _output.WriteLine(line[..length]);
        }
        else
        {
            _output.WriteLine(trade.ToString()); // cannot happen with these field sizes; keeps the example honest
        }
    }

    /// <inheritdoc />
    public void OnError(WsError error)
    {
        // For example "error: Decode: Insufficient data: expected 29 bytes, got 20 (connection 3, message 7)".
        // A decode error leaves the connection open; the error says when the gateway closed it instead.
        _output.WriteLine($"error: {error}");
    }

    /// <inheritdoc />
    public void OnDisconnect(WebSocketCloseInfo close)
    {
        string who = close.InitiatedByClient ? "client" : "server";
        string clean = close.Clean ? "clean" : "not clean";
        string reason = string.IsNullOrEmpty(close.Reason) ? string.Empty : $" {close.Reason}";

        // For example "disconnected: connection 3, 1000 done (client, clean)".
        _output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"disconnected: connection {_connectionId}, {close.Code}{reason} ({who}, {clean})"));
    }
}
