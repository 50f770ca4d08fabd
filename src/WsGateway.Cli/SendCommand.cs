using System.CommandLine;
using WsGateway.Client;
using WsGateway.Sbe;

namespace WsGateway.Cli;

/// <summary><c>wsgw send</c>: sends N trades (generated, or read from a file) over C connections, one trade per
/// frame or batched, at full speed or at a rate, reads what the server sends back while it sends, and prints a
/// summary on standard output (errors go to standard error). The exit code says whether everything was sent and
/// closed as asked (<see cref="ExitCodes"/>).</summary>
internal static class SendCommand
{
    /// <summary>The exit codes, as <c>wsgw send --help</c> lists them.</summary>
    internal const string ExitCodes = """
        Exit codes:
          0  every trade was sent, and every connection closed with 1000 after send asked
             (--reliable: every trade was acknowledged by the gateway as stored)
          1  a connection could not be opened, was closed by the server or with any code but 1000, or was lost;
             the summary names the close codes and reasons and how many trades were unsent
          2  bad arguments or an unreadable --file
          3  --verify: an echoed frame differed from what was sent, or frames did not come back
          4  --reliable: not every trade was acknowledged as stored before --ack-timeout passed without progress;
             the line "acknowledged N of M trades" says how many were, standard error why
          130  interrupted by Ctrl+C or SIGTERM (the connections are dropped; the summary is still printed)
        """;

    /// <summary>The exit code of <c>--reliable</c> when not every trade was acknowledged before the deadline.</summary>
    internal const int ExitNotAcknowledged = 4;

    /// <summary>What --help says about storage and the trade ids, after the exit codes.</summary>
    internal const string StorageNote = """
        Against a gateway with a sink (wsgw serve --sink ...): without --reliable, send closes as soon as its trades
        are handed to the socket; it does not wait for them to be stored, and a trade lost with a connection is not
        sent again. With --reliable it waits for the gateway's TradeAck of every trade, reconnects and resends what was
        not acknowledged, and prints "wsgw send: acknowledged N of M trades (D duplicates reported by the gateway,
        R reconnects)": D counts trades the sink already held (a resend after a loss, or a re-run with the same ids).
        Generated trade ids are --first-id + the trade's number (0 to --count - 1), each connection sending one
        contiguous range of them: connection 0 the first share of --count/--connections, connection 1 the next, and
        so on. Re-running with the same --first-id sends the same ids (all duplicates); use --first-id <previous first
        id + previous count> to store new trades.
        """;

