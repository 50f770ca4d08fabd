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
          1  a connection could not be opened, was closed by the server or with any code but 1000, or was lost;
             the summary names the close codes and reasons and how many trades were unsent
          2  bad arguments, an unreadable --file, or a message in it that does not fit --schema (nothing is sent)
          3  --verify: an echoed frame differed from what was sent, or frames did not come back
          130  interrupted by Ctrl+C or SIGTERM (the connections are dropped; the summary is still printed)
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
        Command command = new("send", "Send trades (or, with --schema, messages of any SBE schema) to a running gateway, read what it sends back, and print a summary (standard output) when every connection has closed.\n\n" + ExitCodes)
        {
            url, count, connections, batch, rate, file, schema, format, verify, ca, insecure,
        };
        command.Validators.Add(r =>
        {
            if ((ValidateSchemaOptions(r.GetValue(file), r.GetValue(schema), r.GetValue(format))
                ?? ServerCertificateCheck.OptionsProblem(r.GetValue(url), r.GetValue(ca), r.GetValue(insecure))) is { } problem)
            {
                r.AddError(problem);
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

        public string? Validate()
            => Count < 0 ? $"--count must not be negative, got {Count}"
            : Connections < 1 ? $"--connections must be at least 1, got {Connections}"
            : Batch is < 1 or > 4096 ? $"--batch must be between 1 and 4096, got {Batch}"
            : Rate < 0 ? $"--rate must be 0 (unlimited) or positive, got {Rate}"
            : Url.Scheme is not ("ws" or "wss") ? $"--url must be a ws:// or wss:// URL, got {Url}"
            : null;
    }

    /// <summary>Generated trade number <paramref name="i"/> of connection <paramref name="connection"/>: ids are
    /// unique across connections (connection in the top 16 bits).</summary>
    internal static Trade Generate(int connection, long i)
        => new(((ulong)connection << 48) | (ulong)i, (byte)('A' + (i % 26)), 100 + (i % 400 * 0.25), (uint)(1 + (i % 1000)));

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
