namespace WsGateway.Sinks.Nats;

/// <summary>Where and how <see cref="NatsJetStreamSink"/> stores trades.</summary>
public sealed class NatsSinkOptions
{
    /// <summary>The NATS servers, comma-separated (<c>nats://127.0.0.1:4222,nats://127.0.0.1:4223</c>); the client
    /// also learns the rest of a cluster from the server. Default <c>nats://127.0.0.1:4222</c>.</summary>
    public string Url { get; set; } = "nats://127.0.0.1:4222";

    /// <summary>The JetStream stream. Default <c>TRADES</c>.</summary>
    public string Stream { get; set; } = "TRADES";

    /// <summary>The subject each trade is published on (the stream must capture it). Default <c>trades</c>.</summary>
    public string Subject { get; set; } = "trades";

    /// <summary>Replicas of the stream when the sink creates it (1, 3 or 5 in a cluster). Default 1.</summary>
    public int Replicas { get; set; } = 1;

    /// <summary>The stream's duplicate window when the sink creates it: a trade id published again within it is
    /// stored once. Default 2 minutes (JetStream's own default).</summary>
    public TimeSpan DuplicateWindow { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Creates the stream (file storage, <see cref="Subject"/>, <see cref="Replicas"/>,
    /// <see cref="DuplicateWindow"/>) when it does not exist. An existing stream is used as it is. Default true.</summary>
    public bool CreateStream { get; set; } = true;

    /// <summary>Publishes awaiting their acknowledgement at once, per batch: a batch of more records is published in
    /// windows of this many. Default 4096.</summary>
    public int MaxPublishesInFlight { get; set; } = 4096;

    /// <summary>What one JetStream message holds: a trade (the default), or the trades of one WebSocket message (a
    /// frame). See <see cref="NatsRecord"/>.</summary>
    public NatsRecord Record { get; set; } = NatsRecord.Trade;

    /// <summary>How long a publish waits for JetStream's acknowledgement before it counts as failed (and the batch is
    /// retried). Default 5 s.</summary>
    public TimeSpan AckTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Checks the options, returning the first problem found or <see langword="null"/>.</summary>
    /// <returns>A sentence naming the option, its value and what is expected, or <see langword="null"/>.</returns>
    public string? Validate()
    {
        if (string.IsNullOrWhiteSpace(Url))
        {
            return "Url must name at least one NATS server, such as nats://127.0.0.1:4222";
        }

        if (!IsName(Stream))
        {
            return $"Stream must be a JetStream stream name (letters, digits, - and _; no spaces, dots, * or >), got '{Stream}'";
        }

        if (string.IsNullOrWhiteSpace(Subject) || Subject.Contains(' ', StringComparison.Ordinal) || Subject.Contains('*', StringComparison.Ordinal) || Subject.Contains('>', StringComparison.Ordinal))
        {
            return $"Subject must be a NATS subject without spaces or wildcards (trades, trades.eu), got '{Subject}'";
        }

        if (Replicas is < 1 or > 5)
        {
            return $"Replicas must be between 1 and 5, got {Replicas}";
        }

        if (DuplicateWindow <= TimeSpan.Zero)
        {
            return $"DuplicateWindow must be positive, got {DuplicateWindow}";
        }

        if (MaxPublishesInFlight is < 1 or > 65536)
        {
            return $"MaxPublishesInFlight must be between 1 and 65536, got {MaxPublishesInFlight}";
        }

        if (AckTimeout <= TimeSpan.Zero)
        {
            return $"AckTimeout must be positive, got {AckTimeout}";
        }

        if (!Enum.IsDefined(Record))
        {
            return $"Record must be Trade or Frame, got {Record}";
        }

        return null;
    }

    private static bool IsName(string name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return false;
        }

        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>What one JetStream message of <see cref="NatsJetStreamSink"/> holds.</summary>
public enum NatsRecord
{
    /// <summary>One trade: its SBE message as received, with the trade id as message id (<c>Nats-Msg-Id</c>). Every
    /// trade is deduplicated on its own id.</summary>
    Trade,

    /// <summary>The trades of one WebSocket message (frame), their SBE messages end to end as received, with
    /// <c>first-last</c> (the first and last trade ids) as message id; a one-trade frame's id is its trade id. A frame
    /// sent again as the same trades (a retry, <c>ReliableTradeClient</c>'s resend) is stored once; the same trades
    /// grouped differently are not recognised. Up to the frame's size fewer messages per trade: past JetStream's
    /// per-message rate.</summary>
    Frame,
}
