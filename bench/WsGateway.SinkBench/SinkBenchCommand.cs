using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using WsGateway.Sbe;
using WsGateway.Sinks;
using WsGateway.Sinks.Kafka;
using WsGateway.Sinks.Postgres;

namespace WsGateway.SinkBench;

/// <summary>
/// Publishes trades into a sink as the sink pipeline does — batches of N trades, C batches in flight at once — for
/// each batch size and concurrency asked for, and prints trades/s and the publish latency of a batch (p50, p99).
/// Every run is bounded by a number of trades and by time.
/// </summary>
internal static class SinkBenchCommand
{
    public static RootCommand Create()
    {
        Option<int[]> batchSizes = new("--batch-sizes")
        {
            Description = "Trades per batch, one run each",
            DefaultValueFactory = _ => [1, 10, 100, 1000, 5000],
            AllowMultipleArgumentsPerToken = true,
        };
        Option<int[]> concurrency = new("--concurrency")
        {
            Description = "Batches in flight at once, one run each",
            DefaultValueFactory = _ => [1, 4],
            AllowMultipleArgumentsPerToken = true,
        };
        Option<int> trades = new("--trades")
        {
            Description = "Most trades of one run",
            DefaultValueFactory = _ => 200_000,
        };
        Option<double> seconds = new("--seconds")
        {
            Description = "Most seconds of one run (after a short warm-up)",
            DefaultValueFactory = _ => 5.0,
        };
        Option<int> runs = new("--runs")
        {
            Description = "Runs of each setting; the median run is reported",
            DefaultValueFactory = _ => 3,
        };

        Option<string> connection = new("--connection")
        {
            Description = "Npgsql connection string of the PostgreSQL server to write to (tables bench_trades_* are created and dropped)",
            Required = true,
        };
        Command postgres = new("postgres", "Group commit: binary COPY into the table (the staging table and INSERT ... ON CONFLICT when it meets a stored id)") { connection };
        postgres.SetAction(async (result, cancellationToken) =>
        {
            string connectionString = result.GetValue(connection)!;
            int table = 0;
            await RunAllAsync(
                "postgres",
                () => new PostgresTradeSink(new PostgresSinkOptions { ConnectionString = connectionString, Table = $"bench_trades_{Environment.ProcessId}_{++table}" }),
                Settings(result), cancellationToken).ConfigureAwait(false);
            await DropTablesAsync(connectionString, table).ConfigureAwait(false);
        });

        Option<string?> bootstrap = new("--bootstrap")
        {
            Description = "Kafka brokers (host:port,...); without it, librdkafka's in-process mock cluster (test.mock.num.brokers=3)",
        };
        Option<string> topic = new("--topic")
        {
            Description = "Topic to produce to",
            DefaultValueFactory = _ => "bench-trades",
        };
        Option<string[]> config = new("--config")
        {
            Description = "librdkafka producer properties, name=value (linger.ms=0 ...)",
            AllowMultipleArgumentsPerToken = true,
        };
        Command kafka = new("kafka", "Idempotent producer, acks=all, one message per trade") { bootstrap, topic, config };
        kafka.SetAction(async (result, cancellationToken) =>
        {
            string? servers = result.GetValue(bootstrap);
            string name = result.GetValue(topic)!;
            string[] properties = result.GetValue(config) ?? [];
            await RunAllAsync(
                servers is null ? "kafka (mock cluster)" : "kafka",
                () =>
                {
                    var options = new KafkaSinkOptions { BootstrapServers = servers ?? "mock:9092", Topic = name };
                    if (servers is null)
                    {
                        options.Config["test.mock.num.brokers"] = "3"; // replaces bootstrap.servers with the mock brokers
                    }

                    foreach (string property in properties)
                    {
                        string[] pair = property.Split('=', 2);
                        options.Config[pair[0]] = pair.Length == 2 ? pair[1] : throw new ArgumentException($"--config {property}: expected name=value");
                    }

                    return new KafkaTradeSink(options);
                },
                Settings(result), cancellationToken).ConfigureAwait(false);
        });

        RootCommand root = new("WsGateway.SinkBench: sustained trades/s into the PostgreSQL and Kafka sinks")
        {
            batchSizes, concurrency, trades, seconds, runs, postgres, kafka,
        };
        foreach (Option option in (Option[])[batchSizes, concurrency, trades, seconds, runs])
        {
            option.Recursive = true;
        }

        return root;

        BenchSettings Settings(ParseResult result) => new(
            result.GetValue(batchSizes)!, result.GetValue(concurrency)!, result.GetValue(trades), TimeSpan.FromSeconds(result.GetValue(seconds)), result.GetValue(runs));
    }

