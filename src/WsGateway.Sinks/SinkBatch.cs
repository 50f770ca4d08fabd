using WsGateway.Framing;

namespace WsGateway.Sinks;

/// <summary>The trades of one socket read of one connection, copied out of the receive buffer, on their way to the
/// sink. Pooled by the pipeline: its buffer is reused, so a steady stream allocates nothing per read.</summary>
internal sealed class SinkBatch
{
    private byte[]? _buffer;
    private int[]? _frames;

    public SinkConnection Connection { get; private set; } = null!;

    public int Count { get; private set; }

    /// <summary>WebSocket messages the trades came in.</summary>
    public int FrameCount { get; private set; }

    public int MessageSize { get; private set; }

    public int Length => Count * MessageSize;

    /// <summary>The connection's batch number, from 0 in arrival order: acknowledgements advance over a contiguous run.</summary>
    public long Sequence { get; set; }

    /// <summary>Trades of the connection up to and including this batch's last.</summary>
    public ulong EndCount { get; set; }

    public ulong LastTradeId { get; set; }

    /// <summary>Trades of the batch the sink held already (set once it is stored).</summary>
    public int Duplicates { get; set; }

    /// <summary>When the read that brought it completed (<see cref="TimeProvider.GetTimestamp"/>).</summary>
    public long Submitted { get; set; }

    public TradeBatch Trades => new(_buffer.AsMemory(0, Length), Count, MessageSize) { Frames = _frames.AsMemory(0, FrameCount) };

    public void Start(SinkConnection connection, int messageSize)
    {
        Connection = connection;
        MessageSize = messageSize;
        Count = 0;
        FrameCount = 0;
        Duplicates = 0;
    }

    /// <summary>Copies the trades of one WebSocket message (whole messages of <see cref="MessageSize"/> bytes) in.</summary>
    public void Append(ReadOnlySpan<byte> messages)
    {
        int length = Length;
        PooledArray.Grow(ref _buffer, length, length + messages.Length, minimum: 4096);
        PooledArray.Grow(ref _frames, FrameCount, FrameCount + 1, minimum: 64);
        messages.CopyTo(_buffer.AsSpan(length));
        int count = messages.Length / MessageSize;
        _frames[FrameCount++] = count;
        Count += count;
    }

    /// <summary>Bytes the buffer holds, to keep oversized buffers out of the pool.</summary>
    public int Capacity => _buffer?.Length ?? 0;

    public void Clear()
    {
        Connection = null!;
        Count = 0;
        FrameCount = 0;
    }

    public void ReturnBuffer()
    {
        PooledArray.Return(ref _buffer);
        PooledArray.Return(ref _frames);
    }
}
