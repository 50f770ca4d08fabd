using System.Collections.Concurrent;

namespace WsGateway.Tests.Infrastructure;

/// <summary>Records every callback it gets, copying the spans, for tests to assert on.</summary>
public class RecordingHandler : ITradeMessageHandler
{
    private readonly TaskCompletionSource<WebSocketCloseInfo> _disconnected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _disconnects;

    public IGatewayConnection? Connection { get; private set; }

    public ConcurrentQueue<byte[]> Trades { get; } = new();

    public ConcurrentQueue<(byte[] Data, int MessageSize)> Batches { get; } = new();

    public ConcurrentQueue<WsError> Errors { get; } = new();

    public int Connects { get; private set; }

    public int Disconnects => Volatile.Read(ref _disconnects);

    public Task<WebSocketCloseInfo> Disconnected => _disconnected.Task;

    /// <summary>Thrown from OnTrade when set (for handler-failure tests).</summary>
    public Func<byte[], Exception?>? ThrowOnTrade { get; set; }

    public virtual void OnConnect(IGatewayConnection connection)
    {
        Connection = connection;
        Connects++;
    }

    public virtual void OnTrade(ReadOnlySpan<byte> data)
    {
        byte[] copy = data.ToArray();
        if (ThrowOnTrade?.Invoke(copy) is { } ex)
        {
            throw ex;
        }

        Trades.Enqueue(copy);
    }

    public virtual void OnTrades(ReadOnlySpan<byte> data, int messageSize)
    {
        Batches.Enqueue((data.ToArray(), messageSize));
        for (int offset = 0; offset < data.Length; offset += messageSize)
        {
            OnTrade(data.Slice(offset, messageSize));
        }
    }

    public void OnError(WsError error) => Errors.Enqueue(error);

    public void OnDisconnect(WebSocketCloseInfo close)
    {
        Interlocked.Increment(ref _disconnects);
        _disconnected.TrySetResult(close);
    }
}

/// <summary>A recording handler that also echoes raw messages (text included), like EchoHandler.</summary>
public sealed class RecordingEchoHandler : RecordingHandler, IRawMessageHandler
{
    private readonly Handlers.EchoHandler _echo = new();

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
