using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using WsGateway.Cli.Admin;
using WsGateway.Cli.Sinks;
using WsGateway.Handlers;
using WsGateway.Sbe.Schema;

namespace WsGateway.Cli;

/// <summary><c>wsgw serve</c>: runs the standalone gateway until Ctrl+C, then shuts it down gracefully.</summary>
internal static class ServeCommand
{
    private const string Stats = "stats";
    private const string Echo = "echo";
    private const string Json = "json";

    /// <summary>The exit code of a serve that stopped with trades received and not stored by its sink.</summary>
    public const int ExitTradesNotStored = 3;

    public static Command Create()
    {
        Option<string> listen = new("--listen", "-l")
        {
            Description = "Address to listen on: 127.0.0.1:9001, [::1]:9001, localhost:9001 or *:9001 (port 0 picks one)",
            DefaultValueFactory = _ => "127.0.0.1:9001",
        };
        listen.Validators.Add(ListenAddress.Validator("listen address", examplePort: 9001));
        Option<string> handler = new("--handler")
        {
            Description = "What to do with what arrives: stats (count trades, one line per closed connection), echo (send every frame back) "
                + "or json (write every message of --schema as one JSON line to standard output)",
            DefaultValueFactory = _ => Stats,
        };
        handler.AcceptOnlyFromAmong(Stats, Echo, Json);
        Option<FileInfo?> schema = new("--schema", "-s")
        {
            Description = "An SBE XML schema (e.g. schemas/trading.xml) for --handler json: every message of it is decoded at run time",
        };
        Option<int> maxMessageSize = new("--max-message-size")
        {
            Description = "Largest frame accepted (a whole WebSocket message, fragments together), in bytes (close 1009 above)",
            DefaultValueFactory = _ => new TradeGatewayOptions().MaxMessageSize,
        };
        Option<int> maxConnections = new("--max-connections")
        {
            Description = "Most WebSocket connections at once (503 above); lowered at start when the file descriptor limit (ulimit -n) has no room for it",
            DefaultValueFactory = _ => new TradeGatewayOptions().MaxConnections,
        };
        Option<int?> maxPerAddress = new("--max-connections-per-address")
        {
            Description = "Most WebSocket connections from one IP address (429 above); no limit when absent",
        };
        Option<double> statsInterval = new("--stats-interval")
        {
            Description = "Seconds between updates of the live view (a plain line each time when output is redirected); 0 turns it off; none with --handler json",
            DefaultValueFactory = _ => 1,
        };
        Option<string> admin = new("--admin")
        {
            Description = "Address of the admin endpoints (dashboard /, browser client /client, /metrics, /health), or none",
            DefaultValueFactory = _ => AdminAddress.Default,
        };
        admin.Validators.Add(r =>
        {
            try
            {
                _ = AdminAddress.Parse(r.GetValueOrDefault<string>() ?? string.Empty);
            }
            catch (FormatException e)
            {
                r.AddError(e.Message);
            }
        });
        Option<string[]> allowOrigin = new("--allow-origin")
        {
            Description = "A web origin (https://app.example.com) whose pages may connect, besides the admin page's own; repeatable. Clients that send no Origin (not browsers) are always allowed",
            AllowMultipleArgumentsPerToken = true,
        };
        Option<string> transport = new("--transport")
        {
            Description = "The transport: native (the gateway's own epoll event loops, Linux, ws:// only), kestrel, or auto (native where it can serve)",
            DefaultValueFactory = _ => "auto",
        };
        transport.Validators.Add(r =>
        {
            string? value = r.GetValueOrDefault<string>();
            if (ParseTransport(value) is null)
            {
                r.AddError($"--transport must be auto, native or kestrel, got '{value}'");
            }
        });
        Option<int?> eventLoops = new("--event-loops")
        {
            Description = "Event loops of the native transport (threads, each owning its connections); one per core available when absent",
        };
        Option<string?> sink = new("--sink")
        {
            Description = "Store every trade durably and acknowledge it to the client (TradeAck) once stored: "
                + "nats://127.0.0.1:4222?stream=TRADES&subject=trades, kafka://127.0.0.1:9092/trades or "
                + "postgres://user@127.0.0.1:5432/db?table=trades (see docs/sinks.md for every option). Checked before serve listens: "
                + "one line naming it and the reason, and exit code 2, when it cannot be reached",
        };
        sink.Validators.Add(r =>
        {
            try
            {
                _ = SinkPlugins.Plan(r.GetValueOrDefault<string?>() ?? string.Empty);
            }
            catch (FormatException e)
            {
                r.AddError(e.Message);
            }
        });
        Option<double> sinkTimeout = Seconds("--sink-timeout",
            "Seconds the sink's start-up check may take (connect, authenticate, check or create the stream, table or topic) "
                + "before serve gives up with exit code 2; with --sink-wait, each attempt's",
            zeroAllowed: false);
        Option<bool> sinkWait = new("--sink-wait")
        {
            Description = "Listen even when the sink is not ready: keep retrying its check; /health is Unhealthy until it passes, "
                + "and trades wait for it unacknowledged (the in-flight bound pauses their clients)",
        };
        Option<double> shutdownTimeout = Seconds("--shutdown-timeout",
            "Seconds a graceful stop (Ctrl+C, SIGTERM) may take in all: closing the connections and storing the trades in flight; "
                + "trades received and not stored by then are counted and serve exits with 3",
            zeroAllowed: true);
        Option<string?> cert = new("--cert")
        {
            HelpName = "FILE",
            Description = "Serve wss:// (and the admin endpoints over https) with this certificate: PEM, the server's certificate then its intermediates "
                + "(e.g. fullchain.pem) with --key, or PKCS#12 (.pfx) with its password in the environment variable " + ServerCertificateLoader.PasswordVariable
                + ". Expired or not-yet-valid certificates are refused (see docs/security.md)",
        };
        Option<string?> key = new("--key")
        {
            HelpName = "FILE",
            Description = "The PEM private key of --cert (PKCS#8, RSA or EC; encrypted PKCS#8 with its password in " + ServerCertificateLoader.PasswordVariable + ")",
        };
        Option<LogLevel> logLevel = new("--log-level")
        {
            Description = "Minimum level of the gateway's logs, written to standard error (standard output carries only data)",
            DefaultValueFactory = _ => LogLevel.Warning,
        };

        Command command = new("serve", "Run the gateway on a TCP port until Ctrl+C")
        {
            listen, handler, schema, maxMessageSize, maxConnections, maxPerAddress, statsInterval, admin, allowOrigin, transport, eventLoops, sink, cert, key, logLevel,
            sinkTimeout, sinkWait, shutdownTimeout,
        };
        command.Validators.Add(r =>
        {
            string chosen = r.GetValue(handler) ?? Stats; // a command validator sees no default values
            bool json = chosen == Json;
            FileInfo? file = r.GetValue(schema);
            if (json && file is null)
            {
                r.AddError("--handler json needs --schema: the SBE XML schema of the messages to decode, e.g. --schema schemas/trading.xml");
            }
            else if (!json && file is not null)
            {
                r.AddError($"--schema is for --handler json (decode every message as JSON), got --handler {chosen}");
            }

            if (r.GetValue(key) is not null && r.GetValue(cert) is null)
            {
                r.AddError("--key is the private key of --cert: give the certificate with --cert FILE");
            }

            if (r.GetValue(cert) is not null && ParseTransport(r.GetValue(transport)) == GatewayTransport.Native)
            {
                r.AddError("--transport native serves ws:// only: --cert (wss://) needs --transport auto or kestrel");
            }

            if (r.GetValue(sink) is not null && chosen != Stats)
            {
                r.AddError($"--sink stores SBE trades and works with --handler stats (the default), got --handler {chosen}");
            }

            if (r.GetValue(sink) is null && r.GetValue(sinkWait))
            {
                r.AddError("--sink-wait is for --sink (start before the sink is ready); no --sink was given");
            }
        });
        command.SetAction(async (result, invocationToken) =>
        {
            // Ctrl+C and SIGTERM (systemd, docker stop, kill) both mean a graceful shutdown: close with 1001, drain.
            using var stop = new StopSignal(invocationToken);
            CancellationToken cancellationToken = stop.Token;

            var options = new TradeGatewayOptions
            {
                MaxMessageSize = result.GetValue(maxMessageSize),
                MaxConnections = result.GetValue(maxConnections),
                MaxConnectionsPerAddress = result.GetValue(maxPerAddress),
                Transport = ParseTransport(result.GetValue(transport)) ?? GatewayTransport.Auto,
                EventLoops = result.GetValue(eventLoops),

                // The connections' drain is part of the one stop deadline (ServeHost.StopAsync gives the sink the rest).
                ShutdownTimeout = TimeSpan.FromSeconds(result.GetValue(shutdownTimeout)),
            };
            OriginPolicy.Apply(options, result.GetValue(admin)!, result.GetValue(allowOrigin) ?? [], https: result.GetValue(cert) is not null);
            using X509Certificate2? certificate = await LoadCertificateAsync(options, result.GetValue(cert), result.GetValue(key)).ConfigureAwait(false);
            if (result.GetValue(cert) is not null && certificate is null)
            {
                return CommandLine.UsageError;
            }

            // The gateway's own rules, said with the options' names (a command validator does not see defaults).
            if (options.Validate() is { } problem)
            {
                await Console.Error.WriteLineAsync("wsgw serve: " + problem
                    .Replace("MaxMessageSize", maxMessageSize.Name, StringComparison.Ordinal)
                    .Replace("MaxConnectionsPerAddress", maxPerAddress.Name, StringComparison.Ordinal)
                    .Replace("MaxConnections", maxConnections.Name, StringComparison.Ordinal)
                    .Replace("EventLoops", eventLoops.Name, StringComparison.Ordinal)).ConfigureAwait(false);
                return CommandLine.UsageError;
            }

            try
            {
                _ = WebSocketServer.Resolve(options);
            }
            catch (Exception e) when (e is PlatformNotSupportedException or InvalidOperationException)
            {
                await Console.Error.WriteLineAsync($"wsgw serve: --transport native: {e.Message}").ConfigureAwait(false);
                return CommandLine.UsageError;
            }
            SbeJsonDecoder? decoder = null;
            if (result.GetValue(schema) is { } schemaFile)
            {
                try
                {
                    decoder = new SbeJsonDecoder(SbeSchema.Load(schemaFile.FullName));
                }
                catch (Exception e) when (e is SbeSchemaException or IOException or UnauthorizedAccessException)
                {
                    await Console.Error.WriteLineAsync($"wsgw serve: {e.Message}").ConfigureAwait(false);
                    return 2;
                }
            }

            using ILoggerFactory loggerFactory = CreateLoggerFactory(result.GetValue(logLevel));
            var totals = new GatewayTotals();
            string handlerName = result.GetValue(handler)!;
            double interval = result.GetValue(statsInterval);
            LiveView? view = null;
            TextWriter sessions = Console.Out;
            JsonLinesOutput? json = decoder is null ? null : new JsonLinesOutput(Console.OpenStandardOutput(), Console.Error);
            Func<IGatewayConnection, ITradeMessageHandler> factory = handlerName switch
            {
                Echo => _ => new EchoHandler(),
                Json => _ => new JsonLinesHandler(decoder!, json!),
                _ => _ => new StatsHandler(sessions, totals),
            };

            var settings = new ServeSettings(result.GetValue(listen)!, result.GetValue(admin)!, options, result.GetValue(sink) is { } sinkUri ? SinkPlugins.Plan(sinkUri) : null)
            {
                SinkTimeout = TimeSpan.FromSeconds(result.GetValue(sinkTimeout)),
                SinkWait = result.GetValue(sinkWait),
                ShutdownTimeout = TimeSpan.FromSeconds(result.GetValue(shutdownTimeout)),
            };
            ServeHost host;
            try
            {
                host = await ServeHost.StartAsync(settings, factory, loggerFactory, cancellationToken).ConfigureAwait(false);
            }
            catch (ServeStartException e)
            {
                // One line: what could not start and why (the sink's not ready: exit 2; cannot listen: exit 1).
                await Console.Error.WriteLineAsync($"wsgw serve: {e.Message}").ConfigureAwait(false);
                return e.ExitCode;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await Console.Error.WriteLineAsync("wsgw serve: stopped before it was listening (interrupted during the sink's start-up check)").ConfigureAwait(false);
                return 1;
            }

            await using ServeHost running = host;

            // Handlers are created per connection and read `sessions` then: on a terminal their closing lines go
            // into the live table from here on. With --handler json, standard output carries the JSON lines only.
            if (interval > 0 && json is null)
            {
                view = new LiveView(host.Monitor, TimeSpan.FromSeconds(interval));
                sessions = view.SessionWriter;
            }

            string adminText = host.AdminUrl is { } adminUrl ? $"; dashboard {adminUrl}, client {adminUrl}client, metrics {adminUrl}metrics, health {adminUrl}health" : string.Empty;
            string tlsText = certificate is null ? string.Empty : $", certificate: {ServerCertificateLoader.Describe(certificate)}";
            string sinkText = settings.Sink is { } plan
                ? $", sink: {plan.Uri.Redacted}{(host.Sink?.NotReadyReason is { } notReady ? $" not ready yet, retrying: {notReady}" : string.Empty)}"
                : string.Empty;
            string banner = string.Create(CultureInfo.InvariantCulture, $"wsgw: listening on {host.GatewayUrl} (handler: {handlerName}, transport: {host.TransportDescription}{tlsText}{sinkText}){adminText}; Ctrl+C stops");

            // Standard output is for data (session lines, the live view, JSON lines): the banner and the shutdown
            // notice are status, on standard error with the logs.
            await Console.Error.WriteLineAsync(banner).ConfigureAwait(false);
            if (host.SinkReady is { } sinkReady && settings.Sink is { } waited)
            {
                // --sink-wait: say when the sink is ready after all (on standard error, status).
                _ = sinkReady.ContinueWith(
                    t =>
                    {
                        if (t.IsCompletedSuccessfully && t.Result)
                        {
                            Console.Error.WriteLine($"wsgw: sink {waited.Uri.Redacted} is ready");
                        }
                    },
                    CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously,
                    TaskScheduler.Default);
            }
            try
            {
                await (view?.RunAsync(banner, cancellationToken) ?? Task.Delay(Timeout.Infinite, cancellationToken)).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            await Console.Error.WriteLineAsync("wsgw: shutting down (closing connections with 1001)").ConfigureAwait(false);
            await host.StopAsync().ConfigureAwait(false);
            long notStored = host.Sink?.TradesNotStored ?? 0;
            if (json is not null)
            {
                await Console.Error.WriteLineAsync(json.Summary()).ConfigureAwait(false);
            }
            else if (handlerName == Stats)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wsgw: {totals.ConnectionsClosed} connections, {totals.Messages} trades, total quantity {totals.TotalQuantity}, {totals.Errors} errors"));
            }

            if (notStored > 0)
            {
                // Received, never acknowledged: a client that resends what was not acknowledged (ReliableTradeClient)
                // loses nothing, but the operator must know the sink did not take them.
                long received = host.Sink?.TradesReceived ?? 0;
                await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"wsgw: {notStored} trades received were not stored by the sink before it stopped (--shutdown-timeout {settings.ShutdownTimeout.TotalSeconds:0.###} s; {received} received in all); their clients were not acknowledged")).ConfigureAwait(false);
                return ExitTradesNotStored;
            }

            return 0;
        });
        return command;
    }

    /// <summary>Loads <c>--cert</c>/<c>--key</c> into <paramref name="options"/>; null without <c>--cert</c>, or
    /// when the files cannot be served (said in one line on standard error).</summary>
    private static async Task<X509Certificate2?> LoadCertificateAsync(TradeGatewayOptions options, string? certPath, string? keyPath)
    {
        if (certPath is null)
        {
            return null;
        }

        try
        {
            ServerCertificate loaded = ServerCertificateLoader.Load(certPath, keyPath, Environment.GetEnvironmentVariable(ServerCertificateLoader.PasswordVariable), DateTimeOffset.UtcNow);
            if (loaded.Warning is { } warning)
            {
                await Console.Error.WriteLineAsync($"wsgw serve: {warning}").ConfigureAwait(false);
            }

            options.ServerCertificate = loaded.Certificate;
            options.ServerCertificateChain = loaded.Chain.Count > 0 ? loaded.Chain : null;
            return loaded.Certificate;
        }
        catch (CertificateLoadException e)
        {
            await Console.Error.WriteLineAsync($"wsgw serve: {e.Message}").ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>A deadline in seconds, 10 by default, at most an hour.</summary>
    private static Option<double> Seconds(string name, string description, bool zeroAllowed)
    {
        Option<double> option = new(name) { Description = description, DefaultValueFactory = _ => 10 };
        option.Validators.Add(r =>
        {
            double value = r.GetValueOrDefault<double>();
            if (!((zeroAllowed ? value >= 0 : value > 0) && value <= 3600))
            {
                r.AddError($"{name} must be between 0 and 3600 seconds{(zeroAllowed ? string.Empty : " (not 0)")}, got {value.ToString(CultureInfo.InvariantCulture)}");
            }
        });
        return option;
    }

    private static GatewayTransport? ParseTransport(string? value) => value switch
    {
        "auto" => GatewayTransport.Auto,
        "native" => GatewayTransport.Native,
        "kestrel" => GatewayTransport.Kestrel,
        _ => null,
    };

    /// <summary>The gateway's logs: single lines, all on standard error (the console logger's default puts
    /// everything below Error on standard output, where the data goes).</summary>
    private static ILoggerFactory CreateLoggerFactory(LogLevel level)
    {
        // Framework categories are quieter than the gateway's: warnings at least, whatever --log-level says.
        LogLevel framework = level > LogLevel.Warning ? level : LogLevel.Warning;
        return LoggerFactory.Create(b => b
            .SetMinimumLevel(level)
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
            .AddSimpleConsole(o => o.SingleLine = true)
            .AddFilter("Microsoft", framework)

            // The NATS client logs every failed (re)connection at Error with its stack trace: the sink's start-up
            // check and the pipeline's retries say the same in one line. Shown with --log-level debug.
            .AddFilter("NATS", level <= LogLevel.Debug ? level : LogLevel.Critical)

            // A port in use makes the host log "Hosting failed to start" with the bind exception's stack trace
            // before it throws; serve reports that itself, in one line. The host's critical logs still show.
            .AddFilter("Microsoft.Extensions.Hosting", level > LogLevel.Critical ? level : LogLevel.Critical));
    }
}
