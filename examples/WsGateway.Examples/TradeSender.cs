// Example 5: the client side. Connect, send single trades, send one batch, close cleanly.
// Run (with one of the servers above listening on port 9001):
//       dotnet run --project examples/WsGateway.Examples.Runner -- client --url ws://127.0.0.1:9001/ --count 1000 --batch 100
using System.Globalization;
using WsGateway.Client;
using WsGateway.Sbe;

namespace WsGateway.Examples;

/// <summary>
/// Connects to a gateway with <see cref="TradeClient"/>, sends <c>count</c> trades one per WebSocket message, then
/// <c>batchSize</c> trades in one message, and closes with the full closing handshake.
/// </summary>
/// <remarks>
/// <para><b>One message per trade or one per batch.</b> <see cref="TradeClient.SendTradeAsync"/> writes one 35-byte
/// frame (6-byte header, 29-byte trade) and flushes it: the lowest latency per trade. The gateway hands it to
/// <c>OnTrade</c>. <see cref="TradeClient.SendTradesAsync"/> writes every trade of the batch into one frame, which
/// the gateway hands to <c>OnTrades</c> in one call. For throughput without batches, write many frames with
/// <see cref="TradeClient.TryWriteTrade"/> and send them with one <see cref="TradeClient.FlushAsync"/>.</para>
/// <para><b>Closing.</b> <see cref="TradeClient.CloseAsync"/> sends what is buffered, then a close frame, and waits for
/// the server's close. The gateway answers only after every message before the close reached the handler, so when
/// it returns, everything sent was delivered (or refused with an error the handler saw).</para>
/// </remarks>
public static class TradeSender
{
    private const string Symbols = "ABCD";

    /// <summary>The trade with id <paramref name="tradeId"/> in this example's sequence: symbols A to D in turn,
    /// prices 100 to 101.75 in steps of 0.25, quantities 100 to 1000.</summary>
    /// <param name="tradeId">The trade id, from 1.</param>
    /// <returns>The trade.</returns>
    public static Trade CreateTrade(ulong tradeId)
        => new(tradeId, (byte)Symbols[(int)(tradeId % 4)], 100 + (tradeId % 8 * 0.25), (uint)((tradeId % 10) + 1) * 100);

    /// <summary>Sends trades 1 to <paramref name="count"/> one per message, then trades <c>count + 1</c> to
    /// <c>count + batchSize</c> in one message, and closes. Prints one line per step.</summary>
    /// <param name="url">The gateway, for example <c>ws://127.0.0.1:9001/</c>.</param>
    /// <param name="count">Trades sent one per message.</param>
    /// <param name="batchSize">Trades sent together in the one batch message; 0 sends no batch.</param>
    /// <param name="output">Where the lines go.</param>
    /// <param name="cancellationToken">Cancels the run (dropping the connection).</param>
    /// <returns>Every trade sent, in order.</returns>
    public static async Task<Trade[]> SendAsync(Uri url, int count, int batchSize, TextWriter output, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegative(batchSize);
        ArgumentNullException.ThrowIfNull(output);

        Trade[] sent = new Trade[count + batchSize];
        for (int i = 0; i < sent.Length; i++)
        {
            sent[i] = CreateTrade((ulong)i + 1);
        }

        // `await using`: if anything below throws, the connection is dropped and its socket released.
        await using TradeClient client = await TradeClient.ConnectAsync(url, cancellationToken: cancellationToken).ConfigureAwait(false);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"connected to {url}"));

        // 1. Single trades: one WebSocket message each, flushed each.
        for (int i = 0; i < count; i++)
        {
            await client.SendTradeAsync(sent[i], cancellationToken).ConfigureAwait(false);
        }

        if (count > 0)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sent {count} single trades (ids 1..{count})"));
        }

        // 2. One batch: every trade in one WebSocket message.
        if (batchSize > 0)
        {
            await client.SendTradesAsync(sent.AsSpan(count, batchSize), cancellationToken).ConfigureAwait(false);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sent a batch of {batchSize} trades (ids {count + 1}..{count + batchSize})"));
        }

        // 3. Close cleanly and wait for the server's answer: then everything above has been delivered.
        await client.CloseAsync(1000, "done", cancellationToken).ConfigureAwait(false);
        string reason = string.IsNullOrEmpty(client.CloseReason) ? string.Empty : $" {client.CloseReason}";
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"closed: {client.CloseStatus}{reason}"));
        return sent;
    }

    /// <summary>Sends trades 1 to <paramref name="count"/> in messages of <paramref name="perMessage"/> trades each
    /// (one per message when 1, the last message shorter when the count does not divide), and closes. Prints one line
    /// per step.</summary>
    /// <param name="url">The gateway, for example <c>ws://127.0.0.1:9001/</c>.</param>
    /// <param name="count">Trades to send.</param>
    /// <param name="perMessage">Trades per WebSocket message (at least 1).</param>
    /// <param name="output">Where the lines go.</param>
    /// <param name="cancellationToken">Cancels the run (dropping the connection).</param>
    /// <returns>Every trade sent, in order.</returns>
    public static async Task<Trade[]> SendInMessagesAsync(Uri url, int count, int perMessage, TextWriter output, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(perMessage, 1);
        ArgumentNullException.ThrowIfNull(output);

        Trade[] sent = new Trade[count];
        for (int i = 0; i < sent.Length; i++)
        {
            sent[i] = CreateTrade((ulong)i + 1);
        }

        await using TradeClient client = await TradeClient.ConnectAsync(url, cancellationToken: cancellationToken).ConfigureAwait(false);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"connected to {url}"));
        int messages = 0;
        for (int i = 0; i < count; i += perMessage)
        {
            int n = Math.Min(perMessage, count - i);
            if (n == 1)
            {
                await client.SendTradeAsync(sent[i], cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await client.SendTradesAsync(sent.AsSpan(i, n), cancellationToken).ConfigureAwait(false);
            }

            messages++;
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sent {count} trades (ids 1..{count}) in {messages} messages of up to {perMessage}"));
        await client.CloseAsync(1000, "done", cancellationToken).ConfigureAwait(false);
        string reason = string.IsNullOrEmpty(client.CloseReason) ? string.Empty : $" {client.CloseReason}";
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"closed: {client.CloseStatus}{reason}"));
        return sent;
    }
}
