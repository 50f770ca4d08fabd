using System.Collections.Concurrent;
using WsGateway.Sbe;

namespace WsGateway.Sinks.Tests.Pipeline;

/// <summary>
/// A sink whose publishes the test completes one by one (by the first trade id of the batch), or fails: to drive the
/// pipeline's ordering, bounds and retries deterministically. The sinks themselves are tested against real servers.
/// </summary>
internal sealed class GatedSink : ITradeSink
{
    private readonly ConcurrentDictionary<ulong, TaskCompletionSource> _gates = new();

    public string Name => "gated";

    /// <summary>Publish attempts that fail at once before the gates apply.</summary>
    public int FailuresLeft;

    public int Attempts;

    /// <summary>Stores every batch at once, without waiting for <see cref="Release"/>.</summary>
    public bool Open { get; init; }

    public ConcurrentQueue<Trade> Stored { get; } = new();

    public async ValueTask PublishAsync(TradeBatch batch, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Attempts);
        if (Interlocked.Decrement(ref FailuresLeft) >= 0)
        {
            throw new IOException("the sink is down (scripted)");
        }

        ulong first = TradeMessages.TradeId(batch[0].Span);
        if (!Open)
        {
            await Gate(first).Task.WaitAsync(cancellationToken);
        }

        for (int i = 0; i < batch.Count; i++)
        {
            Stored.Enqueue(Trade.Decode(batch[i].Span));
        }
    }

    /// <summary>Lets the publish of the batch starting with trade <paramref name="firstTradeId"/> complete.</summary>
    public void Release(ulong firstTradeId) => Gate(firstTradeId).TrySetResult();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private TaskCompletionSource Gate(ulong id) => _gates.GetOrAdd(id, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}
