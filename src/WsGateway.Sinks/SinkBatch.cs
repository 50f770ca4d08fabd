using System.Buffers;

namespace WsGateway.Sinks;

/// <summary>The trades of one socket read of one connection, copied out of the receive buffer, on their way to the
/// sink. Pooled by the pipeline: its buffer is reused, so a steady stream allocates nothing per read.</summary>
internal sealed class SinkBatch
{
    private byte[] _buffer = [];

    public SinkConnection Connection { get; private set; } = null!;

    public int Count { get; private set; }

    public int MessageSize { get; private set; }

    public int Length => Count * MessageSize;

    /// <summary>The connection's batch number, from 0 in arrival order: acknowledgements advance over a contiguous run.</summary>
    public long Sequence { get; set; }

    /// <summary>Trades of the connection up to and including this batch's last.</summary>
    public ulong EndCount { get; set; }

    public ulong LastTradeId { get; set; }

    /// <summary>When the read that brought it completed (<see cref="TimeProvider.GetTimestamp"/>).</summary>
    public long Submitted { get; set; }

    public TradeBatch Trades => new(_buffer.AsMemory(0, Length), Count, MessageSize);

    public void Start(SinkConnection connection, int messageSize)
    {
        Connection = connection;
        MessageSize = messageSize;
        Count = 0;
    }

    /// <summary>Copies <paramref name="messages"/> (whole messages of <see cref="MessageSize"/> bytes) in.</summary>
    public void Append(ReadOnlySpan<byte> messages)
    {
        int length = Length;
        if (length + messages.Length > _buffer.Length)
        {
            byte[] grown = ArrayPool<byte>.Shared.Rent(Math.Max(length + messages.Length, Math.Max(4096, _buffer.Length * 2)));
            _buffer.AsSpan(0, length).CopyTo(grown);
            ReturnBuffer();
            _buffer = grown;
        }

        messages.CopyTo(_buffer.AsSpan(length));
        Count += messages.Length / MessageSize;
    }

    /// <summary>Bytes the buffer holds, to keep oversized buffers out of the pool.</summary>
    public int Capacity => _buffer.Length;

    public void Clear()
    {
        Connection = null!;
        Count = 0;
    }

    public void ReturnBuffer()
    {
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }
}
