using Microsoft.Extensions.Logging;

namespace WsGateway.Sinks.Kafka;

/// <summary><c>kafka://host:9092[,host:port...]/topic[?librdkafka.property=value...]</c>: every query key the pipeline
/// does not take is a librdkafka producer property. Register it with
/// <c>SinkFactory.Register(new KafkaSinkScheme())</c>; <c>wsgw</c> does that itself when it loads this assembly.</summary>
public sealed class KafkaSinkScheme : ITradeSinkScheme
{
    /// <inheritdoc/>
    public string Scheme => "kafka";

    /// <inheritdoc/>
    /// <remarks>Kafka's producer batches across publishes, each of which waits at least <c>linger.ms</c>: it takes
    /// more at once (<see cref="KafkaSinkOptions.DefaultConcurrentBatches"/>).</remarks>
    public int? DefaultConcurrentBatches => KafkaSinkOptions.DefaultConcurrentBatches;

    /// <inheritdoc/>
    public Func<ILoggerFactory, ITradeSink> Parse(SinkUri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        return SinkFactory.Checked(uri, () => KafkaSinkOptions.FromParts(uri.Authority, uri.Path, uri.TakeRest()), (o, lf) => new KafkaTradeSink(o, lf));
    }
}
