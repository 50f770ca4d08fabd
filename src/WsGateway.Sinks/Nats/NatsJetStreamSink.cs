using System.Globalization;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace WsGateway.Sinks.Nats;

/// <summary>
/// Stores trades in a NATS JetStream stream, each as one message holding its SBE bytes as received, with the trade id
/// as JetStream message id (<c>Nats-Msg-Id</c>): a trade published again within the stream's duplicate window (a
/// retry, a client's resend after a reconnect) is stored once. A batch completes when JetStream has acknowledged every
/// one of its messages (stored on a majority of the stream's replicas).
/// </summary>
/// <remarks>
/// The stream is looked up, and created when missing (<see cref="NatsSinkOptions.CreateStream"/>), by
/// <see cref="InitializeAsync"/> (<c>wsgw serve</c> calls it before it listens) or else before the first publish, so
/// that a NATS cluster that is not up yet is retried like any other failure. Thread-safe: the pipeline publishes
/// several batches at once on one connection.
/// </remarks>
public sealed class NatsJetStreamSink : ITradeSink
{
    private const string MsgIdHeader = "Nats-Msg-Id";

    /// <summary>Records published in one turn of <see cref="_publishLock"/>.</summary>
    private const int PublishRun = 64;

    private readonly NatsSinkOptions _options;
    private readonly NatsConnection _connection;
    private readonly NatsJSContext _js;
    private readonly JetStreamPublisher _publisher;
    private readonly Lock _publishLock = new();
    private readonly SemaphoreSlim _streamLock = new(1, 1);
    private volatile bool _streamReady;

    /// <summary>Creates the sink; it connects on the first publish.</summary>
    /// <param name="options">Servers, stream, subject and the stream's settings.</param>
    /// <param name="loggerFactory">For the NATS client's own logs (connects, reconnects).</param>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public NatsJetStreamSink(NatsSinkOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Validate() is { } problem)
        {
            throw new ArgumentException(problem, nameof(options));
        }

