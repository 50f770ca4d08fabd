using System.Diagnostics;
using System.Globalization;
using System.Text;
using Spectre.Console;
using WsGateway.Client;
using WsGateway.Sbe;

namespace WsGateway.Cli;

/// <summary>Runs a <see cref="SendCommand.SendPlan"/>: opens the connections, runs a <see cref="SendConnection"/> on
/// each, shows progress on an interactive standard error for long runs, and sums up.</summary>
internal static class SendRunner
{
    /// <summary>Runs the plan.</summary>
    /// <param name="plan">What to send.</param>
    /// <param name="fromFile">Trades read from --file, or null to generate them.</param>
    /// <param name="errors">Where --verify reports the frames that differ (standard error).</param>
    /// <param name="cancellationToken">Ctrl+C: connections are dropped, the summary still comes.</param>
    /// <returns>What happened.</returns>
    /// <exception cref="WebSocketHandshakeException">A connection was refused (the ones already open are dropped).</exception>
    public static async Task<SendSummary> RunAsync(SendCommand.SendPlan plan, Trade[]? fromFile, TextWriter errors, CancellationToken cancellationToken)
    {
        var options = new TradeClientOptions { RemoteCertificateValidationCallback = plan.Certificates is { } check ? check.Validate : null };
        if (plan.Messages is { } messages)
        {
            // A frame of schema messages may be larger than the default send buffer: make room for the largest.
            options.SendBufferSize = Math.Max(options.SendBufferSize, messages.LargestFrame(plan.Batch) + 64);
        }

        var clients = new List<TradeClient>(plan.Connections);
        try
        {
            for (int i = 0; i < plan.Connections; i++)
            {
                clients.Add(await TradeClient.ConnectAsync(plan.Url, options, cancellationToken).ConfigureAwait(false));
            }
        }
        catch
        {
            foreach (TradeClient opened in clients)
            {
                await opened.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }

        EchoMismatchLog? mismatches = plan.Verify ? new EchoMismatchLog(errors) : null;
        var connections = new SendConnection[plan.Connections];
        long perConnection = plan.Count / plan.Connections;
        long remainder = plan.Count % plan.Connections;
        long start = 0;
        for (int c = 0; c < connections.Length; c++)
        {
            long n = perConnection + (c < remainder ? 1 : 0);
            connections[c] = new SendConnection(clients[c], c, start, n, plan, fromFile, mismatches);
            start += n;
        }

        var stopwatch = Stopwatch.StartNew();
        var runs = new Task[connections.Length];
        for (int c = 0; c < connections.Length; c++)
        {
            SendConnection connection = connections[c];
            runs[c] = Task.Run(() => connection.RunAsync(options.CloseTimeout, cancellationToken), CancellationToken.None);
        }

        Task all = Task.WhenAll(runs);
        if (plan.Count >= 1_000_000 && !Console.IsErrorRedirected)
        {
            await ShowProgressAsync(all, connections, plan.Count).ConfigureAwait(false);
        }

        await all.ConfigureAwait(false);
        stopwatch.Stop();
        return SendSummary.From(connections, plan, stopwatch.Elapsed);
    }

    // On a terminal, on standard error: standard output carries only the summary.
    private static async Task ShowProgressAsync(Task all, SendConnection[] connections, long total)
    {
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        if (!console.Profile.Capabilities.Interactive)
        {
            return;
        }

        await console.Progress().StartAsync(async context =>
        {
            ProgressTask task = context.AddTask("trades sent", maxValue: total);
            while (!all.IsCompleted)
            {
                long sent = 0;
                foreach (SendConnection connection in connections)
                {
                    sent += connection.TradesSent;
                }

                task.Value = sent;
                await Task.WhenAny(all, Task.Delay(200)).ConfigureAwait(false);
            }
        }).ConfigureAwait(false);
    }
}

/// <summary>What a <c>wsgw send</c> run did, summed over its connections. "Trades" are SBE Trade messages, "frames"
/// WebSocket messages (one trade each, or a batch of <c>--batch</c>).</summary>
internal sealed record SendSummary(
    int Connections,
    long TradesSent,
    long FramesSent,
    long BytesSent,
    long TradesUnsent,
    long TradesReceived,
    long FramesReceived,
    TimeSpan Elapsed,
    bool Verified,
    long FramesDiffering,
    long FramesNotEchoed,
    int ConnectionsFailed,
    string Closes)
{
    /// <summary>What was sent: "trades", or "messages" with --schema (the server's replies are then counted in frames
    /// only).</summary>
    public string Unit { get; init; } = "trades";

    /// <summary>1 when a connection did not end as asked (or trades are unsent), else 3 when --verify found
    /// differences, else 0: see <see cref="SendCommand.ExitCodes"/>.</summary>
    public int ExitCode => ConnectionsFailed > 0 || TradesUnsent > 0 ? 1 : FramesDiffering > 0 || FramesNotEchoed > 0 ? 3 : 0;

    public static SendSummary From(SendConnection[] connections, SendCommand.SendPlan plan, TimeSpan elapsed)
    {
        long tradesSent = 0, framesSent = 0, bytesSent = 0, unsent = 0, tradesReceived = 0, framesReceived = 0, differing = 0, notEchoed = 0;
        int failed = 0;
        var closes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (SendConnection connection in connections)
        {
            tradesSent += connection.TradesSent;
            framesSent += connection.FramesSent;
            bytesSent += connection.BytesSent;
            unsent += connection.TradesUnsent;
            tradesReceived += connection.TradesReceived;
            framesReceived += connection.FramesReceived;
            differing += connection.FramesDiffering;
            notEchoed += Math.Max(0, connection.FramesSent - connection.FramesReceived);
            failed += connection.Succeeded ? 0 : 1;
            string close = connection.CloseDescription;
            closes[close] = closes.GetValueOrDefault(close) + 1;
        }

        var text = new StringBuilder();
        foreach (KeyValuePair<string, int> close in closes)
        {
            text.Append(text.Length > 0 ? ", " : string.Empty).Append(CultureInfo.InvariantCulture, $"{close.Value}x {close.Key}");
        }

        return new SendSummary(connections.Length, tradesSent, framesSent, bytesSent, unsent, tradesReceived, framesReceived, elapsed,
            plan.Verify, differing, plan.Verify ? notEchoed : 0, failed, text.ToString()) { Unit = plan.Unit };
    }

    /// <summary>Two or three lines: what was sent (and how many trades were not), what came back (and with --verify
    /// how it compared), how the connections closed. Each ends with a newline.</summary>
    public override string ToString()
    {
        double seconds = Elapsed.TotalSeconds;
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"wsgw send: sent {TradesSent} {Unit} in {FramesSent} frames ({BytesSent} bytes) over {Connections} connections in {seconds:0.000} s, ");
        text.Append(CultureInfo.InvariantCulture, $"{(seconds > 0 ? TradesSent / seconds : 0):N0} {Unit}/s, {(seconds > 0 ? FramesSent / seconds : 0):N0} frames/s");
        if (TradesUnsent > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"; {TradesUnsent} {Unit} unsent");
        }

        text.Append('\n');
        if (FramesReceived > 0 || Verified)
        {
            if (Unit == "trades")
            {
                text.Append(CultureInfo.InvariantCulture, $"wsgw send: received {TradesReceived} trades in {FramesReceived} frames from the server");
            }
            else
            {
                text.Append(CultureInfo.InvariantCulture, $"wsgw send: received {FramesReceived} frames from the server");
            }
            if (Verified)
            {
                text.Append(CultureInfo.InvariantCulture, $"; --verify: {FramesReceived - FramesDiffering} frames as sent, {FramesDiffering} frames differed, {FramesNotEchoed} frames did not come back");
            }

            text.Append('\n');
        }

        text.Append(CultureInfo.InvariantCulture, $"wsgw send: closes: {Closes}{(ConnectionsFailed > 0 ? $"; {ConnectionsFailed} connections did not close with send's 1000" : string.Empty)}\n");
        return text.ToString();
    }
}
