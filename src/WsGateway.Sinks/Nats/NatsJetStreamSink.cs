using System.Buffers;
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
/// The stream is looked up, and created when missing (<see cref="NatsSinkOptions.CreateStream"/>), before the first
/// publish, so that a NATS cluster that is not up yet is retried like any other failure. Thread-safe: the pipeline
/// publishes several batches at once on one connection.
/// </remarks>
public sealed class NatsJetStreamSink : ITradeSink
{
    private static readonly INatsSerialize<ReadOnlyMemory<byte>> s_raw = NatsRawSerializer<ReadOnlyMemory<byte>>.Default;

    private readonly NatsSinkOptions _options;
    private readonly NatsConnection _connection;
    private readonly NatsJSContext _js;
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
    }

    /// <inheritdoc />
    public string Name => "nats";

    /// <summary>The options in force.</summary>
    public NatsSinkOptions Options => _options;

    /// <inheritdoc />
    public async ValueTask PublishAsync(TradeBatch batch, CancellationToken cancellationToken)
    {
        if (!_streamReady)
        {
            await EnsureStreamAsync(cancellationToken).ConfigureAwait(false);
        }

        int window = Math.Min(_options.MaxPublishesInFlight, batch.Count);
        ValueTask<PubAckResponse>[] pending = ArrayPool<ValueTask<PubAckResponse>>.Shared.Rent(window);
        try
        {
            for (int start = 0; start < batch.Count; start += window)
            {
                int end = Math.Min(start + window, batch.Count);
                for (int i = start; i < end; i++)
                {
                    ReadOnlyMemory<byte> message = batch[i];
                    string id = TradeMessages.TradeId(message.Span).ToString(CultureInfo.InvariantCulture);
                    pending[i - start] = _js.PublishAsync(_options.Subject, message, s_raw, new NatsJSPubOpts { MsgId = id }, cancellationToken: cancellationToken);
                }

                // Await every one (each ValueTask exactly once), then report the first failure: the pipeline retries
                // the whole batch and the stream's duplicate window drops the ones already stored.
                Exception? failure = null;
                for (int i = 0; i < end - start; i++)
                {
                    try
                    {
                        PubAckResponse ack = await pending[i].ConfigureAwait(false);

                        // A duplicate is a trade stored before (a retry, a client's resend): what deduplication is for.
                        if (!ack.Duplicate)
                        {
                            ack.EnsureSuccess();
                        }
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        failure ??= e;
                    }
                    finally
                    {
                        pending[i] = default;
                    }
                }

                if (failure is not null)
                {
                    throw failure is OperationCanceledException && cancellationToken.IsCancellationRequested
                        ? failure
                        : new NatsSinkException($"JetStream stream {_options.Stream} on {_options.Url} did not acknowledge trades {start + 1}-{end} of a batch of {batch.Count}: {failure.Message}", failure);
                }
            }
        }
        finally
        {
            ArrayPool<ValueTask<PubAckResponse>>.Shared.Return(pending);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
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
    /// <param name="innerException">The NATS client's exception.</param>
    public NatsSinkException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
