using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using WsGateway.Client;
using WsGateway.Sbe;

namespace WsGateway.Cli;

/// <summary><c>wsgw send</c>: sends N trades (generated, or read from a file) over C connections, one trade per
/// frame or batched, at full speed or at a rate, and prints a summary.</summary>
internal static class SendCommand
{
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
        Command command = new("send", "Send trades to a running gateway and print a summary") { url, count, connections, batch, rate, file };
        command.SetAction(async (result, cancellationToken) =>
        {
            var plan = new SendPlan(result.GetValue(url)!, result.GetValue(count), result.GetValue(connections), result.GetValue(batch), result.GetValue(rate));
            if (plan.Validate() is { } problem)
            {
                await Console.Error.WriteLineAsync($"wsgw send: {problem}").ConfigureAwait(false);
                return 2;
            }

            Trade[]? trades = null;
            if (result.GetValue(file) is { } path)
            {
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
                summary = await RunAsync(plan, trades, Console.Out, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is System.Net.Sockets.SocketException or WebSocketHandshakeException or IOException or TimeoutException)
            {
                await Console.Error.WriteLineAsync($"wsgw send: cannot connect to {plan.Url}: {ex.Message}").ConfigureAwait(false);
                return 1;
            }

            Console.WriteLine(summary);
            return summary.Failed == 0 ? 0 : 1;
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
        public string? Validate()
            => Count < 0 ? $"--count must not be negative, got {Count}"
            : Connections < 1 ? $"--connections must be at least 1, got {Connections}"
            : Batch is < 1 or > 4096 ? $"--batch must be between 1 and 4096, got {Batch}"
            : Rate < 0 ? $"--rate must be 0 (unlimited) or positive, got {Rate}"
            : Url.Scheme is not ("ws" or "wss") ? $"--url must be a ws:// or wss:// URL, got {Url}"
            : null;
    }

    /// <summary>What happened.</summary>
    internal sealed record SendSummary(long Trades, long Frames, long Bytes, TimeSpan Elapsed, int Connections, int Failed, string Closes)
    {
        public override string ToString() => string.Create(
            CultureInfo.InvariantCulture,
            $"wsgw send: {Trades} trades in {Frames} frames ({Bytes} bytes) over {Connections} connections in {Elapsed.TotalSeconds:0.000} s, "
            + $"{(Elapsed.TotalSeconds > 0 ? Trades / Elapsed.TotalSeconds : 0):N0} trades/s; closes: {Closes}{(Failed > 0 ? $"; {Failed} connections failed" : string.Empty)}");
    }

    /// <summary>Generated trade number <paramref name="i"/> of connection <paramref name="connection"/>: ids are
    /// unique across connections (connection in the top 16 bits).</summary>
    internal static Trade Generate(int connection, long i)
        => new(((ulong)connection << 48) | (ulong)i, (byte)('A' + (i % 26)), 100 + (i % 400 * 0.25), (uint)(1 + (i % 1000)));

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

    internal static async Task<SendSummary> RunAsync(SendPlan plan, Trade[]? fromFile, TextWriter log, CancellationToken cancellationToken)
    {
        var clients = new TradeClient[plan.Connections];
        for (int i = 0; i < clients.Length; i++)
        {
            clients[i] = await TradeClient.ConnectAsync(plan.Url, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        long perConnection = plan.Count / plan.Connections;
        long remainder = plan.Count % plan.Connections;
        long sent = 0;
        var stopwatch = Stopwatch.StartNew();
        Task[] senders = new Task[clients.Length];
        long start = 0;
        for (int c = 0; c < clients.Length; c++)
        {
            long n = perConnection + (c < remainder ? 1 : 0);
            long first = start;
            start += n;
            double connectionRate = plan.Rate / plan.Connections;
            int index = c;
            senders[c] = Task.Run(() => SendAsync(clients[index], index, first, n, plan.Batch, connectionRate, fromFile, count => Interlocked.Add(ref sent, count), cancellationToken), cancellationToken);
        }

        Task all = Task.WhenAll(senders);
        if (plan.Count >= 1_000_000 && LiveView.Interactive)
        {
            await AnsiConsole.Progress().StartAsync(async context =>
            {
                ProgressTask task = context.AddTask("sending", maxValue: plan.Count);
                while (!all.IsCompleted)
                {
                    task.Value = Volatile.Read(ref sent);
                    await Task.WhenAny(all, Task.Delay(200, cancellationToken)).ConfigureAwait(false);
                }

                task.Value = plan.Count;
            }).ConfigureAwait(false);
        }

        int failed = 0;
        try
        {
            await all.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or System.Net.WebSockets.WebSocketException or InvalidOperationException)
        {
            await log.WriteLineAsync($"wsgw send: {ex.Message}").ConfigureAwait(false);
        }

        var closes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        long frames = 0;
        long bytes = 0;
        foreach (TradeClient client in clients)
        {
            try
            {
                await client.CloseAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or System.Net.WebSockets.WebSocketException or TimeoutException or InvalidOperationException)
            {
                failed++;
            }

            frames += client.MessagesSent;
            bytes += client.BytesSent;
            string key = client.CloseStatus?.ToString(CultureInfo.InvariantCulture) ?? "none";
            closes[key] = closes.GetValueOrDefault(key) + 1;
            await client.DisposeAsync().ConfigureAwait(false);
        }

        stopwatch.Stop();
        string closeText = string.Join(", ", closes.Select(p => $"{p.Value}x {p.Key}"));
        return new SendSummary(Volatile.Read(ref sent), frames, bytes, stopwatch.Elapsed, clients.Length, failed, closeText);
    }

    private static async Task SendAsync(TradeClient client, int connection, long first, long count, int batch, double rate, Trade[]? fromFile, Action<long> progress, CancellationToken cancellationToken)
    {
        Trade[] frame = new Trade[batch];
        long startTicks = Stopwatch.GetTimestamp();
        long done = 0;
        long pending = 0;
        while (done < count)
        {
            int n = (int)Math.Min(batch, count - done);
            for (int k = 0; k < n; k++)
            {
                frame[k] = fromFile is null ? Generate(connection, first + done + k) : fromFile[first + done + k];
            }

            bool written = batch == 1 ? client.TryWriteTrade(frame[0]) : client.TryWriteTrades(frame.AsSpan(0, n));
            if (!written)
            {
                await client.FlushAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            done += n;
            pending += n;
            if (pending >= 1024)
            {
                progress(pending);
                pending = 0;
            }

            if (rate > 0)
            {
                // Pace against the clock: sleep until trade `done` is due.
                await client.FlushAsync(cancellationToken).ConfigureAwait(false);
                TimeSpan due = TimeSpan.FromSeconds(done / rate) - Stopwatch.GetElapsedTime(startTicks);
                if (due > TimeSpan.FromMilliseconds(1))
                {
                    await Task.Delay(due, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        progress(pending);
        await client.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
