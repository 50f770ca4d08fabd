using System.Collections.Concurrent;
using WsGateway.Sbe;

namespace WsGateway.Testing;

/// <summary>
/// Records every callback it gets, for tests to assert on: each trade as a copy of its bytes and decoded, how the
/// trades arrived (one per frame or a batch), errors, connects and closes. One instance may serve one connection
/// (<c>new RecordingHandler()</c>) or every connection of a gateway (<see cref="Create"/> as the handler factory):
/// everything it keeps is thread-safe.
/// </summary>
public class RecordingHandler : ITradeMessageHandler
{
    private static readonly TimeSpan s_waitLimit = TimeSpan.FromSeconds(20);

    private readonly TaskCompletionSource<WebSocketCloseInfo> _disconnected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _connects;
    private int _disconnects;
    private int _tradeCount;

    /// <summary>The last connection that connected.</summary>
    public IGatewayConnection? Connection { get; private set; }

    /// <summary>Every trade's bytes (header and block), copied, in the order they arrived.</summary>
    public ConcurrentQueue<byte[]> Trades { get; } = new();

    /// <summary>Every trade decoded, in the order they arrived.</summary>
    public ConcurrentQueue<Trade> DecodedTrades { get; } = new();

    /// <summary>Trades per frame: 1 for a single trade (<c>OnTrade</c>), n for a batch (<c>OnTrades</c>).</summary>
    public ConcurrentQueue<int> MessageSizes { get; } = new();

    /// <summary>Every batch as it arrived, copied, with its message size.</summary>
    public ConcurrentQueue<(byte[] Data, int MessageSize)> Batches { get; } = new();

    public ConcurrentQueue<WsError> Errors { get; } = new();

    /// <summary>Every close, in order.</summary>
    public ConcurrentQueue<WebSocketCloseInfo> Closes { get; } = new();

    public int Connects => Volatile.Read(ref _connects);

    public int Disconnects => Volatile.Read(ref _disconnects);

    /// <summary>Trades received so far (also counted when <see cref="CountOnly"/> keeps nothing).</summary>
    public int TradeCount => Volatile.Read(ref _tradeCount);

    /// <summary>Completes with the first close.</summary>
    public Task<WebSocketCloseInfo> Disconnected => _disconnected.Task;

    /// <summary>Keep only the count (allocation and throughput tests).</summary>
    public bool CountOnly { get; init; }

    /// <summary>Thrown from the trade callbacks when it returns an exception for a trade's bytes (handler-failure tests).</summary>
    public Func<byte[], Exception?>? ThrowOnTrade { get; set; }

    /// <summary>A handler factory that gives every connection this recorder.</summary>
    public ITradeMessageHandler Create(IGatewayConnection connection) => this;

    public virtual void OnConnect(IGatewayConnection connection)
    {
        Connection = connection;
        Interlocked.Increment(ref _connects);
    }

    public virtual void OnTrade(ReadOnlySpan<byte> data)
    {
        Record(data);
        MessageSizes.Enqueue(1);
    }

    public virtual void OnTrades(ReadOnlySpan<byte> data, int messageSize)
    {
        if (!CountOnly)
        {
            Batches.Enqueue((data.ToArray(), messageSize));
        }

        for (int offset = 0; offset < data.Length; offset += messageSize)
        {
            Record(data.Slice(offset, messageSize));
        }

        MessageSizes.Enqueue(data.Length / messageSize);
    }

    public virtual void OnError(WsError error) => Errors.Enqueue(error);

    public virtual void OnDisconnect(WebSocketCloseInfo close)
    {
        Closes.Enqueue(close);
        Interlocked.Increment(ref _disconnects);
        _disconnected.TrySetResult(close);
    }

    /// <summary>Waits until <paramref name="count"/> trades have arrived; throws after 20 s with how many did.</summary>
    public Task WaitForTradesAsync(int count) => WaitAsync(() => TradeCount >= count, () => $"only {TradeCount} of {count} trades arrived");

    /// <summary>Waits until <paramref name="count"/> connections have closed; throws after 20 s with how many did.</summary>
    public Task WaitForDisconnectsAsync(int count) => WaitAsync(() => Disconnects >= count, () => $"only {Disconnects} of {count} connections closed");

    private void Record(ReadOnlySpan<byte> data)
    {
        if (!CountOnly)
        {
            byte[] copy = data.ToArray();
            if (ThrowOnTrade?.Invoke(copy) is { } ex)
            {
                throw ex;
            }

            Trades.Enqueue(copy);
            DecodedTrades.Enqueue(Trade.Decode(data));
        }

        Interlocked.Increment(ref _tradeCount);
    }

    private static async Task WaitAsync(Func<bool> done, Func<string> failure)
    {
        DateTime deadline = DateTime.UtcNow + s_waitLimit;
        while (!done())
        {
            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException(failure());
            }

            await Task.Delay(5).ConfigureAwait(false);
        }
    }
}

/// <summary>A recording handler that also echoes raw messages (text included), as <see cref="Handlers.EchoHandler"/> does.</summary>
public sealed class RecordingEchoHandler : RecordingHandler, IRawMessageHandler
{
    private readonly Handlers.EchoHandler _echo = new();

    /// <summary>Every raw message, copied, with whether it was text.</summary>
    public ConcurrentQueue<(byte[] Payload, bool IsText)> Messages { get; } = new();

    public override void OnConnect(IGatewayConnection connection)
    {
        base.OnConnect(connection);
        _echo.OnConnect(connection);
    }

    public void OnMessage(ReadOnlySpan<byte> payload, bool isText)
    {
        Messages.Enqueue((payload.ToArray(), isText));
        _echo.OnMessage(payload, isText);
    }
}
