using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
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
/// <c>concurrency</c> (batches published at once; the scheme's <see cref="ITradeSinkScheme.DefaultConcurrentBatches"/>
/// or the pipeline's default) and <c>drain-timeout</c>. <c>kafka://</c> lives in the <c>WsGateway.Sinks.Kafka</c>
/// package, registered with <see cref="Register"/> (<c>new KafkaSinkScheme()</c>), so that librdkafka's native
/// libraries reach only the installs that use Kafka.
/// </summary>
public static class SinkFactory
{
    /// <summary>Schemes whose sink is in a package of its own, with that package's name, for the error when it was not
    /// registered.</summary>
    private static readonly Dictionary<string, string> s_packaged = new(StringComparer.Ordinal)
    {
        ["kafka"] = "WsGateway.Sinks.Kafka",
    };

    private static readonly Lock s_lock = new();

    private static Dictionary<string, (Func<SinkUri, Func<ILoggerFactory, ITradeSink>> Parse, int? Concurrency)> s_schemes = new(StringComparer.Ordinal)
    {
        ["nats"] = (NatsSinkUri.Parse, null),
        ["postgres"] = (uri => Checked(uri, () => PostgresSinkOptions.FromParts(uri.Authority, uri.Path, uri.TakeRest()), (o, lf) => new PostgresTradeSink(o, lf)), null),
        ["postgresql"] = (uri => Checked(uri, () => PostgresSinkOptions.FromParts(uri.Authority, uri.Path, uri.TakeRest()), (o, lf) => new PostgresTradeSink(o, lf)), null),
    };

    /// <summary>Makes a scheme from another assembly known (<c>new KafkaSinkScheme()</c>). Registering a scheme again
    /// replaces it.</summary>
    /// <param name="scheme">The scheme.</param>
    public static void Register(ITradeSinkScheme scheme)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        lock (s_lock)
        {
            // Copy on write: Plan reads without a lock.
            s_schemes = new(s_schemes, StringComparer.Ordinal) { [scheme.Scheme] = (scheme.Parse, scheme.DefaultConcurrentBatches) };
        }
    }

    /// <summary>Whether <paramref name="scheme"/> (<c>kafka</c>) can be planned now: built in, or registered.</summary>
    public static bool IsRegistered(string scheme) => s_schemes.ContainsKey(scheme);

    /// <summary>The package that holds <paramref name="scheme"/>'s sink when it is not built in (<c>kafka</c>:
    /// <c>WsGateway.Sinks.Kafka</c>), or null.</summary>
    public static string? PackageOf(string scheme) => s_packaged.GetValueOrDefault(scheme);

    /// <summary>A sink's own option parser (it throws <see cref="ArgumentException"/>) said in <c>--sink</c>'s words:
    /// for an <see cref="ITradeSinkScheme.Parse"/>.</summary>
    /// <typeparam name="TOptions">The sink's options.</typeparam>
    /// <param name="uri">The <c>--sink</c> value, for the error.</param>
    /// <param name="parse">Builds the options from the URI; throws <see cref="ArgumentException"/> when they are wrong.</param>
    /// <param name="create">Builds the sink from the options.</param>
    /// <returns>Builds the sink.</returns>
    /// <exception cref="FormatException"><paramref name="parse"/> threw.</exception>
    public static Func<ILoggerFactory, ITradeSink> Checked<TOptions>(SinkUri uri, Func<TOptions> parse, Func<TOptions, ILoggerFactory, ITradeSink> create)
    {
        ArgumentNullException.ThrowIfNull(uri);
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(create);
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
    public static IEnumerable<string> Schemes => s_schemes.Keys.Union(s_packaged.Keys).Order(StringComparer.Ordinal);

    /// <summary>Parses and checks a <c>--sink</c> value without connecting anywhere.</summary>
    /// <param name="text">The value.</param>
    /// <returns>The plan.</returns>
    /// <exception cref="FormatException">The value is not valid; the message says what was wrong and what was expected.</exception>
    public static SinkPlan Plan(string text)
    {
        SinkUri uri = SinkUri.Parse(text);
        if (!s_schemes.TryGetValue(uri.Scheme, out var scheme))
        {
            throw PackageOf(uri.Scheme) is { } package
                ? new FormatException($"--sink {uri.Scheme}://: the {uri.Scheme} sink is in the {package} package, which is not loaded: reference it and call SinkFactory.Register (wsgw: wsgw sink install {uri.Scheme})")
                : new FormatException($"--sink '{text}': unknown scheme '{uri.Scheme}'; expected one of {string.Join(", ", Schemes.Select(s => s + "://"))}");
        }

        var pipeline = new SinkPipelineOptions();
        pipeline.MaxInFlightTrades = (int)(uri.TakeInteger("max-in-flight", 1, int.MaxValue) ?? pipeline.MaxInFlightTrades);
        pipeline.MaxInFlightBytes = uri.TakeInteger("max-in-flight-bytes", 1024, long.MaxValue) ?? pipeline.MaxInFlightBytes;
        pipeline.MaxConcurrentBatches = (int)(uri.TakeInteger("concurrency", 1, 1024) ?? scheme.Concurrency ?? pipeline.MaxConcurrentBatches);
        pipeline.DrainTimeout = uri.TakeDuration("drain-timeout") ?? pipeline.DrainTimeout;
        Func<ILoggerFactory, ITradeSink> create = scheme.Parse(uri);
        uri.EnsureAllTaken();
        if (pipeline.Validate() is { } problem)
        {
            throw new FormatException($"--sink {uri.Scheme}: {problem}");
        }

        return new SinkPlan(uri, pipeline, create);
    }
}
