using Microsoft.Extensions.Logging;
using WsGateway.Sinks.Nats;

namespace WsGateway.Sinks;

/// <summary><c>nats://[user:password@]host:port[,host:port...]?stream=TRADES&amp;subject=trades&amp;replicas=3&amp;duplicate-window=2m&amp;create=true&amp;ack-timeout=5s&amp;max-publishes=4096&amp;record=trade|frame</c>.</summary>
internal static class NatsSinkUri
{
    public static Func<ILoggerFactory, ITradeSink> Parse(SinkUri uri)
    {
        if (uri.Path.Length > 0)
        {
            throw new FormatException($"--sink '{uri.Redacted}': a nats:// sink has no path; name the stream with ?stream=TRADES");
        }

        // user:password@ or token@ applies to every host (NATS.Net reads it from each URL).
        string credentials = uri.Authority.LastIndexOf('@') is int at and >= 0 ? uri.Authority[..(at + 1)] : string.Empty;
        var options = new NatsSinkOptions { Url = string.Join(',', uri.Hosts.Select(h => "nats://" + credentials + h)) };
        options.Stream = uri.Take("stream") ?? options.Stream;
        options.Subject = uri.Take("subject") ?? options.Subject;
        options.Replicas = (int)(uri.TakeInteger("replicas", 1, 5) ?? options.Replicas);
        options.DuplicateWindow = uri.TakeDuration("duplicate-window") ?? options.DuplicateWindow;
        options.CreateStream = uri.TakeBoolean("create") ?? options.CreateStream;
        options.AckTimeout = uri.TakeDuration("ack-timeout") ?? options.AckTimeout;
        options.MaxPublishesInFlight = (int)(uri.TakeInteger("max-publishes", 1, 65536) ?? options.MaxPublishesInFlight);
        options.Record = uri.Take("record") switch
        {
            null => options.Record,
            "trade" => NatsRecord.Trade,
            "frame" => NatsRecord.Frame,
            { } other => throw new FormatException($"--sink nats: record={other}: expected trade (one JetStream message per trade) or frame (one per WebSocket message)"),
        };
        if (options.Validate() is { } problem)
        {
            throw new FormatException($"--sink nats: {problem}");
        }

        return loggerFactory => new NatsJetStreamSink(options, loggerFactory);
    }
}
