using System.Collections.Concurrent;
using WsGateway.Sbe;

namespace WsGateway.Examples.Tests.Infrastructure;

/// <summary>A handler that decodes and records every trade and how it arrived (single or batch).</summary>
public sealed class TradeRecorder : ITradeMessageHandler
{
    private readonly TaskCompletionSource<WebSocketCloseInfo> _disconnected = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ConcurrentQueue<Trade> Trades { get; } = new();

    public ConcurrentQueue<int> MessageSizes { get; } = new();

    public ConcurrentQueue<WsError> Errors { get; } = new();

    public Task<WebSocketCloseInfo> Disconnected => _disconnected.Task;

    public void OnTrade(ReadOnlySpan<byte> data)
    {
        MessageSizes.Enqueue(1);
        Trades.Enqueue(Trade.Decode(data));
    }

    public void OnTrades(ReadOnlySpan<byte> data, int messageSize)
    {
        MessageSizes.Enqueue(data.Length / messageSize);
        foreach (Trade trade in new TradeBatchReader(data))
        {
            Trades.Enqueue(trade);
        }
    }

    public void OnError(WsError error) => Errors.Enqueue(error);

    public void OnDisconnect(WebSocketCloseInfo close) => _disconnected.TrySetResult(close);
}
