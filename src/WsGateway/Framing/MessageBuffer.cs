using System.Buffers;

namespace WsGateway.Framing;

/// <summary>
/// A growable buffer on <see cref="ArrayPool{T}"/> for reassembling a message that spans frames or pipe segments.
/// It never holds more than <see cref="MaxLength"/> bytes; the first array is rented on the first write, growth
/// doubles, <see cref="Clear"/> keeps an array of up to <see cref="RetainedCapacity"/> for the next message (a larger
/// one goes back to the pool, so that a connection that once received a large message does not pin it while idle)
/// and <see cref="Dispose"/> returns it.
/// </summary>
/// <remarks>Not thread safe: one connection's read loop owns it. <see cref="WrittenSpan"/> is valid until the next write, <see cref="Clear"/> or <see cref="Dispose"/>.</remarks>
internal sealed class MessageBuffer : IBufferWriter<byte>, IDisposable
{
    public const int DefaultInitialCapacity = 256;

    /// <summary>Largest array <see cref="Clear"/> keeps for the next message.</summary>
    public const int RetainedCapacity = 16 * 1024;

    private readonly ArrayPool<byte> _pool;
    private readonly int _initialCapacity;
    private byte[]? _array;
    private int _length;
    private bool _disposed;

    /// <param name="maxLength">The most bytes the buffer will ever hold (the message size limit).</param>
    /// <param name="initialCapacity">Size of the first array rented.</param>
    /// <param name="pool">Pool to rent from; <see cref="ArrayPool{T}.Shared"/> by default.</param>
    public MessageBuffer(int maxLength, int initialCapacity = DefaultInitialCapacity, ArrayPool<byte>? pool = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxLength);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(initialCapacity);
        MaxLength = maxLength;
        _initialCapacity = initialCapacity;
        _pool = pool ?? ArrayPool<byte>.Shared;
    }

    public int MaxLength { get; }

    /// <summary>Bytes written so far.</summary>
    public int Length => _length;

    /// <summary>Bytes that can still be written before <see cref="MaxLength"/>.</summary>
    public int Remaining => MaxLength - _length;

    /// <summary>Size of the array currently held (0 before the first write and after <see cref="Dispose"/>).</summary>
    public int Capacity => _array?.Length ?? 0;

    public ReadOnlySpan<byte> WrittenSpan => _array.AsSpan(0, _length);

    public ReadOnlyMemory<byte> WrittenMemory => _array.AsMemory(0, _length);

    /// <summary>Appends <paramref name="data"/>, or returns <see langword="false"/> and writes nothing if it would pass <see cref="MaxLength"/>.</summary>
    public bool TryAppend(ReadOnlySpan<byte> data)
    {
        ThrowIfDisposed();
        if (data.Length > Remaining)
        {
            return false;
        }

        EnsureCapacity(data.Length);
        data.CopyTo(_array.AsSpan(_length));
        _length += data.Length;
        return true;
    }

    /// <summary>Appends every segment of <paramref name="data"/>, or returns <see langword="false"/> and writes nothing if it would pass <see cref="MaxLength"/>.</summary>
    public bool TryAppend(in ReadOnlySequence<byte> data)
    {
        ThrowIfDisposed();
        if (data.Length > Remaining)
        {
            return false;
        }

        int count = (int)data.Length;
        EnsureCapacity(count);
        data.CopyTo(_array.AsSpan(_length));
        _length += count;
        return true;
    }

    /// <summary>Appends <paramref name="data"/>.</summary>
    /// <exception cref="InvalidOperationException">It would pass <see cref="MaxLength"/>.</exception>
    public void Append(ReadOnlySpan<byte> data)
    {
        if (!TryAppend(data))
        {
            FramingThrowHelper.ThrowInvalidOperation("The message would exceed the buffer's maximum length.");
        }
    }

    /// <summary>
    /// A span of at least <paramref name="sizeHint"/> bytes (at least 1 when 0) to write into; never longer than
    /// <see cref="Remaining"/>. Call <see cref="Advance(int)"/> with the bytes written.
    /// </summary>
    /// <exception cref="InvalidOperationException"><paramref name="sizeHint"/> (or 1) is more than <see cref="Remaining"/>.</exception>
    public Span<byte> GetSpan(int sizeHint = 0)
    {
        PrepareWrite(sizeHint);
        return _array.AsSpan(_length, Math.Min(_array!.Length, MaxLength) - _length);
    }

    /// <inheritdoc cref="GetSpan(int)"/>
    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        PrepareWrite(sizeHint);
        return _array.AsMemory(_length, Math.Min(_array!.Length, MaxLength) - _length);
    }

    public void Advance(int count)
    {
        ThrowIfDisposed();
        if ((uint)count > (uint)(Capacity - _length) || count > Remaining)
        {
            FramingThrowHelper.ThrowArgumentOutOfRange(nameof(count), "Advanced past the span that was handed out.");
        }

        _length += count;
    }

    /// <summary>Empties the buffer; keeps its array for the next message when it is at most
    /// <see cref="RetainedCapacity"/> bytes, returns it to the pool otherwise.</summary>
    public void Clear()
    {
        ThrowIfDisposed();
        _length = 0;
        if (_array is { Length: > RetainedCapacity })
        {
            PooledArray.Return(ref _array, _pool);
        }
    }

    /// <summary>Returns the array to the pool. Further use throws <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _length = 0;
        PooledArray.Return(ref _array, _pool);
    }

    private void PrepareWrite(int sizeHint)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfNegative(sizeHint);
        int needed = Math.Max(sizeHint, 1);
        if (needed > Remaining)
        {
            FramingThrowHelper.ThrowInvalidOperation("The message would exceed the buffer's maximum length.");
        }

        EnsureCapacity(needed);
    }

    // Caller has checked that _length + additional <= MaxLength.
    private void EnsureCapacity(int additional)
    {
        if (additional > 0) // an empty append rents nothing
        {
            PooledArray.Grow(ref _array, _length, _length + additional, minimum: _initialCapacity, maximum: MaxLength, pool: _pool);
        }
    }

    private void ThrowIfDisposed()
    {
        if (_disposed)
        {
            FramingThrowHelper.ThrowObjectDisposed(nameof(MessageBuffer));
        }
    }
}
