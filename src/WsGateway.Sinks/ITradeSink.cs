namespace WsGateway.Sinks;

/// <summary>
/// A durable destination for trades (NATS JetStream, Kafka, PostgreSQL). The sink pipeline hands it batches of SBE
/// trade messages exactly as they arrived (no re-encoding), several at once when it allows more than one in flight,
/// and retries a batch whose publish failed: a sink must therefore be thread-safe and idempotent on the trade id (a
/// trade stored twice is stored once).
/// </summary>
public interface ITradeSink : IAsyncDisposable
{
    /// <summary>A short name for logs, metrics and health ("nats", "kafka", "postgres").</summary>
    string Name { get; }

    /// <summary>
    /// The start-up check: connects, authenticates and checks or creates what the trades go into (a JetStream
    /// stream, a table, a topic), so that a wrong address, password or name shows before the gateway accepts clients
    /// rather than at the first trade. <see cref="SinkPipeline.CheckSinkAsync"/> calls it with a deadline (what
    /// <c>wsgw serve</c> does before it listens). Callable again after a failure (a retry); a sink that has nothing to
    /// check completes at once (the default).
    /// </summary>
    /// <param name="cancellationToken">Ends the attempt (the start-up deadline).</param>
    /// <returns>A task that completes once the sink can store; it throws, with a message that says why, when it cannot.</returns>
    ValueTask InitializeAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>Stores every trade of <paramref name="batch"/> durably, deduplicated on its trade id. Completes once
    /// the system has acknowledged all of them; throws when it could not (the pipeline retries the whole batch).</summary>
    /// <param name="batch">The trades, valid until the returned task completes.</param>
    /// <param name="cancellationToken">Ends the attempt (shutdown).</param>
    ValueTask PublishAsync(TradeBatch batch, CancellationToken cancellationToken);

    /// <summary>Whether <see cref="PublishCountingDuplicatesAsync"/> tells how many trades of a batch were already
    /// stored. <see langword="false"/> (the default) when the system cannot tell: the gateway then reports duplicates
    /// as unknown rather than as 0.</summary>
    bool CountsDuplicates => false;

    /// <summary>Stores the batch as <see cref="PublishAsync"/> does, and says how many of its trades were already
    /// stored before (duplicates: a client's resend after a reconnect, a re-run with the same trade ids, or an earlier
    /// failed attempt of the same batch that stored part of it). The default calls <see cref="PublishAsync"/> and
    /// returns 0; a sink that can tell overrides both this and <see cref="CountsDuplicates"/>.</summary>
    /// <param name="batch">The trades, valid until the returned task completes.</param>
    /// <param name="cancellationToken">Ends the attempt (shutdown).</param>
    /// <returns>How many trades of the batch were stored before this call (0 to <see cref="TradeBatch.Count"/>).</returns>
    async ValueTask<int> PublishCountingDuplicatesAsync(TradeBatch batch, CancellationToken cancellationToken)
    {
        await PublishAsync(batch, cancellationToken).ConfigureAwait(false);
        return 0;
    }
}

/// <summary>Trades as SBE messages laid end to end, each <see cref="MessageSize"/> bytes (header and block).</summary>
/// <param name="Messages">The messages' bytes.</param>
/// <param name="Count">How many messages.</param>
/// <param name="MessageSize">The size of each message.</param>
public readonly record struct TradeBatch(ReadOnlyMemory<byte> Messages, int Count, int MessageSize)
{
    /// <summary>How the trades came: the number of trades of each WebSocket message, in order (they add up to
    /// <see cref="Count"/>). Empty when not known; a sink that stores one record per message (JetStream's
    /// <c>record=frame</c>) needs it.</summary>
    public ReadOnlyMemory<int> Frames { get; init; }

    /// <summary>Checks that the batch holds what it says: <see cref="Count"/> whole messages of
    /// <see cref="MessageSize"/> bytes (at least a version-0 <c>Trade</c>'s 29), and <see cref="Frames"/>, when given,
    /// adding up to <see cref="Count"/>.</summary>
    /// <param name="sink">The sink's name, for the message.</param>
    /// <exception cref="ArgumentException">It does not; the message says what was expected.</exception>
    public void Validate(string sink)
    {
        if (Count < 0 || MessageSize < Sbe.Trade.EncodedSize || Messages.Length != (long)Count * MessageSize)
        {
            throw new ArgumentException(
                $"{sink} sink: a batch of {Count} messages of {MessageSize} bytes must be {(long)Count * MessageSize} bytes long (got {Messages.Length}), with messages of at least {Sbe.Trade.EncodedSize} bytes.",
                "batch");
        }

        if (!Frames.IsEmpty)
        {
            long total = 0;
            foreach (int frame in Frames.Span)
            {
                if (frame <= 0)
                {
                    throw new ArgumentException($"{sink} sink: a frame of a batch holds {frame} trades; expected at least 1.", "batch");
                }

                total += frame;
            }

            if (total != Count)
            {
                throw new ArgumentException($"{sink} sink: the batch's frames hold {total} trades, its Count says {Count}.", "batch");
            }
        }
    }

    /// <summary>The <paramref name="index"/>th message's bytes.</summary>
    public ReadOnlyMemory<byte> this[int index] => Messages.Slice(index * MessageSize, MessageSize);
}
