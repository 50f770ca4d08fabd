namespace WsGateway.Sbe;

/// <summary>
/// Walks a buffer of Trade messages laid back to back (as written by <see cref="Trade.EncodeToBuffer"/>)
/// without allocating. Each message's length comes from its own header, so messages of a newer
/// schema version with a longer block are stepped over correctly.
/// </summary>
/// <remarks>
/// <para>Two ways to use it:</para>
/// <code>
/// // foreach: throws SbeDecodeException at the first malformed message
/// foreach (Trade trade in new TradeBatchReader(buffer)) { ... }
///
/// // exception-free
/// var reader = new TradeBatchReader(buffer);
/// while (reader.TryRead(out Trade trade, out SbeDecodeError error)) { ... }
/// if (error.IsError) { /* reader.BytesConsumed is where the bad message starts */ }
/// </code>
/// The reader is a <see langword="ref struct"/> over the caller's span and lives only as long as it.
/// </remarks>
public ref struct TradeBatchReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private int _bytesConsumed;
    private Trade _current;

    /// <summary>Creates a reader positioned at the start of <paramref name="buffer"/>.</summary>
    /// <param name="buffer">Zero or more whole messages.</param>
    public TradeBatchReader(ReadOnlySpan<byte> buffer)
    {
        _buffer = buffer;
        _bytesConsumed = 0;
        _current = default;
    }

    /// <summary>Bytes read so far: the offset of the next message (or of the malformed one).</summary>
    public readonly int BytesConsumed => _bytesConsumed;

    /// <summary><see langword="true"/> when every byte of the buffer has been read.</summary>
    public readonly bool End => _bytesConsumed == _buffer.Length;

    /// <summary>The trade read by the last successful <see cref="MoveNext"/>; default before the first.</summary>
    public readonly Trade Current => _current;

    /// <summary>Reads the next trade into <see cref="Current"/>.</summary>
    /// <returns><see langword="true"/> when a trade was read; <see langword="false"/> at the end of the buffer.</returns>
    /// <exception cref="SbeDecodeException">The next message is malformed or cut short; <see cref="BytesConsumed"/> is its offset.</exception>
    public bool MoveNext()
    {
        if (TryRead(out _current, out SbeDecodeError error))
        {
            return true;
        }

        if (error.IsError)
        {
            ThrowHelper.ThrowSbeDecodeException(error);
        }

        return false;
    }

    /// <summary>Reads the next trade; never throws.</summary>
    /// <param name="trade">The trade, or default.</param>
    /// <param name="error">
    /// When the method returns <see langword="false"/>: default (<see cref="SbeDecodeStatus.None"/>) if the buffer
    /// ended cleanly, otherwise why the next message could not be read. The reader does not move past a bad message.
    /// </param>
    /// <returns><see langword="true"/> when a trade was read.</returns>
    public bool TryRead(out Trade trade, out SbeDecodeError error)
    {
        ReadOnlySpan<byte> remaining = _buffer[_bytesConsumed..];
        if (remaining.IsEmpty)
        {
            trade = default;
            error = default;
            return false;
        }

        if (!TradeCodec.TryDecode(remaining, out trade, out int length, out error))
        {
            return false;
        }

        _bytesConsumed += length;
        return true;
    }

    /// <summary>Returns this reader, so it can be used in <see langword="foreach"/>.</summary>
    /// <returns>A copy of this reader at its current position.</returns>
    public readonly TradeBatchReader GetEnumerator() => this;
}