    public static Command Create()
    {
        Option<Uri> url = new("--url", "-u")
        {
            Description = "The gateway's WebSocket URL",
            DefaultValueFactory = _ => new Uri("ws://127.0.0.1:9001/"),
            CustomParser = ParseUrl,
        };
        Option<long> count = new("--count", "-n") { Description = "Trades to send in all (ignored with --file)", DefaultValueFactory = _ => 10_000 };
        Option<int> connections = new("--connections", "-c") { Description = "Connections to spread them over", DefaultValueFactory = _ => 1 };
        Option<int> batch = new("--batch", "-b") { Description = "Trades per frame (1: one trade per frame)", DefaultValueFactory = _ => 1 };
        Option<double> rate = new("--rate", "-r") { Description = "Trades per second over all connections (0: as fast as possible)", DefaultValueFactory = _ => 0 };
        Option<FileInfo?> file = new("--file", "-f") { Description = "A binary file of SBE Trade messages back to back, sent instead of generated trades" };
        Option<bool> verify = new("--verify")
        {
            Description = "Check that every frame comes back as it was sent, in order (for a server run with --handler echo); exit 3 if not",
        };
        Option<bool> reliable = new("--reliable")
        {
            Description = "For a gateway with a sink: keep every trade until the gateway acknowledges it as stored (TradeAck), reconnect with backoff "
                + "and resend what was not acknowledged when a connection is lost, then print 'acknowledged N of M trades'; exit 4 if not all were",
        };
        Option<double> ackTimeout = new("--ack-timeout")
        {
            Description = "With --reliable: seconds without any acknowledgement (while trades are outstanding or the gateway is unreachable) after which send gives up (exit 4)",
            DefaultValueFactory = _ => 30,
        };
        Option<ulong> firstId = new("--first-id")
        {
            Description = "Trade id of the first generated trade: ids are --first-id, --first-id + 1, ... (each connection a contiguous range). Re-runs with the same ids are duplicates",
            DefaultValueFactory = _ => 0,
        };
        Command command = new("send", "Send trades to a running gateway, read what it sends back, and print a summary (standard output) when every connection has closed.\n\n" + ExitCodes + "\n\n" + StorageNote)
        {
            url, count, connections, batch, rate, file, verify, reliable, ackTimeout, firstId,
        };
        command.SetAction(async (result, invocationToken) =>
        {
            // Ctrl+C and SIGTERM stop the run: connections are dropped and the summary still printed (exit 130).
            using var stop = new StopSignal(invocationToken);
            CancellationToken cancellationToken = stop.Token;

            var plan = new SendPlan(result.GetValue(url)!, result.GetValue(count), result.GetValue(connections), result.GetValue(batch), result.GetValue(rate))
            {
                Verify = result.GetValue(verify),
                Reliable = result.GetValue(reliable),
                AckTimeoutSeconds = result.GetValue(ackTimeout),
                FirstId = result.GetValue(firstId),
            };
            if (plan.Validate() is { } problem)
            {
                await Console.Error.WriteLineAsync($"wsgw send: {problem}").ConfigureAwait(false);
                return 2;
            }

            Trade[]? trades = null;
            if (result.GetValue(file) is not null && plan.FirstId != 0)
            {
                await Console.Error.WriteLineAsync($"wsgw send: --first-id numbers generated trades; the trades of --file keep their own ids, got --first-id {plan.FirstId}").ConfigureAwait(false);
                return 2;
            }

            if (result.GetValue(file) is { } path)
            {
                if (!TryReadTrades(path, out trades, out string? error))
                {
                    await Console.Error.WriteLineAsync($"wsgw send: {error}").ConfigureAwait(false);
                    return 2;
                }

                plan = plan with { Count = trades.Length };
            }

            if (plan.Reliable)
            {
                return await RunReliableAsync(plan, trades, cancellationToken).ConfigureAwait(false);
            }

            SendSummary summary;
            try
            {
                summary = await SendRunner.RunAsync(plan, trades, Console.Error, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is System.Net.Sockets.SocketException or WebSocketHandshakeException or IOException or TimeoutException
                or System.Security.Authentication.AuthenticationException)
            {
                await Console.Error.WriteLineAsync($"wsgw send: cannot connect to {plan.Url}: {ex.Message}").ConfigureAwait(false);
                return 1;
            }

            await Console.Out.WriteAsync(summary.ToString()).ConfigureAwait(false);
            return cancellationToken.IsCancellationRequested ? 130 : summary.ExitCode;
        });
        return command;
    }

    private static async Task<int> RunReliableAsync(SendPlan plan, Trade[]? trades, CancellationToken cancellationToken)
    {
        ReliableSendRunner.ReliableSendSummary summary;
        try
        {
            summary = await ReliableSendRunner.RunAsync(plan, trades, Console.Error, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or WebSocketHandshakeException or IOException or TimeoutException
            or System.Security.Authentication.AuthenticationException)
        {
            await Console.Error.WriteLineAsync($"wsgw send: cannot connect to {plan.Url}: {ex.Message}").ConfigureAwait(false);
            return 1;
        }

        foreach (string problem in summary.Problems)
        {
            await Console.Error.WriteLineAsync($"wsgw send: {problem}").ConfigureAwait(false);
        }

        await Console.Out.WriteAsync(summary.ToString()).ConfigureAwait(false);
        return cancellationToken.IsCancellationRequested ? 130 : summary.ExitCode;
    }

    private static Uri? ParseUrl(System.CommandLine.Parsing.ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
        if (Uri.TryCreate(text, UriKind.Absolute, out Uri? uri))
        {
            return uri;
        }

        result.AddError($"--url must be an absolute ws:// or wss:// URL such as ws://127.0.0.1:9001/, got '{text}'");
        return null;
    }

    /// <summary>What to send.</summary>
    internal sealed record SendPlan(Uri Url, long Count, int Connections, int Batch, double Rate)
    {
        /// <summary>Compare every frame that comes back with the frame sent (<c>--verify</c>).</summary>
        public bool Verify { get; init; }

        /// <summary>Wait for the gateway's acknowledgements, reconnect and resend (<c>--reliable</c>).</summary>
        public bool Reliable { get; init; }

        /// <summary><c>--ack-timeout</c>, in seconds.</summary>
        public double AckTimeoutSeconds { get; init; } = 30;

        /// <summary>With <see cref="Reliable"/>: give up after this long without an acknowledgement.</summary>
        public TimeSpan AckTimeout => TimeSpan.FromSeconds(AckTimeoutSeconds);

        /// <summary>The id of generated trade 0 (<c>--first-id</c>).</summary>
        public ulong FirstId { get; init; }

        public string? Validate()
            => Count < 0 ? $"--count must not be negative, got {Count}"
            : Count > 0 && FirstId > ulong.MaxValue - (ulong)Count ? $"--first-id {FirstId} with --count {Count} goes past the largest trade id, {ulong.MaxValue - 1} (2^64-1 is SBE's null); expected a --first-id of at most {ulong.MaxValue - (ulong)Count}"
            : Reliable && Verify ? "--verify is for an echoing server (--handler echo) and --reliable for a gateway with a sink; expected one of them"
            : AckTimeoutSeconds is not (> 0 and <= 86_400) ? $"--ack-timeout must be between 0 and 86400 seconds (more than 0), got {AckTimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}"
            : Connections < 1 ? $"--connections must be at least 1, got {Connections}"
            : Batch is < 1 or > 4096 ? $"--batch must be between 1 and 4096, got {Batch}"
            : Rate < 0 ? $"--rate must be 0 (unlimited) or positive, got {Rate}"
            : Url.Scheme is not ("ws" or "wss") ? $"--url must be a ws:// or wss:// URL, got {Url}"
            : null;
    }

    /// <summary>Generated trade number <paramref name="i"/> (0 to --count - 1, over all connections): its id is
    /// <paramref name="firstId"/> + <paramref name="i"/>, so ids are unique across connections (each sends a
    /// contiguous range of numbers) and a re-run with another --first-id sends new ones.</summary>
    internal static Trade Generate(ulong firstId, long i)
        => new(firstId + (ulong)i, (byte)('A' + (i % 26)), 100 + (i % 400 * 0.25), (uint)(1 + (i % 1000)));

    internal static bool TryReadTrades(FileInfo path, out Trade[] trades, out string? error)
    {
        trades = [];
        if (!path.Exists)
        {
            error = $"file not found: {path.FullName}";
            return false;
        }

        byte[] bytes = File.ReadAllBytes(path.FullName);
        var list = new List<Trade>(bytes.Length / Trade.EncodedSize);
        var reader = new TradeBatchReader(bytes);
        while (!reader.End)
        {
            if (!reader.TryRead(out Trade trade, out SbeDecodeError decodeError))
            {
                error = $"{path.Name}: message {list.Count + 1} at offset {reader.BytesConsumed}: {decodeError}";
                return false;
            }

            list.Add(trade);
        }

        trades = [.. list];
        error = null;
        return true;
    }
}
