using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using WsGateway.Client;
using WsGateway.Sbe;

namespace WsGateway.Cli;

/// <summary>
/// <c>wsgw send --reliable</c>: each connection is a <see cref="ReliableTradeClient"/> that sends its share of the
/// trades, keeps every one until the gateway's <see cref="TradeAck"/> says its sink stored it, and when the connection
/// is lost (the gateway restarted, closed it, the network dropped it) reconnects with backoff and sends again, first
/// and in order, what was not acknowledged. It stops when every trade is acknowledged (then closes with 1000), or
/// when the gateway has acknowledged nothing for <c>--ack-timeout</c> while trades were outstanding or it could not be
/// reached.
/// </summary>
/// <remarks>
/// With a sink that deduplicates on the trade id (all of them do) every trade is then stored exactly once: a resent
/// trade that was stored before the loss is stored once and reported back as a duplicate
/// (<see cref="TradeAck.Duplicates"/>).
/// </remarks>
internal static class ReliableSendRunner
{
    private static readonly TimeSpan s_firstBackoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan s_maxBackoff = TimeSpan.FromSeconds(2);

    /// <summary>Runs the plan with one <see cref="ReliableTradeClient"/> per connection.</summary>
    /// <param name="plan">What to send; <see cref="SendCommand.SendPlan.AckTimeout"/> is the deadline without progress.</param>
    /// <param name="fromFile">Trades read from --file, or null to generate them.</param>
    /// <param name="status">Where reconnects and give-ups are reported (standard error).</param>
    /// <param name="cancellationToken">Ctrl+C: the connections are dropped, the summary still comes.</param>
    /// <returns>What was acknowledged.</returns>
    /// <exception cref="SocketException">The first connect of a connection failed (no gateway there).</exception>
    /// <exception cref="WebSocketHandshakeException">The gateway refused the first connect.</exception>
    public static async Task<ReliableSendSummary> RunAsync(SendCommand.SendPlan plan, Trade[]? fromFile, TextWriter status, CancellationToken cancellationToken)
    {
        // The resend buffer is allocated whole per connection (33 B a trade): no larger than a connection's share,
        // at most the client's default of 1,000,000 (beyond it a send waits for acknowledgements).
        int framePart = Math.Max(plan.Batch, 1024);
        long share = (plan.Count + plan.Connections - 1) / plan.Connections;
        var options = new ReliableTradeClientOptions
        {
            Connection = new TradeClientOptions { RemoteCertificateValidationCallback = plan.Certificates is { } check ? check.Validate : null },
            FailoverUrls = plan.FailoverUrls,
            ReconnectDelay = s_firstBackoff,
            MaxReconnectDelay = s_maxBackoff,
            MaxTradesPerFrame = framePart,
            MaxUnacknowledged = (int)Math.Clamp(share, framePart, 1_000_000),
        };

        // Connect every connection first: a wrong URL or no gateway at all fails at once, like send without --reliable.
        var clients = new List<ReliableTradeClient>(plan.Connections);
        try
        {
            for (int i = 0; i < plan.Connections; i++)
            {
                clients.Add(await ReliableTradeClient.ConnectAsync(plan.Url, options, cancellationToken).ConfigureAwait(false));
            }
        }
        catch
        {
            foreach (ReliableTradeClient opened in clients)
            {
                await opened.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }

        var connections = new ReliableSendConnection[plan.Connections];
        long perConnection = plan.Count / plan.Connections;
        long remainder = plan.Count % plan.Connections;
        long start = 0;
        for (int c = 0; c < connections.Length; c++)
        {
            long n = perConnection + (c < remainder ? 1 : 0);
            connections[c] = new ReliableSendConnection(clients[c], c, start, n, plan, fromFile, status);
            start += n;
        }

        var stopwatch = Stopwatch.StartNew();
        var runs = new Task[connections.Length];
        for (int c = 0; c < connections.Length; c++)
        {
            ReliableSendConnection connection = connections[c];
            runs[c] = Task.Run(() => connection.RunAsync(cancellationToken), CancellationToken.None);
        }

        await Task.WhenAll(runs).ConfigureAwait(false);
        stopwatch.Stop();
        return ReliableSendSummary.From(connections, plan, stopwatch.Elapsed);
    }

    /// <summary>One connection's share: send, wait for the acknowledgements, reconnect and resend on a loss.</summary>
    internal sealed class ReliableSendConnection(
        ReliableTradeClient client, int index, long first, long count, SendCommand.SendPlan plan, Trade[]? fromFile, TextWriter status)
    {
        private readonly Lock _progressLock = new();
        private long _lastAcknowledged;
        private long _lastProgress = Stopwatch.GetTimestamp();

        public long Count => count;

        public long Acknowledged => Math.Min(client.Acknowledged, count);

        public long? Duplicates => client.DuplicatesReported;

        /// <summary>TradeAck messages received on any of this connection's connections.</summary>
        public long AcknowledgementsReceived => client.AcknowledgementsReceived;

        public int Reconnects { get; private set; }

        /// <summary>Why the connection gave up, when it did.</summary>
        public string? GaveUp { get; private set; }

        /// <summary>Whether the closing handshake after the last acknowledgement went as asked (1000 both ways).</summary>
        public string? CloseProblem { get; private set; }

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var watchdogStop = new CancellationTokenSource();
            Task watchdog = WatchAsync(giveUp, watchdogStop.Token);
            CancellationToken token = giveUp.Token;
            string? lastError = null;
            try
            {
                await SendAllAsync(token, e => lastError = e).ConfigureAwait(false);
                while (true)
                {
                    try
                    {
                        await client.WaitForAllAcknowledgedAsync(token).ConfigureAwait(false);
                        break;
                    }
                    catch (WebSocketException e)
                    {
                        lastError = e.Message;
                        await ReconnectAsync(token, error => lastError = error).ConfigureAwait(false);
                    }
                }
            }
            catch (OperationCanceledException) when (giveUp.IsCancellationRequested)
            {
                // A gateway without --sink acknowledges nothing, ever: say so rather than only that time ran out.
                string never = lastError is null && client.AcknowledgementsReceived == 0
                    ? "; the gateway sent no TradeAck at all: only a gateway run with --sink acknowledges trades"
                    : string.Empty;
                GaveUp = cancellationToken.IsCancellationRequested
                    ? "interrupted"
                    : string.Create(CultureInfo.InvariantCulture, $"nothing acknowledged for {plan.AckTimeout.TotalSeconds:0.###} s (--ack-timeout){(lastError is null ? string.Empty : "; last error: " + lastError.TrimEnd('.'))}{never}");
            }
            finally
            {
                await watchdogStop.CancelAsync().ConfigureAwait(false);
                await watchdog.ConfigureAwait(false);
            }

            if (GaveUp == "interrupted")
            {
                await client.DisposeAsync().ConfigureAwait(false); // Ctrl+C drops the connections
            }
            else
            {
                // Given up or done: a close handshake either way (a connection already lost just fails to close).
                await CloseAsync().ConfigureAwait(false);
            }
        }

        private async Task SendAllAsync(CancellationToken token, Action<string> failed)
        {
            int batch = plan.Batch;
            double rate = plan.Rate / plan.Connections;
            Trade[] frame = new Trade[batch];
            long startTicks = Stopwatch.GetTimestamp();
            while (client.Sent < count)
            {
                long done = client.Sent;
                int n = (int)Math.Min(batch, count - done);
                for (int k = 0; k < n; k++)
                {
                    frame[k] = TradeAt(done + k);
                }

                try
                {
                    await client.SendAsync(frame.AsMemory(0, n), token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is WebSocketException or IOException or SocketException or ObjectDisposedException)
                {
                    // The trades recorded before the loss are kept (client.Sent says how many): resent on reconnect.
                    failed(e.Message);
                    await ReconnectAsync(token, failed).ConfigureAwait(false);
                    continue;
                }

                if (rate > 0)
                {
                    TimeSpan due = TimeSpan.FromSeconds(client.Sent / rate) - Stopwatch.GetElapsedTime(startTicks);
                    if (due > TimeSpan.FromMilliseconds(1))
                    {
                        await Task.Delay(due, token).ConfigureAwait(false);
                    }
                }
            }
        }

        /// <summary>Reconnects (resending what is unacknowledged) until it works or the run gives up: the next of
        /// --url and --failover-url in turn, with exponential backoff and jitter (<see cref="ReliableTradeClient.FailOverAsync(Action{Exception}?, CancellationToken)"/>).</summary>
        private async Task ReconnectAsync(CancellationToken token, Action<string> failed)
        {
            await status.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"wsgw send: connection {index}: lost with {client.Unacknowledged} trades unacknowledged; reconnecting")).ConfigureAwait(false);
            await client.FailOverAsync(e => failed(e.Message), token).ConfigureAwait(false);
            Reconnects++;
            await status.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"wsgw send: connection {index}: reconnected to {client.Url}; resent {client.Unacknowledged} unacknowledged trades")).ConfigureAwait(false);
        }

        /// <summary>Gives up (cancels <paramref name="giveUp"/>) once nothing was acknowledged for --ack-timeout while
        /// trades were outstanding; any acknowledgement starts the wait again.</summary>
        private async Task WatchAsync(CancellationTokenSource giveUp, CancellationToken stop)
        {
            TimeSpan tick = TimeSpan.FromMilliseconds(Math.Clamp(plan.AckTimeout.TotalMilliseconds / 20, 10, 250));
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    await Task.Delay(tick, stop).ConfigureAwait(false);
                    long acknowledged = client.Acknowledged;
                    lock (_progressLock)
                    {
                        if (acknowledged != _lastAcknowledged || client.Unacknowledged == 0)
                        {
                            _lastAcknowledged = acknowledged;
                            _lastProgress = Stopwatch.GetTimestamp();
                        }
                        else if (Stopwatch.GetElapsedTime(_lastProgress) >= plan.AckTimeout)
                        {
                            giveUp.Cancel();
                            return;
                        }
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        private async Task CloseAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await client.CloseAsync(timeout.Token).ConfigureAwait(false);
                ushort? code = client.Connection.CloseStatus;
                if (code is not null and not 1000)
                {
                    CloseProblem = string.Create(CultureInfo.InvariantCulture, $"closed with {code}");
                }
            }
            catch (Exception e) when (e is WebSocketException or IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // Every trade is acknowledged: the close is a courtesy. Say so, but the run succeeded.
                CloseProblem = e.Message;
            }
            finally
            {
                await client.DisposeAsync().ConfigureAwait(false);
            }
        }

        private Trade TradeAt(long i) => fromFile is null ? SendCommand.Generate(plan.FirstId, first + i) : fromFile[first + i];
    }

    /// <summary>What a <c>wsgw send --reliable</c> run did.</summary>
    internal sealed record ReliableSendSummary(
        int Connections, long Trades, long Acknowledged, long? Duplicates, int Reconnects, TimeSpan Elapsed, IReadOnlyList<string> Problems, bool Interrupted, bool AnyAcknowledgement = true)
    {
        /// <summary>0 when every trade was acknowledged; <see cref="SendCommand.ExitNotAcknowledged"/> when not.</summary>
        public int ExitCode => Acknowledged == Trades ? 0 : SendCommand.ExitNotAcknowledged;

        public static ReliableSendSummary From(IReadOnlyList<ReliableSendConnection> connections, SendCommand.SendPlan plan, TimeSpan elapsed)
        {
            long trades = 0, acknowledged = 0, duplicates = 0;
            bool duplicatesKnown = true;
            bool interrupted = false;
            bool anyAcknowledgement = false;
            int reconnects = 0;
            var problems = new List<string>();
            for (int c = 0; c < connections.Count; c++)
            {
                ReliableSendConnection connection = connections[c];
                trades += connection.Count;
                acknowledged += connection.Acknowledged;
                reconnects += connection.Reconnects;
                anyAcknowledgement |= connection.AcknowledgementsReceived > 0;
                if (connection.Count > 0)
                {
                    if (connection.Duplicates is { } d)
                    {
                        duplicates += d;
                    }
                    else
                    {
                        duplicatesKnown = false;
                    }
                }

                interrupted |= connection.GaveUp == "interrupted";
                if (connection.GaveUp is { } why)
                {
                    problems.Add(string.Create(CultureInfo.InvariantCulture, $"connection {c}: {connection.Count - connection.Acknowledged} of {connection.Count} trades not acknowledged: {why}"));
                }
                else if (connection.CloseProblem is { } close)
                {
                    problems.Add(string.Create(CultureInfo.InvariantCulture, $"connection {c}: every trade acknowledged, but the close did not go as asked: {close}"));
                }
            }

            return new ReliableSendSummary(plan.Connections, trades, acknowledged, duplicatesKnown ? duplicates : null, reconnects, elapsed, problems, interrupted, anyAcknowledgement || trades == 0);
        }

        /// <summary>Standard output: what was sent, then the greppable line
        /// <c>wsgw send: acknowledged N of M trades (D duplicates reported by the gateway, R reconnects)</c>.</summary>
        public override string ToString()
        {
            double seconds = Elapsed.TotalSeconds;
            var text = new StringBuilder();
            text.Append(CultureInfo.InvariantCulture, $"wsgw send: sent {Trades} trades over {Connections} connections in {seconds:0.000} s, {(seconds > 0 ? Acknowledged / seconds : 0):N0} trades/s acknowledged\n");
            string duplicates = !AnyAcknowledgement ? "no TradeAck received from the gateway"
                : Duplicates is { } d ? string.Create(CultureInfo.InvariantCulture, $"{d} duplicates reported by the gateway")
                : "duplicates unknown: the gateway's sink cannot tell";
            text.Append(CultureInfo.InvariantCulture, $"wsgw send: acknowledged {Acknowledged} of {Trades} trades ({duplicates}, {Reconnects} reconnects)\n");
            return text.ToString();
        }
    }
}
