// Example 5: trades into a durable sink (PostgreSQL or Kafka): one batch per socket read, published off the receive
// path, with backpressure instead of loss while the sink is slow or down.
// Run:  dotnet run --project examples/WsGateway.Examples.Runner -- postgres --port 9001 --connection "Host=127.0.0.1;Username=postgres;Database=postgres"
//       dotnet run --project examples/WsGateway.Examples.Runner -- kafka --port 9001 --bootstrap 127.0.0.1:9092 --topic trades
// Feed: dotnet run --project examples/WsGateway.Examples.Runner -- client --url ws://127.0.0.1:9001/ --count 100000 --batch 100
using System.Buffers;
using System.Threading.Channels;
using WsGateway.Sinks;

namespace WsGateway.Examples;

/// <summary>
/// Hands the trades of every connection to an <see cref="ITradeSink"/> (<c>PostgresTradeSink</c>,
/// <c>KafkaTradeSink</c>): each connection's handler copies the SBE bytes of one socket read into a pooled buffer and,
/// at <see cref="IReadCompletionHandler.OnReadComplete"/>, writes that batch into a small bounded channel; one task
/// publishes the batches in order, retrying a failed one with backoff until it is stored.
/// </summary>
/// <remarks>
/// <para><b>Backpressure, not loss.</b> When the channel is full (the sink is slower than the clients, or down), the
/// connection whose batch did not fit is paused (<see cref="IGatewayConnection.PauseReceiving"/>): nothing more is read
/// from it, so TCP slows its client down. Its batch waits for room on another task and the connection resumes once it
/// is in. The receive loop never waits and nothing is dropped; memory is bounded by the channel's capacity plus one
/// batch per paused connection.</para>
/// <para><b>What this example does not do</b>: tell the client that its trades are stored. A trade in the channel when
/// the process dies is lost, and the client does not know it should resend. The sink pipeline
/// (<c>WsGateway.Sinks</c>, <c>wsgw serve --sink</c>) adds acknowledgements to the client, several batches in flight
/// and health and metrics; this file shows the core of it in one page.</para>
/// <para><b>Exactly once</b> comes from the sink: a batch retried after an ambiguous failure (stored, but the answer
/// was lost) is stored once by PostgreSQL's unique key, and deduplicated on the key by a Kafka consumer.</para>
/// </remarks>
public sealed class SinkForwarder : IAsyncDisposable
{
    private readonly ITradeSink _sink;
    private readonly Channel<PendingBatch> _channel;
    private readonly Task _publisher;
    private readonly CancellationTokenSource _stop = new();
    private long _published;
    private long _batches;
    private long _retries;
    private long _pauses;
    private long _notStored;
    private int _waitingWrites;

