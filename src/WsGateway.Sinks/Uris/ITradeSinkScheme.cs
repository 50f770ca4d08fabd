using Microsoft.Extensions.Logging;

namespace WsGateway.Sinks;

/// <summary>
/// A <c>--sink</c> scheme that lives in an assembly of its own, such as <c>kafka://</c> in the
/// <c>WsGateway.Sinks.Kafka</c> package (kept apart so that librdkafka's native libraries reach only the installs that
/// use Kafka). Make it known to <see cref="SinkFactory"/> with <see cref="SinkFactory.Register"/>; <c>wsgw</c> loads
/// it from the folder <c>wsgw sink install</c> put it in.
/// </summary>
public interface ITradeSinkScheme
{
    /// <summary>The scheme, lowercase, without <c>://</c>: <c>kafka</c>.</summary>
    string Scheme { get; }

    /// <summary>Batches published at once when the URI's <c>concurrency</c> key does not say; null for the
    /// pipeline's default.</summary>
    int? DefaultConcurrentBatches { get; }

    /// <summary>Takes the scheme's own query keys from <paramref name="uri"/> (the pipeline's keys are taken already)
    /// and returns how to build the sink, without connecting anywhere.</summary>
    /// <param name="uri">The <c>--sink</c> value.</param>
    /// <returns>Builds the sink once the gateway's logger factory exists.</returns>
    /// <exception cref="FormatException">The value is not valid; the message says what was wrong and what was
    /// expected.</exception>
    Func<ILoggerFactory, ITradeSink> Parse(SinkUri uri);
}