        _options = options;
        var opts = NatsOpts.Default with
        {
            Url = options.Url,
            Name = "wsgw",
            RequestTimeout = options.AckTimeout,
            LoggerFactory = loggerFactory ?? NatsOpts.Default.LoggerFactory,

            // Reconnect for ever: the pipeline keeps retrying, and acknowledgements stop until NATS is back.
            MaxReconnectRetry = -1,

            // Publish acks come back on the connection's one reply inbox, matched to their request, instead of a
            // subscription made and removed for every publish (the default): several times the publish rate.
            RequestReplyMode = NatsRequestReplyMode.Direct,
        };
        _connection = new NatsConnection(opts);
        _js = new NatsJSContext(_connection);
        _publisher = new JetStreamPublisher(_connection);
    }

    /// <inheritdoc />
    public string Name => "nats";

    /// <summary>The options in force.</summary>
    public NatsSinkOptions Options => _options;

    /// <summary>Connects (authenticating with the URL's credentials) and looks the stream up, creating it when missing
    /// and <see cref="NatsSinkOptions.CreateStream"/> allows: what the first publish does otherwise.</summary>
    /// <param name="cancellationToken">Ends the attempt.</param>
    /// <returns>A task that completes once the stream is there.</returns>
    public async ValueTask InitializeAsync(CancellationToken cancellationToken)
    {
        if (_streamReady)
        {
            return;
        }

        // NATS.Net's connect takes no token: the wait for it does (a blackholed address is bounded by the caller). A
        // refused connection or a bad password fails at once.
        await _connection.ConnectAsync().AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await EnsureStreamAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (IsJetStreamStarting(e))
            {
                // JetStream is there but not answering yet (a cluster electing its leaders, a server just started):
                // tried again until the caller's deadline, which then hears why.
                try
                {
                    await Task.Delay(200, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    throw new NatsSinkException(string.Create(CultureInfo.InvariantCulture, $"JetStream did not answer for {clock.Elapsed.TotalSeconds:0.0} s: {e.Message}"), e);
                }
            }
        }
    }

    private static bool IsJetStreamStarting(Exception e) =>
        e is NatsJSApiNoResponseException or NatsNoRespondersException || (e is NatsJSApiException api && api.Error.Code == 503);

    /// <inheritdoc />
    public async ValueTask PublishAsync(TradeBatch batch, CancellationToken cancellationToken)
        => await PublishCountingDuplicatesAsync(batch, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    /// <remarks>True: JetStream's publish acknowledgement says <c>"duplicate":true</c> for a message id it holds
    /// within the stream's duplicate window (a trade id older than the window is stored again, and not counted).</remarks>
    public bool CountsDuplicates => true;

    /// <inheritdoc />
    /// <remarks>A record JetStream acknowledged as a duplicate counts its trades: one, or (<c>record=frame</c>) the
    /// frame's.</remarks>
    public async ValueTask<int> PublishCountingDuplicatesAsync(TradeBatch batch, CancellationToken cancellationToken)
    {
        batch.Validate(Name);
        if (!_streamReady)
        {
            await EnsureStreamAsync(cancellationToken).ConfigureAwait(false);
        }

        bool frames = _options.Record == NatsRecord.Frame && !batch.Frames.IsEmpty;
        int records = frames ? batch.Frames.Length : batch.Count;
        var headers = new NatsHeaders(); // reused: NATS.Net writes it out within each publish call
        int offset = 0; // the next record's first byte
        int duplicates = 0;
        for (int start = 0; start < records; start += _options.MaxPublishesInFlight)
        {
            int end = Math.Min(start + _options.MaxPublishesInFlight, records);
            PublishGroup group = _publisher.Begin(end - start);
            try
            {
                for (int r = start; r < end;)
                {
                    // Batches publish from several pipeline tasks at once. Taking turns here, a run of records at a
                    // time, keeps them from contending on NATS.Net's write lock, whose contended path allocates a
                    // timer and a state machine per publish.
                    ValueTask pending = default;
                    lock (_publishLock)
                    {
                        for (int stop = Math.Min(end, r + PublishRun); r < stop;)
                        {
                            int length = frames ? batch.Frames.Span[r] * batch.MessageSize : batch.MessageSize;
                            ReadOnlyMemory<byte> record = batch.Messages.Slice(offset, length);
                            offset += length;
                            headers[MsgIdHeader] = RecordId(record.Span, batch.MessageSize);
                            ValueTask sent = _publisher.PublishAsync(group, r - start, _options.Subject, record, headers, cancellationToken);
                            r++;
                            if (!sent.IsCompletedSuccessfully)
                            {
                                pending = sent; // the connection's buffer is full (or it is reconnecting): wait outside the lock
                                break;
                            }
                        }
                    }

                    await pending.ConfigureAwait(false);
                }

                try
                {
                    await group.Completion.WaitAsync(_options.AckTimeout, cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException e)
                {
                    throw new NatsSinkException($"JetStream stream {_options.Stream} on {_options.Url} did not acknowledge {group.Remaining} of records {start + 1}-{end} of a batch of {records} within {_options.AckTimeout.TotalSeconds:0.###} s", e);
                }

                if (group.Failure is { } failure)
                {
                    throw new NatsSinkException($"JetStream stream {_options.Stream} on {_options.Url} refused record {start + failure.Index + 1} of a batch of {records}: {failure.Error}");
                }

                if (group.Duplicates > 0)
                {
                    duplicates += DuplicateTrades(group, start, end, frames ? batch.Frames.Span : default);
                }
            }
            finally
            {
                _publisher.End(group);
            }
        }

        return duplicates;
    }

    /// <summary>Trades of the records [start, end) that JetStream acknowledged as duplicates.</summary>
    private static int DuplicateTrades(PublishGroup group, int start, int end, ReadOnlySpan<int> frames)
    {
        int trades = 0;
        for (int r = start; r < end; r++)
        {
            if (group.IsDuplicate(r - start))
            {
                trades += frames.IsEmpty ? 1 : frames[r];
            }
        }

        return trades;
    }

    /// <summary>The JetStream message id of a record: the trade id of a one-trade record, <c>first-last</c> (the
    /// first and last trade ids) of a frame's.</summary>
    private static string RecordId(ReadOnlySpan<byte> record, int messageSize)
    {
        ulong first = TradeMessages.TradeId(record);
        if (record.Length == messageSize)
        {
            return first.ToString(CultureInfo.InvariantCulture);
        }

        ulong last = TradeMessages.TradeId(record[^messageSize..]);
        return string.Create(CultureInfo.InvariantCulture, $"{first}-{last}");
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _publisher.DisposeAsync().ConfigureAwait(false);
        await _connection.DisposeAsync().ConfigureAwait(false);
        _streamLock.Dispose();
    }

    private async Task EnsureStreamAsync(CancellationToken cancellationToken)
    {
        await _streamLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_streamReady)
            {
                return;
            }

            try
            {
                await _js.GetStreamAsync(_options.Stream, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (NatsJSApiException e) when (e.Error.Code == 404 && _options.CreateStream)
            {
                var config = new StreamConfig(_options.Stream, [_options.Subject])
                {
                    Storage = StreamConfigStorage.File,
                    NumReplicas = _options.Replicas,
                    DuplicateWindow = _options.DuplicateWindow,
                };
                try
                {
                    await _js.CreateStreamAsync(config, cancellationToken).ConfigureAwait(false);
                }
                catch (NatsJSApiException exists) when (exists.Error.ErrCode == 10058)
                {
                    // Another gateway created it meanwhile (stream name already in use).
                }
            }

            await _publisher.StartAsync(cancellationToken).ConfigureAwait(false);
            _streamReady = true;
        }
        finally
        {
            _streamLock.Release();
        }
    }
}

/// <summary>JetStream did not store a batch (no acknowledgement in time, no quorum, an error); the pipeline retries it.</summary>
public sealed class NatsSinkException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed, naming the stream and the servers.</param>
    /// <param name="innerException">The NATS client's exception, when there is one.</param>
    public NatsSinkException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
