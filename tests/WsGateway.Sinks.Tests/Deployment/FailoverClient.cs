using System.Diagnostics;
using System.Net.Sockets;
using System.Net.WebSockets;
using WsGateway.Client;
using WsGateway.Sbe;

namespace WsGateway.Sinks.Tests.Deployment;

/// <summary>What one client of a deployment test did.</summary>
/// <param name="Client">Its number (its trade ids are <c>Client * 1e9 + 1, + 2, ...</c>).</param>
/// <param name="Sent">Trades sent (each acknowledged when the run ended without a problem).</param>
/// <param name="Reconnects">Connections it opened again after losing one.</param>
/// <param name="LongestStall">The longest time between two of its sends completing: a failover, or backpressure.</param>
/// <param name="Problem">What went wrong, or null.</param>
internal sealed record ClientRun(int Client, long Sent, long Reconnects, TimeSpan LongestStall, string? Problem)
{
    public const ulong IdBase = 1_000_000_000;

    public ulong FirstId => ((ulong)Client * IdBase) + 1;
}

/// <summary>A client as a deployment's users write it: <see cref="ReliableTradeClient"/> sending paced batches of
/// numbered trades, failing over (<see cref="ReliableTradeClient.FailOverAsync(CancellationToken)"/>) whenever a send or the wait for
/// acknowledgements throws, until it is told to stop, then waiting until everything it sent is acknowledged.</summary>
internal static class FailoverClient
{
    public static async Task<ClientRun> RunAsync(Uri url, Uri[] failoverUrls, int client, int batch, TimeSpan pace, CancellationToken stopSending, CancellationToken deadline)
    {
        var options = new ReliableTradeClientOptions
        {
            FailoverUrls = failoverUrls,
            ReconnectDelay = TimeSpan.FromMilliseconds(50),
            MaxReconnectDelay = TimeSpan.FromSeconds(1),
        };
        ReliableTradeClient reliable;
        var connecting = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                reliable = await ReliableTradeClient.ConnectAsync(url, options, deadline);
                break;
            }
            catch (Exception e) when (IsConnectionLoss(e) && connecting.Elapsed < TimeSpan.FromSeconds(20))
            {
                await Task.Delay(Random.Shared.Next(20, 200), deadline);
            }
        }

        await using (reliable)
        {
            var frame = new Trade[batch];
            ulong firstId = ((ulong)client * ClientRun.IdBase) + 1;
            var sinceLastSend = Stopwatch.StartNew();
            TimeSpan longest = TimeSpan.Zero;
            try
            {
                while (!stopSending.IsCancellationRequested)
                {
                    ulong id = firstId + (ulong)reliable.Sent;
                    for (int i = 0; i < frame.Length; i++)
                    {
                        frame[i] = new Trade(id + (ulong)i, (byte)('A' + (client % 26)), 100.5, (uint)client);
                    }

                    try
                    {
                        await reliable.SendAsync(frame, deadline);
                    }
                    catch (Exception e) when (IsConnectionLoss(e))
                    {
                        await reliable.FailOverAsync(deadline);
                        continue;
                    }

                    longest = Max(longest, sinceLastSend.Elapsed);
                    sinceLastSend.Restart();
                    await Task.Delay(pace, deadline);
                }

                while (true)
                {
                    try
                    {
                        await reliable.WaitForAllAcknowledgedAsync(deadline);
                        break;
                    }
                    catch (Exception e) when (IsConnectionLoss(e))
                    {
                        await reliable.FailOverAsync(deadline);
                    }
                }

                try
                {
                    await reliable.CloseAsync(deadline);
                }
                catch (Exception e) when (IsConnectionLoss(e))
                {
                    // everything is acknowledged: a close that fails loses nothing
                }

                return new ClientRun(client, reliable.Sent, reliable.Reconnects, longest, null);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                return new ClientRun(client, reliable.Sent, reliable.Reconnects, longest,
                    $"client {client}: {reliable.Acknowledged} of {reliable.Sent} trades acknowledged at the deadline, {reliable.Reconnects} reconnects, connected to {reliable.Url}");
            }
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static bool IsConnectionLoss(Exception e)
        => e is WebSocketException or IOException or SocketException or WebSocketHandshakeException or ObjectDisposedException or TimeoutException;
}
