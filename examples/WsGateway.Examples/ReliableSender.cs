// Example 6: the client of a gateway with a durable sink. Send trades, wait until the gateway says they are stored,
// reconnect and resend what was not acknowledged when the connection is lost.
// Run (with the nats example, or wsgw serve --sink nats://..., listening on port 9001):
//       dotnet run --project examples/WsGateway.Examples.Runner -- reliable-client --url ws://127.0.0.1:9001/ --count 100000 --batch 100
using System.Net.Sockets;
using System.Net.WebSockets;
using WsGateway.Client;
using WsGateway.Sbe;

namespace WsGateway.Examples;

/// <summary>
/// Sends trades with <see cref="ReliableTradeClient"/>: each is kept until the gateway's <see cref="TradeAck"/> says
/// its sink stored it; a lost connection is reconnected and the unacknowledged trades are sent again, so that with a
/// deduplicating sink every trade is stored exactly once.
/// </summary>
/// <remarks>
/// <para><b>Acknowledgements.</b> <see cref="ReliableTradeClient.Sent"/> after a send is a number to wait for:
/// <see cref="ReliableTradeClient.WaitForAcknowledgementAsync"/> completes once that many trades are stored.</para>
/// <para><b>Reconnecting.</b> A send or a wait that throws <see cref="WebSocketException"/> (or a socket error) means
/// the connection is gone; nothing recorded is lost. <see cref="ReliableTradeClient.ReconnectAsync"/> throws while the
/// gateway is unreachable: try again after a pause (bounded here by <c>reconnectFor</c>).</para>
/// </remarks>
public static class ReliableSender
{
    /// <summary>Sends trades 1 to <paramref name="count"/> (<see cref="TradeSender.CreateTrade"/>) in messages of
    /// <paramref name="batchSize"/>, reconnecting when the connection is lost, then waits until all are acknowledged
    /// and closes. Prints one line per step.</summary>
    /// <param name="url">A gateway with a sink, for example <c>ws://127.0.0.1:9001/</c>.</param>
    /// <param name="count">How many trades.</param>
    /// <param name="batchSize">Trades per message, at least 1.</param>
    /// <param name="output">Where the lines go.</param>
    /// <param name="reconnectFor">How long to keep trying to reconnect after a loss.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>How many trades were acknowledged.</returns>
    public static async Task<long> SendAsync(Uri url, int count, int batchSize, TextWriter output, TimeSpan reconnectFor, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentNullException.ThrowIfNull(output);

        await using ReliableTradeClient client = await ReliableTradeClient.ConnectAsync(url, cancellationToken: cancellationToken).ConfigureAwait(false);
        output.WriteLine($"connected to {url}");
        var frame = new Trade[batchSize];
        while (client.Sent < count)
        {
            int n = (int)Math.Min(batchSize, count - client.Sent);
            for (int i = 0; i < n; i++)
            {
                frame[i] = TradeSender.CreateTrade((ulong)(client.Sent + i + 1));
            }

            try
            {
                await client.SendAsync(frame.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is WebSocketException or IOException or SocketException)
            {
                await ReconnectAsync(client, output, reconnectFor, cancellationToken).ConfigureAwait(false);
            }
        }

        // Everything is sent: wait for the acknowledgements, reconnecting (and so resending) if the connection drops.
        while (true)
        {
            try
            {
                await client.WaitForAllAcknowledgedAsync(cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (WebSocketException)
            {
                await ReconnectAsync(client, output, reconnectFor, cancellationToken).ConfigureAwait(false);
            }
        }

        string duplicates = client.DuplicatesReported is { } d ? $"{d} of them stored before" : "duplicates unknown";
        output.WriteLine($"{client.Acknowledged} trades acknowledged as stored (last trade id {client.LastAcknowledgedTradeId}, {client.AcknowledgementsReceived} acks, {duplicates})");
        await client.CloseAsync(cancellationToken).ConfigureAwait(false);
        output.WriteLine("closed");
        return client.Acknowledged;
    }

    private static async Task ReconnectAsync(ReliableTradeClient client, TextWriter output, TimeSpan reconnectFor, CancellationToken cancellationToken)
    {
        output.WriteLine($"connection lost with {client.Unacknowledged} trades unacknowledged; reconnecting");
        DateTime giveUp = DateTime.UtcNow + reconnectFor;
        while (true)
        {
            try
            {
                await client.ReconnectAsync(cancellationToken).ConfigureAwait(false);
                output.WriteLine($"reconnected; resent {client.Unacknowledged} unacknowledged trades");
                return;
            }
            catch (Exception e) when ((e is SocketException or IOException or WebSocketException or TimeoutException) && DateTime.UtcNow < giveUp)
            {
                await Task.Delay(500, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
