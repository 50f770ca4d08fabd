using System.CommandLine;
using WsGateway.Client;
using WsGateway.Sbe;
using WsGateway.Sbe.Schema;

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
          2  bad arguments, an unreadable --file, or a message in it that does not fit --schema (nothing is sent)
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
        Option<int> batch = new("--batch", "-b") { Description = "Trades (or --schema messages) per frame (1: one per frame)", DefaultValueFactory = _ => 1 };
        Option<double> rate = new("--rate", "-r") { Description = "Trades per second over all connections (0: as fast as possible)", DefaultValueFactory = _ => 0 };
        Option<string?> file = new("--file", "-f")
        {
            Description = "Send the messages of a file instead of generated trades: SBE Trade messages back to back, or with --schema "
                + "any messages of that schema (JSON lines or SBE, see --format); - reads standard input (with --schema)",
        };
        Option<FileInfo?> schema = new("--schema", "-s")
        {
            Description = "An SBE XML schema (e.g. schemas/trading.xml): --file holds messages of it, each checked before anything is sent",
        };
        Option<string?> format = new("--format")
        {
            Description = "How --file is written with --schema: json (one JSON object per line, as wsgw serve --handler json prints them) "
                + "or sbe (whole messages back to back); by default json for a name ending in .json or .jsonl and for -, sbe otherwise",
        };
        format.Validators.Add(r =>
        {
            string? value = r.GetValueOrDefault<string?>();
            if (value is not ("json" or "sbe"))
            {
                r.AddError($"--format must be json (JSON lines) or sbe (SBE messages back to back), got '{value}'");
            }
        });
        Option<bool> verify = new("--verify")
        {
            Description = "Check that every frame comes back as it was sent, in order (for a server run with --handler echo); exit 3 if not",
        };
        Option<string?> ca = new("--ca")
        {
            HelpName = "FILE",
            Description = "wss://: also trust the PEM certificates in this file (a private CA, or the server's self-signed certificate); the host name is still checked",
        };
        Option<bool> insecure = new("--insecure")
        {
            Description = "wss://: accept any server certificate, whoever it names (for tests only: anyone on the path can read and change the trades)",
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
        Option<Uri[]> failoverUrls = new("--failover-url")
        {
            Description = "With --reliable: another gateway of the same deployment (same sink), tried in turn after --url when a connection is lost; repeatable. Behind a load balancer, its one URL as --url is enough",
            AllowMultipleArgumentsPerToken = true,
            CustomParser = ParseUrls,
        };
        Option<ulong> firstId = new("--first-id")
        {
            Description = "Trade id of the first generated trade: ids are --first-id, --first-id + 1, ... (each connection a contiguous range). Re-runs with the same ids are duplicates",
            DefaultValueFactory = _ => 0,
        };
        Command command = new("send", "Send trades (or, with --schema, messages of any SBE schema) to a running gateway, read what it sends back, and print a summary (standard output) when every connection has closed.\n\n" + ExitCodes + "\n\n" + StorageNote)
        {
            url, count, connections, batch, rate, file, schema, format, verify, ca, insecure, reliable, ackTimeout, failoverUrls, firstId,
        };
        command.Validators.Add(r =>
        {
            if ((ValidateSchemaOptions(r.GetValue(file), r.GetValue(schema), r.GetValue(format))
                ?? ServerCertificateCheck.OptionsProblem(r.GetValue(url), r.GetValue(ca), r.GetValue(insecure))) is { } problem)
            {
                r.AddError(problem);
            }
            else if (r.GetValue(failoverUrls) is { Length: > 0 } && !r.GetValue(reliable))
            {
                r.AddError("--failover-url is for --reliable: only a reliable send reconnects and resends what was not acknowledged");
            }
            else if (r.GetValue(schema) is not null && r.GetValue(reliable))
            {
                r.AddError("--reliable resends trades the gateway has not acknowledged (TradeAck), which only a sink of trades sends; it does not go with --schema");
            }
        });
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
                FailoverUrls = result.GetValue(failoverUrls) ?? [],
            };
            if (plan.Validate() is { } problem)
            {
                await Console.Error.WriteLineAsync($"wsgw send: {problem}").ConfigureAwait(false);
                return 2;
            }

            ServerCertificateCheck certificates;
            try
            {
                certificates = ServerCertificateCheck.Create(result.GetValue(ca), result.GetValue(insecure));
            }
            catch (CertificateLoadException e)
            {
                await Console.Error.WriteLineAsync($"wsgw send: {e.Message}").ConfigureAwait(false);
                return 2;
            }

            if (certificates.IsInsecure)
            {
                await Console.Error.WriteLineAsync($"wsgw send: --insecure: the server's certificate is not checked; anyone between here and {plan.Url.Host} can read and change the trades").ConfigureAwait(false);
            }

            plan = plan with { Certificates = certificates };
            Trade[]? trades = null;
            if (result.GetValue(file) is not null && plan.FirstId != 0)
            {
                await Console.Error.WriteLineAsync($"wsgw send: --first-id numbers generated trades; the trades of --file keep their own ids, got --first-id {plan.FirstId}").ConfigureAwait(false);
                return 2;
            }

            if (result.GetValue(schema) is { } schemaFile)
            {
                // Any message of any schema: read and checked before anything is sent (exit 2 on the first bad one).
                if (!TryReadMessages(schemaFile, result.GetValue(file)!, result.GetValue(format), out SchemaMessageSource? messages, out string? error))
                {
                    await Console.Error.WriteLineAsync($"wsgw send: {error}").ConfigureAwait(false);
                    return 2;
                }

                plan = plan with { Count = messages.Count, Messages = messages };
            }
            else if (result.GetValue(file) is { } name)
            {
                var path = new FileInfo(name);
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
                // A refused certificate: the check's own sentence says why, SslStream's only that it was refused.
                string reason = ex is System.Security.Authentication.AuthenticationException && certificates.Failure is { } failure ? failure : ex.Message;
                await Console.Error.WriteLineAsync($"wsgw send: cannot connect to {plan.Url}: {reason}").ConfigureAwait(false);
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

    private static Uri[] ParseUrls(System.CommandLine.Parsing.ArgumentResult result)
    {
        var urls = new Uri[result.Tokens.Count];
        for (int i = 0; i < urls.Length; i++)
        {
            string text = result.Tokens[i].Value;
            if (!Uri.TryCreate(text, UriKind.Absolute, out Uri? uri) || uri.Scheme is not ("ws" or "wss"))
            {
                result.AddError($"--failover-url must be an absolute ws:// or wss:// URL such as ws://10.0.0.2:9001/, got '{text}'");
                return [];
            }

            urls[i] = uri;
        }

        return urls;
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

        /// <summary>How a <c>wss://</c> server's certificate is checked (<c>--ca</c>, <c>--insecure</c>); the
        /// system's trust store when null.</summary>
        public ServerCertificateCheck? Certificates { get; init; }

        /// <summary>With <c>--schema</c>: the messages to send instead of trades (<see cref="Count"/> of them).</summary>
        public SchemaMessageSource? Messages { get; init; }

        /// <summary>What is counted: "trades", or "messages" with <c>--schema</c>.</summary>
        public string Unit => Messages is null ? "trades" : "messages";

        /// <summary>Wait for the gateway's acknowledgements, reconnect and resend (<c>--reliable</c>).</summary>
        public bool Reliable { get; init; }

        /// <summary><c>--ack-timeout</c>, in seconds.</summary>
        public double AckTimeoutSeconds { get; init; } = 30;

        /// <summary>With <see cref="Reliable"/>: give up after this long without an acknowledgement.</summary>
        public TimeSpan AckTimeout => TimeSpan.FromSeconds(AckTimeoutSeconds);

        /// <summary>The id of generated trade 0 (<c>--first-id</c>).</summary>
        public ulong FirstId { get; init; }

        /// <summary>With <see cref="Reliable"/>: other gateways tried in turn after <see cref="Url"/> (<c>--failover-url</c>).</summary>
        public IList<Uri> FailoverUrls { get; init; } = [];

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

    /// <summary>The rules of <c>--schema</c>, <c>--format</c> and <c>--file</c> together; null when they hold.</summary>
    internal static string? ValidateSchemaOptions(string? file, FileInfo? schema, string? format)
    {
        if (schema is not null && file is null)
        {
            return "--schema needs --file: the messages to send, as JSON lines (e.g. --file schemas/trading.sample.jsonl, or - for standard input) or SBE";
        }

        if (schema is null && format is not null)
        {
            return $"--format {format} is for --file with --schema (the SBE schema of its messages)";
        }

        if (schema is null && file is not null && SchemaMessageSource.FormatOf(file) == MessageFileFormat.Json)
        {
            return $"--file {file} is read as JSON lines, which needs --schema FILE: the SBE schema of its messages (without --schema, --file holds SBE Trade messages of schema 1)";
        }

        return null;
    }

    /// <summary>Loads the schema and reads every message of <paramref name="file"/> with it.</summary>
    internal static bool TryReadMessages(FileInfo schemaFile, string file, string? format, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SchemaMessageSource? messages, out string? error)
    {
        messages = null;
        SbeSchema schema;
        try
        {
            schema = SbeSchema.Load(schemaFile.FullName);
        }
        catch (Exception e) when (e is SbeSchemaException or IOException or UnauthorizedAccessException)
        {
            error = e.Message;
            return false;
        }

        MessageFileFormat chosen = format switch
        {
            "json" => MessageFileFormat.Json,
            "sbe" => MessageFileFormat.Sbe,
            _ => SchemaMessageSource.FormatOf(file),
        };
        using Stream input = file == "-" ? Console.OpenStandardInput() : Stream.Null;
        return SchemaMessageSource.TryRead(file, schema, chosen, input, out messages, out error);
    }

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
