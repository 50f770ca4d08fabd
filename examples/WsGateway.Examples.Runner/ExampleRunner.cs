using System.Globalization;

namespace WsGateway.Examples.Runner;

/// <summary>Parses the command line and runs one example. Tests call <see cref="RunAsync"/> in-process.</summary>
internal static class ExampleRunner
{
    public const string Usage = """
        usage: WsGateway.Examples.Runner <example> [options]
          printing [--port 9001]                          print every trade
          stats    [--port 9001] [--interval 5]           per-symbol VWAP over all connections, printed every interval (s)
          batch    [--port 9001]                          commit each frame of trades as one batch
          queue    [--port 9001] [--capacity 1024] [--policy drop|close] [--work-us 0]
                                                          decode, queue, process on another task
          postgres [--port 9001] --connection "Host=...;Username=...;Database=..." [--table trades]
                                                          store every trade in a PostgreSQL table
          kafka    [--port 9001] [--bootstrap 127.0.0.1:9092] --topic trades
                                                          produce every trade to a Kafka topic
          client   [--url ws://127.0.0.1:9001/] [--count 1000] [--batch 1]
                                                          send --count trades, --batch per message, then close
          nats     [--port 9001] [--nats nats://127.0.0.1:4222] [--stream TRADES] [--interval 5]
                                                          store every trade in a JetStream stream, acknowledge it
          reliable-client [--url ws://127.0.0.1:9001/] [--count 1000] [--batch 100] [--reconnect-s 30]
                                                          send, wait for the acks, reconnect and resend if the connection drops
        The servers listen on 127.0.0.1 (port 0 picks a free one) until Ctrl+C.
        """;

    /// <summary>Runs the example named by <c>args[0]</c>.</summary>
    /// <returns>0 when it ran, 1 when it failed, 2 for a usage error.</returns>
    public static async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        // Handlers print from many connections' threads at once: one lock per line.
        output = TextWriter.Synchronized(output);
        if (args.Length == 0)
        {
            output.WriteLine("no example given");
            output.WriteLine(Usage);
            return 2;
        }

        if (!TryParseOptions(args.AsSpan(1), out Dictionary<string, string> options, out string? problem))
        {
            output.WriteLine(problem);
            output.WriteLine(Usage);
            return 2;
        }

        try
        {
            string[] known = args[0] switch
            {
                "printing" or "batch" => ["port"],
                "stats" => ["port", "interval"],
                "queue" => ["port", "capacity", "policy", "work-us"],
                "client" => ["url", "count", "batch"],
                "postgres" => ["port", "connection", "table"],
                "kafka" => ["port", "bootstrap", "topic"],
                "nats" => ["port", "nats", "stream", "interval"],
                "reliable-client" => ["url", "count", "batch", "reconnect-s"],
                _ => throw new UsageException($"unknown example '{args[0]}'"),
            };
            foreach (string name in options.Keys)
            {
                if (!known.Contains(name))
                {
                    throw new UsageException($"{args[0]} has no option --{name}");
                }
            }

            switch (args[0])
            {
                case "printing":
                    await PrintingServer.RunAsync(Port(options), output, cancellationToken).ConfigureAwait(false);
                    break;
                case "stats":
                    await StatsServer.RunAsync(Port(options), TimeSpan.FromSeconds(Int(options, "interval", 5, 1)), output, cancellationToken).ConfigureAwait(false);
                    break;
                case "batch":
                    await BatchServer.RunAsync(Port(options), output, cancellationToken).ConfigureAwait(false);
                    break;
                case "queue":
                    QueueFullPolicy policy = options.GetValueOrDefault("policy", "drop") switch
                    {
                        "drop" => QueueFullPolicy.DropNewest,
                        "close" => QueueFullPolicy.CloseConnection,
                        string other => throw new UsageException($"--policy must be drop or close, got '{other}'"),
                    };
                    await QueueServer.RunAsync(Port(options), Int(options, "capacity", 1024, 1), policy, Int(options, "work-us", 0, 0), output, cancellationToken).ConfigureAwait(false);
                    break;
                case "postgres":
                    await PostgresSinkServer.RunAsync(
                        Port(options), Required(options, "connection"), options.GetValueOrDefault("table", "trades"), output, cancellationToken).ConfigureAwait(false);
                    break;
                case "kafka":
                    await KafkaSinkServer.RunAsync(
                        Port(options), options.GetValueOrDefault("bootstrap", "127.0.0.1:9092"), Required(options, "topic"), output, cancellationToken).ConfigureAwait(false);
                    break;
                case "client":
                    await TradeSender.SendInMessagesAsync(Url(options), Int(options, "count", 1000, 0), Int(options, "batch", 1, 1), output, cancellationToken).ConfigureAwait(false);
                    break;
                case "nats":
                    await NatsServer.RunAsync(
                        Port(options), options.GetValueOrDefault("nats", "nats://127.0.0.1:4222"), options.GetValueOrDefault("stream", "TRADES"),
                        TimeSpan.FromSeconds(Int(options, "interval", 5, 1)), output, cancellationToken).ConfigureAwait(false);
                    break;
                case "reliable-client":
                    await ReliableSender.SendAsync(
                        Url(options), Int(options, "count", 1000, 0), Int(options, "batch", 100, 1), output,
                        TimeSpan.FromSeconds(Int(options, "reconnect-s", 30, 0)), cancellationToken).ConfigureAwait(false);
                    break;
            }

            return 0;
        }
        catch (Exception ex) when (ex is UsageException or ArgumentException)
        {
            output.WriteLine(ex.Message);
            output.WriteLine(Usage);
            return 2;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            output.WriteLine($"{args[0]} failed: {ex.Message}");
            return 1;
        }
    }

    /// <summary>Completes when <paramref name="cancellationToken"/> is cancelled (Ctrl+C), without throwing.</summary>
    public static Task WhenCancelled(CancellationToken cancellationToken)
    {
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        cancellationToken.Register(() => cancelled.TrySetResult());
        return cancelled.Task;
    }

    private static bool TryParseOptions(ReadOnlySpan<string> args, out Dictionary<string, string> options, out string? problem)
    {
        options = [];
        for (int i = 0; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                problem = $"expected --option value, got '{string.Join(' ', args[i..].ToArray())}'";
                return false;
            }

            options[args[i][2..]] = args[i + 1];
        }

        problem = null;
        return true;
    }

    private static string Required(Dictionary<string, string> options, string name)
        => options.TryGetValue(name, out string? value) ? value : throw new UsageException($"--{name} is required");
    private static Uri Url(Dictionary<string, string> options)
    {
        string url = options.GetValueOrDefault("url", "ws://127.0.0.1:9001/");
        return Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) ? uri : throw new UsageException($"--url must be an absolute ws:// URL, got '{url}'");
    }

    private static int Port(Dictionary<string, string> options)
    {
        int port = Int(options, "port", 9001, 0);
        return port <= 65535 ? port : throw new UsageException($"--port must be 0 to 65535, got {port}");
    }

    private static int Int(Dictionary<string, string> options, string name, int defaultValue, int min)
    {
        if (!options.TryGetValue(name, out string? text))
        {
            return defaultValue;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value >= min
            ? value
            : throw new UsageException($"--{name} must be a whole number of at least {min}, got '{text}'");
    }

    private sealed class UsageException(string message) : Exception(message);
}
