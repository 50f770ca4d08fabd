using System.Buffers;

namespace WsGateway.Sinks;

/// <summary>The trades of one socket read of one connection, copied out of the receive buffer, on their way to the
/// sink. Pooled by the pipeline: its buffer is reused, so a steady stream allocates nothing per read.</summary>
internal sealed class SinkBatch
{
    private byte[] _buffer = [];
    private int[] _frames = [];

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

    /// <summary>When the read that brought it completed (<see cref="TimeProvider.GetTimestamp"/>).</summary>
    public long Submitted { get; set; }

    public TradeBatch Trades => new(_buffer.AsMemory(0, Length), Count, MessageSize) { Frames = _frames.AsMemory(0, FrameCount) };

    public void Start(SinkConnection connection, int messageSize)
    {
        Connection = connection;
        MessageSize = messageSize;
        Count = 0;
        FrameCount = 0;
    }

    /// <summary>Copies the trades of one WebSocket message (whole messages of <see cref="MessageSize"/> bytes) in.</summary>
    public void Append(ReadOnlySpan<byte> messages)
    {
        int length = Length;
        EnsureCapacity(ref _buffer, length, length + messages.Length, 4096);
        EnsureCapacity(ref _frames, FrameCount, FrameCount + 1, 64);
        messages.CopyTo(_buffer.AsSpan(length));
        int count = messages.Length / MessageSize;
        _frames[FrameCount++] = count;
        Count += count;
    }

    /// <summary>Bytes the buffer holds, to keep oversized buffers out of the pool.</summary>
    public int Capacity => _buffer.Length;

    public void Clear()
    {
        Connection = null!;
        Count = 0;
        FrameCount = 0;
    }

    public void ReturnBuffer()
    {
        Return(ref _buffer);
        Return(ref _frames);
    }

    /// <summary>Grows a pooled array to hold <paramref name="needed"/> items, keeping the first <paramref name="used"/>.</summary>
    private static void EnsureCapacity<T>(ref T[] array, int used, int needed, int minimum)
    {
        if (needed > array.Length)
        {
            T[] grown = ArrayPool<T>.Shared.Rent(Math.Max(needed, Math.Max(minimum, array.Length * 2)));
            array.AsSpan(0, used).CopyTo(grown);
            Return(ref array);
            array = grown;
        }
    }

    private static void Return<T>(ref T[] array)
    {
        if (array.Length > 0)
        {
            ArrayPool<T>.Shared.Return(array);
            array = [];
        }
    }
}