    private static async Task RunAllAsync(string name, Func<ITradeSink> createSink, BenchSettings settings, CancellationToken cancellationToken)
    {
        Console.WriteLine($"{name}: up to {settings.Trades:N0} trades or {settings.Duration.TotalSeconds:0.#} s per run, median of {settings.Runs} runs, {Environment.ProcessorCount} cores");
        Console.WriteLine("| batch | in flight | trades/s | batch p50 | batch p99 |");
        Console.WriteLine("|---:|---:|---:|---:|---:|");
        ulong nextId = 1;
        foreach (int batchSize in settings.BatchSizes)
        {
            foreach (int inFlight in settings.Concurrency)
            {
                var results = new List<RunResult>();
                for (int run = 0; run < settings.Runs; run++)
                {
                    await using ITradeSink sink = createSink();
                    // Warm-up: connections opened, tables created, code jitted.
                    await RunAsync(sink, batchSize, inFlight, Math.Min(settings.Trades, batchSize * inFlight * 4), TimeSpan.FromSeconds(2), nextId, cancellationToken).ConfigureAwait(false);
                    nextId += 1_000_000_000;
                    results.Add(await RunAsync(sink, batchSize, inFlight, settings.Trades, settings.Duration, nextId, cancellationToken).ConfigureAwait(false));
                    nextId += 1_000_000_000;
                }

                RunResult median = results.OrderBy(r => r.TradesPerSecond).ElementAt(results.Count / 2);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {batchSize} | {inFlight} | {median.TradesPerSecond:N0} | {Ms(median.P50)} | {Ms(median.P99)} |"));
            }
        }
    }

    private static async Task<RunResult> RunAsync(ITradeSink sink, int batchSize, int inFlight, int maxTrades, TimeSpan maxTime, ulong firstId, CancellationToken cancellationToken)
    {
        int totalBatches = Math.Max(1, maxTrades / batchSize);
        int claimed = -1;
        long published = 0;
        var latencies = new List<double>[inFlight];
        var stopwatch = Stopwatch.StartNew();
        Task[] workers = new Task[inFlight];
        for (int w = 0; w < inFlight; w++)
        {
            var mine = latencies[w] = [];
            workers[w] = Task.Run(async () =>
            {
                byte[] buffer = new byte[batchSize * Trade.EncodedSize];
                int b;
                while ((b = Interlocked.Increment(ref claimed)) < totalBatches && stopwatch.Elapsed < maxTime)
                {
                    ulong id = firstId + ((ulong)b * (ulong)batchSize);
                    for (int i = 0; i < batchSize; i++)
                    {
                        new Trade(id + (ulong)i, (byte)('A' + (i % 26)), 100 + (i * 0.25), (uint)i + 1).Encode(buffer.AsSpan(i * Trade.EncodedSize));
                    }

                    long start = Stopwatch.GetTimestamp();
                    await sink.PublishAsync(new TradeBatch(buffer, batchSize, Trade.EncodedSize), cancellationToken).ConfigureAwait(false);
                    mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                    Interlocked.Add(ref published, batchSize);
                }
            }, cancellationToken);
        }

        await Task.WhenAll(workers).ConfigureAwait(false);
        double elapsed = stopwatch.Elapsed.TotalSeconds;
        double[] all = [.. latencies.SelectMany(l => l).Order()];
        return new RunResult(published / elapsed, Percentile(all, 0.50), Percentile(all, 0.99));
    }

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

    private static string Ms(double ms) => ms >= 10 ? $"{ms:0} ms" : ms >= 1 ? $"{ms:0.0} ms" : $"{ms * 1000:0} µs";

    private static async Task DropTablesAsync(string connectionString, int tables)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        for (int t = 1; t <= tables; t++)
        {
            await using var drop = new Npgsql.NpgsqlCommand($"DROP TABLE IF EXISTS bench_trades_{Environment.ProcessId}_{t}", connection);
            await drop.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
    }

    private sealed record BenchSettings(int[] BatchSizes, int[] Concurrency, int Trades, TimeSpan Duration, int Runs);

    private readonly record struct RunResult(double TradesPerSecond, double P50, double P99);
}
