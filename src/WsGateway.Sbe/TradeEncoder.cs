namespace WsGateway.Sbe;

/// <remarks>
/// The flyweight is generated from <c>schemas/trade.xml</c> (fields, constants, wrap methods); this part adds checked
/// wraps (an <see cref="ArgumentException"/> naming the sizes when the destination is too small) and
/// <see cref="Set"/>.
/// <code>
/// var encoder = new TradeEncoder().WrapAndApplyHeader(buffer, 0);
/// encoder.TradeId = 12345;
/// encoder.Symbol = (byte)'B';
/// encoder.Price = 100.5;
/// encoder.Quantity = 1000;
/// int written = MessageHeader.EncodedLength + encoder.EncodedLength; // 29
/// </code>
/// </remarks>
public ref partial struct TradeEncoder
{
    /// <summary>Writes the four fields of <paramref name="trade"/> into the wrapped block.</summary>
    /// <param name="trade">The trade.</param>
    /// <returns>This encoder.</returns>
    public readonly TradeEncoder Set(in Trade trade)
    {
        TradeCodec.WriteBlock(trade, _block);
        return this;
    }

    static partial void OnWrapForEncode(Span<byte> buffer, int offset)
    {
        if ((uint)offset > (uint)buffer.Length)
        {
            ThrowHelper.ThrowOffsetOutOfRange(offset, buffer.Length, nameof(offset));
        }

        if (buffer.Length - offset < SbeBlockLength)
        {
            ThrowHelper.ThrowDestinationTooSmall((long)offset + SbeBlockLength, buffer.Length, nameof(buffer));
        }
    }

    static partial void OnWrapAndApplyHeader(Span<byte> buffer, int offset)
    {
        if ((uint)offset > (uint)buffer.Length)
        {
            ThrowHelper.ThrowOffsetOutOfRange(offset, buffer.Length, nameof(offset));
        }

        if (buffer.Length - offset < Trade.EncodedSize)
        {
            ThrowHelper.ThrowDestinationTooSmall((long)offset + Trade.EncodedSize, buffer.Length, nameof(buffer));
        }
    }
}
