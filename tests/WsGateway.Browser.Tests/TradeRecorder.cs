using System.Collections.Concurrent;
using WsGateway.Sbe;

namespace WsGateway.Browser.Tests;

/// <summary>Records what every connection of a gateway delivered: decoded trades, frame sizes, errors, closes.
/// <see cref="Create"/> is the gateway's handler factory (one handler per connection).</summary>
internal sealed class TradeRecorder
{
    private int _disconnects;

    public ConcurrentQueue<Trade> Trades { get; } = new();

    public ConcurrentQueue<int> MessageSizes { get; } = new();

    public ConcurrentQueue<WsError> Errors { get; } = new();

    public ConcurrentQueue<WebSocketCloseInfo> Closes { get; } = new();

    public int Disconnects => Volatile.Read(ref _disconnects);

    public ITradeMessageHandler Create(IGatewayConnection connection) => new Handler(this);

    public async Task WaitForDisconnectsAsync(int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (Disconnects < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"only {Disconnects} of {count} connections closed");
            await Task.Delay(10);
        }
    }

    private sealed class Handler(TradeRecorder recorder) : ITradeMessageHandler
    {
        public void OnTrade(ReadOnlySpan<byte> data)
        {
            recorder.MessageSizes.Enqueue(1);
            recorder.Trades.Enqueue(Trade.Decode(data));
        }

        public void OnTrades(ReadOnlySpan<byte> data, int messageSize)
        {
            recorder.MessageSizes.Enqueue(data.Length / messageSize);
            for (int offset = 0; offset < data.Length; offset += messageSize)
            {
                recorder.Trades.Enqueue(Trade.Decode(data.Slice(offset, messageSize)));
            }
        }

        public void OnError(WsError error) => recorder.Errors.Enqueue(error);

        public void OnDisconnect(WebSocketCloseInfo close)
        {
            recorder.Closes.Enqueue(close);
            Interlocked.Increment(ref recorder._disconnects);
        }
    }
}
