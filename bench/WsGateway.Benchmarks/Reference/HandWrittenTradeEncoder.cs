// The hand-written flyweight that the generated one replaced (WsGateway.Sbe before schemas/trade.xml was
// generated), kept here only as the benchmark baseline the generated code is measured against.
using System.Buffers.Binary;

using WsGateway.Sbe;

namespace WsGateway.Benchmarks.Reference;

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
public ref struct HandWrittenTradeEncoder
{
    /// <inheritdoc cref="HandWrittenTradeDecoder.SbeBlockLength"/>
    public const ushort SbeBlockLength = HandWrittenTradeDecoder.SbeBlockLength;

    /// <inheritdoc cref="HandWrittenTradeDecoder.TemplateId"/>
    public const ushort TemplateId = HandWrittenTradeDecoder.TemplateId;

    /// <inheritdoc cref="HandWrittenTradeDecoder.SchemaId"/>
    public const ushort SchemaId = HandWrittenTradeDecoder.SchemaId;

    /// <inheritdoc cref="HandWrittenTradeDecoder.SchemaVersion"/>
    public const ushort SchemaVersion = HandWrittenTradeDecoder.SchemaVersion;

    /// <inheritdoc cref="HandWrittenTradeDecoder.TradeIdNullValue"/>
    public const ulong TradeIdNullValue = HandWrittenTradeDecoder.TradeIdNullValue;

    /// <inheritdoc cref="HandWrittenTradeDecoder.TradeIdMinValue"/>
    public const ulong TradeIdMinValue = HandWrittenTradeDecoder.TradeIdMinValue;

    /// <inheritdoc cref="HandWrittenTradeDecoder.TradeIdMaxValue"/>
    public const ulong TradeIdMaxValue = HandWrittenTradeDecoder.TradeIdMaxValue;

    /// <inheritdoc cref="HandWrittenTradeDecoder.SymbolNullValue"/>
    public const byte SymbolNullValue = HandWrittenTradeDecoder.SymbolNullValue;

    /// <inheritdoc cref="HandWrittenTradeDecoder.SymbolMinValue"/>
    public const byte SymbolMinValue = HandWrittenTradeDecoder.SymbolMinValue;

    /// <inheritdoc cref="HandWrittenTradeDecoder.SymbolMaxValue"/>
    public const byte SymbolMaxValue = HandWrittenTradeDecoder.SymbolMaxValue;

    /// <inheritdoc cref="HandWrittenTradeDecoder.PriceNullValue"/>
    public const double PriceNullValue = HandWrittenTradeDecoder.PriceNullValue;

    /// <inheritdoc cref="HandWrittenTradeDecoder.PriceMinValue"/>
    public const double PriceMinValue = HandWrittenTradeDecoder.PriceMinValue;

    /// <inheritdoc cref="HandWrittenTradeDecoder.PriceMaxValue"/>
    public const double PriceMaxValue = HandWrittenTradeDecoder.PriceMaxValue;

    /// <inheritdoc cref="HandWrittenTradeDecoder.QuantityNullValue"/>
    public const uint QuantityNullValue = HandWrittenTradeDecoder.QuantityNullValue;

    /// <inheritdoc cref="HandWrittenTradeDecoder.QuantityMinValue"/>
    public const uint QuantityMinValue = HandWrittenTradeDecoder.QuantityMinValue;

    /// <inheritdoc cref="HandWrittenTradeDecoder.QuantityMaxValue"/>
    public const uint QuantityMaxValue = HandWrittenTradeDecoder.QuantityMaxValue;

    private Span<byte> _block;
    private int _offset;

    /// <summary>Wraps the root block at <paramref name="offset"/>; no header is written.</summary>
    /// <param name="buffer">The destination buffer.</param>
    /// <param name="offset">Offset of the root block in <paramref name="buffer"/>.</param>
    /// <returns>This encoder, wrapped.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="offset"/> is negative or past the end.</exception>
    /// <exception cref="ArgumentException">Fewer than <see cref="SbeBlockLength"/> bytes from <paramref name="offset"/>.</exception>
    public HandWrittenTradeEncoder WrapForEncode(Span<byte> buffer, int offset)
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
    public HandWrittenTradeEncoder WrapAndApplyHeader(Span<byte> buffer, int offset)
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
    public readonly HandWrittenTradeEncoder Set(in Trade trade)
    {
        TradeCodec.WriteBlock(trade, _block);
        return this;
    }
}
