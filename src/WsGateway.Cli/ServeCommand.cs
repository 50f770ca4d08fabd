using System.CommandLine;
using System.Runtime.InteropServices;
using System.Globalization;
using Microsoft.Extensions.Logging;
using WsGateway.Cli.Admin;
using WsGateway.Handlers;

namespace WsGateway.Cli;

/// <summary><c>wsgw serve</c>: runs the standalone gateway until Ctrl+C, then shuts it down gracefully.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        Option<string> listen = new("--listen", "-l")
        {
            Description = "Address to listen on: 127.0.0.1:9001, [::1]:9001, localhost:9001 or *:9001 (port 0 picks one)",
            DefaultValueFactory = _ => "127.0.0.1:9001",
        };
        Option<string> handler = new("--handler")
        {
            Description = "What to do with messages: stats (count trades, one line per closed connection) or echo (send every message back)",
            DefaultValueFactory = _ => "stats",
        };
        handler.AcceptOnlyFromAmong("stats", "echo");
        Option<int> maxMessageSize = new("--max-message-size")
        {
            Description = "Largest message accepted, in bytes (close 1009 above)",
            DefaultValueFactory = _ => new TradeGatewayOptions().MaxMessageSize,
        };
        Option<int> maxConnections = new("--max-connections")
        {
            Description = "Most WebSocket connections at once (503 above)",
            DefaultValueFactory = _ => new TradeGatewayOptions().MaxConnections,
        };
        Option<int?> maxPerAddress = new("--max-connections-per-address")
        {
            Description = "Most WebSocket connections from one IP address (429 above); no limit when absent",
        };
        Option<double> statsInterval = new("--stats-interval")
        {
            Description = "Seconds between updates of the live view (a plain line each time when output is redirected); 0 turns it off",
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
        Option<LogLevel> logLevel = new("--log-level")
        {
            Description = "Minimum level of the gateway's logs on standard error",
            DefaultValueFactory = _ => LogLevel.Warning,
        };

        Command command = new("serve", "Run the gateway on a TCP port until Ctrl+C")
        {
            listen, handler, maxMessageSize, maxConnections, maxPerAddress, statsInterval, admin, allowOrigin, logLevel,
        };
        command.SetAction(async (result, invocationToken) =>
        {
            // Ctrl+C and SIGTERM (systemd, docker stop, kill) both mean a graceful shutdown: close with 1001, drain.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(invocationToken);
            using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
            using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
            CancellationToken cancellationToken = stop.Token;

            void OnSignal(PosixSignalContext context)
            {
                context.Cancel = true;
                stop.Cancel();
            }

            var options = new TradeGatewayOptions
            {
                MaxMessageSize = result.GetValue(maxMessageSize),
                MaxConnections = result.GetValue(maxConnections),
                MaxConnectionsPerAddress = result.GetValue(maxPerAddress),
            };
            OriginPolicy.Apply(options, result.GetValue(admin)!, result.GetValue(allowOrigin) ?? []);
            if (options.Validate() is { } problem)
            {
                await Console.Error.WriteLineAsync(problem).ConfigureAwait(false);
                return 2;
            }

            using ILoggerFactory loggerFactory = LoggerFactory.Create(b => b
                .SetMinimumLevel(result.GetValue(logLevel))
                .AddSimpleConsole(o => o.SingleLine = true)
                .AddFilter("Microsoft", LogLevel.Warning));
            var totals = new GatewayTotals();
            double interval = result.GetValue(statsInterval);
            LiveView? view = null;
            TextWriter sessions = Console.Out;
            bool echo = result.GetValue(handler) == "echo";
            Func<IGatewayConnection, ITradeMessageHandler> factory = echo
                ? _ => new EchoHandler()
                : _ => new StatsHandler(sessions, totals);

            var settings = new ServeSettings(result.GetValue(listen)!, result.GetValue(admin)!, options);
            ServeHost host;
            try
            {
                host = await ServeHost.StartAsync(settings, factory, loggerFactory, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                await Console.Error.WriteLineAsync($"wsgw: {e.Message} (see --listen and --admin; --admin none turns the admin endpoints off)").ConfigureAwait(false);
                return 1;
            }

            await using ServeHost running = host;

            // Handlers are created per connection and read `sessions` then: on a terminal their closing lines go
            // into the live table from here on.
            if (interval > 0)
            {
                view = new LiveView(host.Monitor, TimeSpan.FromSeconds(interval));
                sessions = view.SessionWriter;
            }

            string adminText = host.AdminUrl is { } adminUrl ? $"; dashboard {adminUrl}, client {adminUrl}client, metrics {adminUrl}metrics, health {adminUrl}health" : string.Empty;
            string banner = string.Create(CultureInfo.InvariantCulture, $"wsgw: listening on {host.GatewayUrl} (handler: {result.GetValue(handler)}){adminText}; Ctrl+C stops");
            Console.WriteLine(banner);
            try
            {
                await (view?.RunAsync(banner, cancellationToken) ?? Task.Delay(Timeout.Infinite, cancellationToken)).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            Console.WriteLine("wsgw: shutting down (closing connections with 1001)");
            await host.StopAsync().ConfigureAwait(false);
            if (!echo)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wsgw: {totals.ConnectionsClosed} connections, {totals.Messages} trades, total quantity {totals.TotalQuantity}, {totals.Errors} errors"));
            }

            return 0;
        });
        return command;
    }
}
