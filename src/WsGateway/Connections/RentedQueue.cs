using WsGateway.Framing;

namespace WsGateway.Connections;

/// <summary>
/// Bytes waiting to go out: <c>[Start, End)</c> of an array rented from the shared pool while it holds any, given back
/// by <see cref="Release"/> once they are sent, so an idle connection holds no send buffer. The connection's outbound
/// queue (<see cref="ConnectionSender"/>) and the native transport's socket writer both keep their bytes in one.
/// Not thread-safe: its owner serialises the calls.
/// </summary>
internal struct RentedQueue
{
    private byte[]? _array;
    private int _start;
    private int _end;

    /// <summary>The bytes waiting.</summary>
    public readonly int Count => _end - _start;

    /// <summary>The rented array's length; 0 when none is held.</summary>
    public readonly int Capacity => _array?.Length ?? 0;

    /// <summary>The array, for a pointer to <see cref="Start"/> (null when empty).</summary>
    public readonly byte[]? Array => _array;

    /// <summary>Where the waiting bytes begin in <see cref="Array"/>.</summary>
    public readonly int Start => _start;

    /// <summary>The waiting bytes.</summary>
    public readonly ReadOnlySpan<byte> Pending => _array.AsSpan(_start, _end - _start);

    /// <summary>Room for at least <paramref name="sizeHint"/> more bytes (one at least) after the waiting ones.</summary>
    public Span<byte> GetSpan(int sizeHint, int minimumSize)
    {
        int offset = Reserve(sizeHint, minimumSize); // first: it may rent or replace the array
        return _array.AsSpan(offset);
    }

    /// <summary>As <see cref="GetSpan"/>.</summary>
    public Memory<byte> GetMemory(int sizeHint, int minimumSize)
    {
        int offset = Reserve(sizeHint, minimumSize);
        return _array.AsMemory(offset);
    }

    /// <summary>Counts <paramref name="count"/> bytes written after the waiting ones.</summary>
    public void Advance(int count) => _end += count;

    /// <summary>Drops <paramref name="count"/> bytes from the front (they were sent).</summary>
    public void Consume(int count) => _start += count;

    /// <summary>Gives the array back to the pool; nothing waits any more.</summary>
    public void Release()
    {
        PooledArray.Return(ref _array);
        _start = _end = 0;
    }

    private int Reserve(int sizeHint, int minimumSize)
    {
        int size = Math.Max(sizeHint, 1);
        if (_array is null)
        {
            PooledArray.Grow(ref _array, used: 0, needed: size, minimum: minimumSize);
            _start = _end = 0;
            return 0;
        }

        if (_array.Length - _end >= size)
        {
            return _end;
        }

        int pending = _end - _start;
        if (_start > 0 && _array.Length - pending >= size)
        {
            Buffer.BlockCopy(_array, _start, _array, 0, pending);
        }
        else
        {
            PooledArray.Grow(ref _array, used: pending, needed: pending + size, usedStart: _start);
        }

        _start = 0;
        _end = pending;
        return _end;
    }
}
