using System.Buffers.Binary;

namespace WsGateway.Sbe;

/// <summary>
/// Flyweight encoder for the Trade message, in the shape Real Logic's sbe-tool generates: wrap it
/// over a buffer and set fields in place.
/// </summary>
/// <remarks>
/// <code>
/// var encoder = new TradeEncoder().WrapAndApplyHeader(buffer, 0);   // writes the header (21, 1, 1, 0)
/// encoder.TradeId = 12345;
/// encoder.Symbol = (byte)'B';
/// encoder.Price = 100.5;
/// encoder.Quantity = 1000;
/// int length = encoder.Limit;                                       // 29
/// </code>
/// Field constants (<c>TradeIdNullValue</c> and so on) are the same as <see cref="TradeDecoder"/>'s.
/// </remarks>
public ref struct TradeEncoder
{
    /// <inheritdoc cref="TradeDecoder.SbeBlockLength"/>
    public const ushort SbeBlockLength = TradeDecoder.SbeBlockLength;

    /// <inheritdoc cref="TradeDecoder.TemplateId"/>
    public const ushort TemplateId = TradeDecoder.TemplateId;

    /// <inheritdoc cref="TradeDecoder.SchemaId"/>
    public const ushort SchemaId = TradeDecoder.SchemaId;

    /// <inheritdoc cref="TradeDecoder.SchemaVersion"/>
    public const ushort SchemaVersion = TradeDecoder.SchemaVersion;

    /// <inheritdoc cref="TradeDecoder.TradeIdNullValue"/>
    public const ulong TradeIdNullValue = TradeDecoder.TradeIdNullValue;

    /// <inheritdoc cref="TradeDecoder.TradeIdMinValue"/>
    public const ulong TradeIdMinValue = TradeDecoder.TradeIdMinValue;

    /// <inheritdoc cref="TradeDecoder.TradeIdMaxValue"/>
    public const ulong TradeIdMaxValue = TradeDecoder.TradeIdMaxValue;

    /// <inheritdoc cref="TradeDecoder.SymbolNullValue"/>
    public const byte SymbolNullValue = TradeDecoder.SymbolNullValue;

    /// <inheritdoc cref="TradeDecoder.SymbolMinValue"/>
    public const byte SymbolMinValue = TradeDecoder.SymbolMinValue;

    /// <inheritdoc cref="TradeDecoder.SymbolMaxValue"/>
    public const byte SymbolMaxValue = TradeDecoder.SymbolMaxValue;

    /// <inheritdoc cref="TradeDecoder.PriceNullValue"/>
    public const double PriceNullValue = TradeDecoder.PriceNullValue;

    /// <inheritdoc cref="TradeDecoder.PriceMinValue"/>
    public const double PriceMinValue = TradeDecoder.PriceMinValue;

    /// <inheritdoc cref="TradeDecoder.PriceMaxValue"/>
    public const double PriceMaxValue = TradeDecoder.PriceMaxValue;

    /// <inheritdoc cref="TradeDecoder.QuantityNullValue"/>
    public const uint QuantityNullValue = TradeDecoder.QuantityNullValue;

    /// <inheritdoc cref="TradeDecoder.QuantityMinValue"/>
    public const uint QuantityMinValue = TradeDecoder.QuantityMinValue;

    /// <inheritdoc cref="TradeDecoder.QuantityMaxValue"/>
    public const uint QuantityMaxValue = TradeDecoder.QuantityMaxValue;

    private Span<byte> _block;
    private int _offset;

    /// <summary>Wraps the root block at <paramref name="offset"/>; no header is written.</summary>
    /// <param name="buffer">The destination buffer.</param>
    /// <param name="offset">Offset of the root block in <paramref name="buffer"/>.</param>
    /// <returns>This encoder, wrapped.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="offset"/> is negative or past the end.</exception>
    /// <exception cref="ArgumentException">Fewer than <see cref="SbeBlockLength"/> bytes from <paramref name="offset"/>.</exception>
    public TradeEncoder WrapForEncode(Span<byte> buffer, int offset)
    {
        if ((uint)offset > (uint)buffer.Length)
        {
            ThrowHelper.ThrowOffsetOutOfRange(offset, buffer.Length, nameof(offset));
        }

        if (buffer.Length - offset < SbeBlockLength)
        {
            ThrowHelper.ThrowDestinationTooSmall((long)offset + SbeBlockLength, buffer.Length, nameof(buffer));
        }

        _block = buffer.Slice(offset, SbeBlockLength);
        _offset = offset;
        return this;
    }

    /// <summary>
    /// Writes the message header (21, 1, 1, 0) at <paramref name="offset"/> and wraps the root block after it.
    /// </summary>
    /// <param name="buffer">The destination buffer.</param>
    /// <param name="offset">Offset of the message (its header) in <paramref name="buffer"/>.</param>
    /// <returns>This encoder, wrapped; <see cref="Offset"/> is <paramref name="offset"/> + 8.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="offset"/> is negative or past the end.</exception>
    /// <exception cref="ArgumentException">Fewer than 29 bytes from <paramref name="offset"/>.</exception>
    public TradeEncoder WrapAndApplyHeader(Span<byte> buffer, int offset)
    {
        if ((uint)offset > (uint)buffer.Length)
        {
            ThrowHelper.ThrowOffsetOutOfRange(offset, buffer.Length, nameof(offset));
        }

        if (buffer.Length - offset < Trade.EncodedSize)
        {
            ThrowHelper.ThrowDestinationTooSmall((long)offset + Trade.EncodedSize, buffer.Length, nameof(buffer));
        }

        BinaryPrimitives.WriteUInt64LittleEndian(buffer[offset..], TradeCodec.Header);
        return WrapForEncode(buffer, offset + MessageHeader.EncodedLength);
    }

    /// <summary>Offset of the root block in the wrapped buffer.</summary>
    public readonly int Offset => _offset;

    /// <summary>Offset just past the root block: where the next message goes.</summary>
    public readonly int Limit => _offset + SbeBlockLength;

    /// <summary>Bytes of the root block, <c>Limit - Offset</c> (the header is not included, as in sbe-tool).</summary>
    public readonly int EncodedLength => SbeBlockLength;

    /// <summary>Field <c>tradeId</c> (id 1, uint64).</summary>
    public ulong TradeId
    {
        readonly get => BinaryPrimitives.ReadUInt64LittleEndian(_block);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_block, value);
    }

    /// <summary>Field <c>symbol</c> (id 2, char): one ASCII character as a byte.</summary>
    public byte Symbol
    {
        readonly get => _block[TradeCodec.SymbolOffset];
        set => _block[TradeCodec.SymbolOffset] = value;
    }

    /// <summary>Field <c>price</c> (id 3, double).</summary>
    public double Price
    {
        readonly get => BinaryPrimitives.ReadDoubleLittleEndian(_block[TradeCodec.PriceOffset..]);
        set => BinaryPrimitives.WriteDoubleLittleEndian(_block[TradeCodec.PriceOffset..], value);
    }

    /// <summary>Field <c>quantity</c> (id 4, uint32).</summary>
    public uint Quantity
    {
        readonly get => BinaryPrimitives.ReadUInt32LittleEndian(_block[TradeCodec.QuantityOffset..]);
        set => BinaryPrimitives.WriteUInt32LittleEndian(_block[TradeCodec.QuantityOffset..], value);
    }

    /// <summary>Writes all four fields of <paramref name="trade"/>.</summary>
    /// <param name="trade">The trade.</param>
    /// <returns>This encoder.</returns>
    public readonly TradeEncoder Set(in Trade trade)
    {
        TradeCodec.WriteBlock(trade, _block);
        return this;
    }
}
