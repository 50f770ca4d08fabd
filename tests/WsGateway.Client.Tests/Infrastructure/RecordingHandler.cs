using System.Collections.Concurrent;
using WsGateway.Sbe;

namespace WsGateway.Client.Tests.Infrastructure;

/// <summary>A gateway handler that decodes and keeps every trade it gets, with message boundaries and errors.</summary>
public sealed class RecordingHandler : ITradeMessageHandler
{
    private readonly TaskCompletionSource<WebSocketCloseInfo> _disconnected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _tradeCount;

    public IGatewayConnection? Connection { get; private set; }

    public ConcurrentQueue<Trade> Trades { get; } = new();

    /// <summary>Trades per message: 1 for a single trade, n for a batch.</summary>
    public ConcurrentQueue<int> MessageSizes { get; } = new();

    public ConcurrentQueue<WsError> Errors { get; } = new();

    public Task<WebSocketCloseInfo> Disconnected => _disconnected.Task;

    public int TradeCount => Volatile.Read(ref _tradeCount);

    /// <summary>Keep only the count (allocation and throughput tests).</summary>
    public bool CountOnly { get; init; }

    public void OnConnect(IGatewayConnection connection) => Connection = connection;

    public void OnTrade(ReadOnlySpan<byte> data)
    {
        MessageSizes.Enqueue(1);
        Record(data);
    }

    public void OnTrades(ReadOnlySpan<byte> data, int messageSize)
    {
        MessageSizes.Enqueue(data.Length / messageSize);
        for (int offset = 0; offset < data.Length; offset += messageSize)
        {
            Record(data.Slice(offset, messageSize));
        }
    }

    public void OnError(WsError error) => Errors.Enqueue(error);

    public void OnDisconnect(WebSocketCloseInfo close) => _disconnected.TrySetResult(close);

    /// <summary>Waits until <paramref name="count"/> trades have arrived.</summary>
    public async Task WaitForTradesAsync(int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (TradeCount < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"only {TradeCount} of {count} trades arrived");
            await Task.Delay(5);
        }
    }

    private void Record(ReadOnlySpan<byte> data)
    {
        if (!CountOnly)
        {
            Trades.Enqueue(Trade.Decode(data));
        }

        Interlocked.Increment(ref _tradeCount);
    }
}
