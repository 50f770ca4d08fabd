using System.Globalization;
using Spectre.Console;

namespace WsGateway.Cli;

/// <summary>
/// <c>wsgw serve</c>'s view of the running gateway: a live table (frames/s, trades/s, totals, connections, errors, and the
/// last session lines) on a terminal, or one plain line per interval when standard output is redirected.
/// </summary>
internal sealed class LiveView
{
    private const int SessionLines = 8;

    private readonly GatewayMonitor _monitor;
    private readonly TimeSpan _interval;
    private readonly Queue<string> _sessions = new();
    private readonly Lock _sessionsLock = new();

    public LiveView(GatewayMonitor monitor, TimeSpan interval)
    {
        _monitor = monitor;
        _interval = interval;
    }

    /// <summary>True when the live table can be drawn (an interactive terminal).</summary>
    public static bool Interactive => !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>Where handlers write their per-connection lines: into the live table on a terminal, straight to
    /// standard output otherwise.</summary>
    public TextWriter SessionWriter => Interactive ? new SessionLineWriter(this) : Console.Out;

    public async Task RunAsync(string title, CancellationToken cancellationToken)
    {
        DateTime started = DateTime.UtcNow;
        GatewayMonitor.Snapshot last = _monitor.Read();
        if (!Interactive)
        {
            while (await Delay(cancellationToken).ConfigureAwait(false))
            {
                GatewayMonitor.Snapshot now = _monitor.Read();
                Console.WriteLine(FormatLine(now, last, _interval.TotalSeconds));
                last = now;
            }

            return;
        }

        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape(title)).AddColumns("", "now", "total");
        await AnsiConsole.Live(table).StartAsync(async context =>
        {
            do
            {
                GatewayMonitor.Snapshot now = _monitor.Read();
                Fill(table, now, last, _interval.TotalSeconds, DateTime.UtcNow - started);
                context.Refresh();
                last = now;
            }
            while (await Delay(cancellationToken).ConfigureAwait(false));
        }).ConfigureAwait(false);
    }

    internal static string FormatLine(GatewayMonitor.Snapshot now, GatewayMonitor.Snapshot last, double seconds)
        => string.Create(
            CultureInfo.InvariantCulture,
            $"wsgw: {DateTime.UtcNow:HH:mm:ss} connections {now.Active}, frames/s {Rate(now.Messages, last.Messages, seconds):0}, trades/s {Rate(now.Trades, last.Trades, seconds):0}, "
            + $"total {now.Messages} frames, {now.Trades} trades, {now.Bytes} bytes, errors {now.Errors} (decode {now.DecodeErrors}, protocol {now.ProtocolErrors}, handler {now.HandlerErrors}), rejected {now.Rejected}");

    private void Fill(Table table, GatewayMonitor.Snapshot now, GatewayMonitor.Snapshot last, double seconds, TimeSpan uptime)
    {
        table.Rows.Clear();
        table.AddRow("connections", Num(now.Active), $"{Num(now.Opened)} opened, {Num(now.Rejected)} refused");
        table.AddRow("frames", $"{Rate(now.Messages, last.Messages, seconds):N0}/s", Num(now.Messages));
        table.AddRow("trades", $"{Rate(now.Trades, last.Trades, seconds):N0}/s", Num(now.Trades));
        table.AddRow("received", $"{Rate(now.Bytes, last.Bytes, seconds) / 1e6:0.00} MB/s", $"{now.Bytes / 1e6:0.00} MB");
        table.AddRow("errors", Num(now.Errors - last.Errors), $"decode {Num(now.DecodeErrors)}, protocol {Num(now.ProtocolErrors)}, handler {Num(now.HandlerErrors)}");
        table.AddRow("uptime", string.Empty, uptime.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture));
        lock (_sessionsLock)
        {
            foreach (string line in _sessions)
            {
                table.AddRow(new Text(string.Empty), new Text(string.Empty), new Text(line));
            }
        }
    }

    private static double Rate(long now, long last, double seconds) => seconds <= 0 ? 0 : (now - last) / seconds;

    private static string Num(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private async Task<bool> Delay(CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(_interval, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private void AddSession(string line)
    {
        lock (_sessionsLock)
        {
            _sessions.Enqueue(line);
            while (_sessions.Count > SessionLines)
            {
                _sessions.Dequeue();
            }
        }
    }

    /// <summary>Collects whole lines written by handlers for the live table.</summary>
    private sealed class SessionLineWriter(LiveView view) : TextWriter
    {
        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

        public override void WriteLine(string? value) => view.AddSession(value ?? string.Empty);

        public override void Write(char value)
        {
        }
    }
}