    /// <summary>Creates the forwarder and starts its publishing task.</summary>
    /// <param name="sink">Where the trades go; disposed with the forwarder.</param>
    /// <param name="capacity">Batches waiting at most before connections are paused.</param>
    public SinkForwarder(ITradeSink sink, int capacity = 16)
    {
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _sink = sink;
        _channel = Channel.CreateBounded<PendingBatch>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite says "full" instead of dropping anything
        });
        _publisher = Task.Run(PublishAsync);
    }

    /// <summary>Trades the sink has stored.</summary>
    public long Published => Volatile.Read(ref _published);

    /// <summary>Batches the sink has stored.</summary>
    public long Batches => Volatile.Read(ref _batches);

    /// <summary>Failed publish attempts that were retried.</summary>
    public long Retries => Volatile.Read(ref _retries);

    /// <summary>Times a connection was paused because the channel was full.</summary>
    public long Pauses => Volatile.Read(ref _pauses);

    /// <summary>Trades given up on by <see cref="Abandon"/>.</summary>
    public long NotStored => Volatile.Read(ref _notStored);

    /// <summary>Creates the handler of one connection; pass it as the server's handler factory.</summary>
    /// <param name="connection">The new connection.</param>
    /// <returns>A handler that forwards this connection's trades.</returns>
    public ITradeMessageHandler CreateHandler(IGatewayConnection connection) => new Handler(this, connection);

    /// <summary>Publishes what is queued, then stops and disposes the sink. Call it after the server stopped.</summary>
    /// <returns>A task that completes when every queued batch is stored (or the sink was given up on).</returns>
    public async ValueTask DisposeAsync()
    {
        // Batches of paused connections still waiting for room go in first: the publisher makes room for them.
        while (Volatile.Read(ref _waitingWrites) > 0)
        {
            await Task.Delay(10).ConfigureAwait(false);
        }

        _channel.Writer.TryComplete();
        await _publisher.ConfigureAwait(false);
        await _sink.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Gives up retrying (the batch being retried and those queued are not stored); for a shutdown that
    /// cannot wait for a sink that is down.</summary>
    public void Abandon() => _stop.Cancel();

    private async Task PublishAsync()
    {
        await foreach (PendingBatch pending in _channel.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            TradeBatch batch = new(pending.Buffer.AsMemory(0, pending.Count * pending.MessageSize), pending.Count, pending.MessageSize);
            TimeSpan backoff = TimeSpan.FromMilliseconds(50);
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    await _sink.PublishAsync(batch, _stop.Token).ConfigureAwait(false);
                    Interlocked.Add(ref _published, pending.Count);
                    Interlocked.Increment(ref _batches);
                    break;
                }
                catch (Exception) when (!_stop.IsCancellationRequested)
                {
                    // The sink is down or refused the batch: the whole batch again, after a growing pause (at most 2 s).
                    Interlocked.Increment(ref _retries);
                    try
                    {
                        await Task.Delay(backoff, _stop.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }

                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            if (_stop.IsCancellationRequested)
            {
                Interlocked.Add(ref _notStored, pending.Count); // abandoned: drained without publishing
            }

            ArrayPool<byte>.Shared.Return(pending.Buffer);
        }
    }

    private readonly record struct PendingBatch(byte[] Buffer, int Count, int MessageSize);

    /// <summary>One connection's handler: gathers the SBE bytes of one read, hands them over when the read is done.
    /// The gateway never calls it concurrently, so its buffer needs no lock.</summary>
    private sealed class Handler(SinkForwarder forwarder, IGatewayConnection connection) : IReadCompletionHandler
    {
        private byte[]? _buffer;
        private Task _waiting = Task.CompletedTask;
        private int _count;
        private int _messageSize;

        public void OnTrade(ReadOnlySpan<byte> data) => Append(data, data.Length);

        public void OnTrades(ReadOnlySpan<byte> data, int messageSize) => Append(data, messageSize);

        public void OnReadComplete() => HandOver();


        public void OnDisconnect(WebSocketCloseInfo close) => HandOver();

        private void Append(ReadOnlySpan<byte> data, int messageSize)
        {
            // A batch holds messages of one size (a newer schema version may append fields): a frame of another size
            // closes the batch so far.
            if (_count > 0 && messageSize != _messageSize)
            {
                HandOver();
            }

            _messageSize = messageSize;
            int used = _count * messageSize;
            if (_buffer is null || _buffer.Length - used < data.Length)
            {
                byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(used + data.Length, 4096));
                if (_buffer is not null)
                {
                    _buffer.AsSpan(0, used).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(_buffer);
                }

                _buffer = larger;
            }

            data.CopyTo(_buffer.AsSpan(used)); // the span is the receive buffer: copy before the callback returns
            _count += data.Length / messageSize;
        }

        private void HandOver()
        {
            if (_count == 0)
            {
                return;
            }

            var batch = new PendingBatch(_buffer!, _count, _messageSize);
            _buffer = null; // the batch owns the buffer now; the next read rents another
            _count = 0;
            // A batch still waiting for room goes first (this connection's order is kept).
            if (!_waiting.IsCompleted || !forwarder._channel.Writer.TryWrite(batch))
            {
                // Full: stop reading this connection (TCP pushes back on its client) and wait for room elsewhere.
                connection.PauseReceiving();
                Interlocked.Increment(ref forwarder._pauses);
                Interlocked.Increment(ref forwarder._waitingWrites);
                _waiting = WriteWhenRoomAsync(_waiting, batch);
            }
        }

        private async Task WriteWhenRoomAsync(Task previous, PendingBatch batch)
        {
            try
            {
                await previous.ConfigureAwait(false);
                await forwarder._channel.Writer.WriteAsync(batch).ConfigureAwait(false);
            }
            catch (ChannelClosedException)
            {
                ArrayPool<byte>.Shared.Return(batch.Buffer); // shutting down after the server stopped: nothing reads any more
            }
            finally
            {
                Interlocked.Decrement(ref forwarder._waitingWrites);
                connection.ResumeReceiving();
            }
        }
    }
}
