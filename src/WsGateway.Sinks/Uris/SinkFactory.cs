using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using WsGateway.Sinks.Kafka;
using WsGateway.Sinks.Postgres;

namespace WsGateway.Sinks;

/// <summary>A sink chosen with <c>--sink</c>, checked but not yet connected: <see cref="Start"/> builds the sink and its
/// pipeline once the gateway's meter exists.</summary>
/// <param name="Uri">The parsed value.</param>
/// <param name="Pipeline">The pipeline's bounds from the common query keys.</param>
/// <param name="CreateSink">Builds the sink (it connects on its first publish).</param>
public sealed record SinkPlan(SinkUri Uri, SinkPipelineOptions Pipeline, Func<ILoggerFactory, ITradeSink> CreateSink)
{
    /// <summary>Creates the sink and its pipeline, counting on <paramref name="meter"/>.</summary>
    public SinkPipeline Start(ILoggerFactory loggerFactory, Meter meter)
        => new(CreateSink(loggerFactory), Pipeline, loggerFactory, meter);
}

/// <summary>
/// <c>--sink</c> values: the one place that knows the schemes. Each scheme is one line in <see cref="s_schemes"/>: a
/// parser that takes its query keys from the <see cref="SinkUri"/> and returns how to build the sink. Query keys common
/// to every sink set the pipeline's bounds: <c>max-in-flight</c> (trades), <c>max-in-flight-bytes</c>,
/// <c>concurrency</c> (batches published at once; <see cref="KafkaSinkOptions.DefaultConcurrentBatches"/> for Kafka,
/// the pipeline's default for the others) and <c>drain-timeout</c>.
/// </summary>
public static class SinkFactory
{
    private static readonly Dictionary<string, Func<SinkUri, Func<ILoggerFactory, ITradeSink>>> s_schemes = new(StringComparer.Ordinal)
    {
        ["nats"] = NatsSinkUri.Parse,
        ["kafka"] = uri => Checked(uri, () => KafkaSinkOptions.FromParts(uri.Authority, uri.Path, uri.TakeRest()), (o, lf) => new KafkaTradeSink(o, lf)),
        ["postgres"] = uri => Checked(uri, () => PostgresSinkOptions.FromParts(uri.Authority, uri.Path, uri.TakeRest()), (o, lf) => new PostgresTradeSink(o, lf)),
        ["postgresql"] = uri => Checked(uri, () => PostgresSinkOptions.FromParts(uri.Authority, uri.Path, uri.TakeRest()), (o, lf) => new PostgresTradeSink(o, lf)),
    };

    /// <summary>A sink's own option parser (it throws <see cref="ArgumentException"/>) said in <c>--sink</c>'s words.</summary>
    private static Func<ILoggerFactory, ITradeSink> Checked<TOptions>(SinkUri uri, Func<TOptions> parse, Func<TOptions, ILoggerFactory, ITradeSink> create)
    {
        TOptions options;
        try
        {
            options = parse();
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"--sink {uri.Scheme}: {e.Message}", e);
        }

        return loggerFactory => create(options, loggerFactory);
    }

    /// <summary>The schemes, for help and errors.</summary>
    public static IEnumerable<string> Schemes => s_schemes.Keys.Order(StringComparer.Ordinal);

    /// <summary>Parses and checks a <c>--sink</c> value without connecting anywhere.</summary>
    /// <param name="text">The value.</param>
    /// <returns>The plan.</returns>
    /// <exception cref="FormatException">The value is not valid; the message says what was wrong and what was expected.</exception>
    public static SinkPlan Plan(string text)
    {
        SinkUri uri = SinkUri.Parse(text);
        if (!s_schemes.TryGetValue(uri.Scheme, out Func<SinkUri, Func<ILoggerFactory, ITradeSink>>? parse))
        {
            throw new FormatException($"--sink '{text}': unknown scheme '{uri.Scheme}'; expected one of {string.Join(", ", Schemes.Select(s => s + "://"))}");
        }

        var pipeline = new SinkPipelineOptions();
        pipeline.MaxInFlightTrades = (int)(uri.TakeInteger("max-in-flight", 1, int.MaxValue) ?? pipeline.MaxInFlightTrades);
        pipeline.MaxInFlightBytes = uri.TakeInteger("max-in-flight-bytes", 1024, long.MaxValue) ?? pipeline.MaxInFlightBytes;
        // Kafka's producer batches across publishes, each of which waits at least linger.ms: it takes more at once.
        pipeline.MaxConcurrentBatches = (int)(uri.TakeInteger("concurrency", 1, 1024)
            ?? (uri.Scheme == "kafka" ? KafkaSinkOptions.DefaultConcurrentBatches : pipeline.MaxConcurrentBatches));
        pipeline.DrainTimeout = uri.TakeDuration("drain-timeout") ?? pipeline.DrainTimeout;
        Func<ILoggerFactory, ITradeSink> create = parse(uri);
        uri.EnsureAllTaken();
        if (pipeline.Validate() is { } problem)
        {
            throw new FormatException($"--sink {uri.Scheme}: {problem}");
        }

        return new SinkPlan(uri, pipeline, create);
    }
}
