// The hand-written flyweight that the generated one replaced (WsGateway.Sbe before schemas/trade.xml was
// generated), kept here only as the benchmark baseline the generated code is measured against.
using System.Buffers.Binary;

using WsGateway.Sbe;

namespace WsGateway.Benchmarks.Reference;

/// <summary>
/// Flyweight decoder for the Trade message, in the shape Real Logic's sbe-tool generates: wrap it
/// over a buffer at the root block and read fields in place.
/// </summary>
/// <remarks>
/// <code>
/// var header = MessageHeader.Read(buffer);
/// var decoder = new TradeDecoder().WrapForDecode(buffer, MessageHeader.EncodedLength, header.BlockLength, header.Version);
/// ulong id = decoder.TradeId;
/// int next = decoder.Limit; // offset of whatever follows the message
/// </code>
/// Or <see cref="WrapAndApplyHeader"/>, which reads and checks the header itself. Values are not
/// range-checked (as in sbe-tool): compare with the <c>*NullValue</c>/<c>*MinValue</c>/<c>*MaxValue</c> constants if needed.
/// </remarks>
public ref struct HandWrittenTradeDecoder
{
    /// <summary>Root block length of the schema version this decoder was written for.</summary>
    public const ushort SbeBlockLength = Trade.BlockLength;

    /// <summary>Template id of the Trade message.</summary>
    public const ushort TemplateId = Trade.TemplateId;

    /// <summary>Schema id.</summary>
    public const ushort SchemaId = Trade.SchemaId;

    /// <summary>Schema version this decoder was written for.</summary>
    public const ushort SchemaVersion = Trade.SchemaVersion;

    /// <summary>Field id of <c>tradeId</c> in the schema.</summary>
    public const int TradeIdId = 1;

    /// <summary>Offset of <c>tradeId</c> in the root block.</summary>
    public const int TradeIdOffset = TradeCodec.TradeIdOffset;

    /// <summary>The <c>uint64</c> null value.</summary>
    public const ulong TradeIdNullValue = TradeDecoder.TradeIdNullValue;

    /// <summary>The <c>uint64</c> minimum value.</summary>
    public const ulong TradeIdMinValue = TradeDecoder.TradeIdMinValue;

    /// <summary>The <c>uint64</c> maximum value (one below null).</summary>
    public const ulong TradeIdMaxValue = TradeDecoder.TradeIdMaxValue;

    /// <summary>Field id of <c>symbol</c> in the schema.</summary>
    public const int SymbolId = 2;

    /// <summary>Offset of <c>symbol</c> in the root block.</summary>
    public const int SymbolOffset = TradeCodec.SymbolOffset;

    /// <summary>The <c>char</c> null value (NUL).</summary>
    public const byte SymbolNullValue = TradeDecoder.SymbolNullValue;

    /// <summary>The <c>char</c> minimum value (space, the first printable ASCII character).</summary>
    public const byte SymbolMinValue = TradeDecoder.SymbolMinValue;

    /// <summary>The <c>char</c> maximum value (<c>~</c>, the last printable ASCII character).</summary>
    public const byte SymbolMaxValue = TradeDecoder.SymbolMaxValue;

    /// <summary>Field id of <c>price</c> in the schema.</summary>
    public const int PriceId = 3;

    /// <summary>Offset of <c>price</c> in the root block.</summary>
    public const int PriceOffset = TradeCodec.PriceOffset;

    /// <summary>The <c>double</c> null value (NaN).</summary>
    public const double PriceNullValue = TradeDecoder.PriceNullValue;

    /// <summary>The <c>double</c> minimum value.</summary>
    public const double PriceMinValue = TradeDecoder.PriceMinValue;

    /// <summary>The <c>double</c> maximum value.</summary>
    public const double PriceMaxValue = TradeDecoder.PriceMaxValue;

    /// <summary>Field id of <c>quantity</c> in the schema.</summary>
    public const int QuantityId = 4;

    /// <summary>Offset of <c>quantity</c> in the root block.</summary>
    public const int QuantityOffset = TradeCodec.QuantityOffset;

    /// <summary>The <c>uint32</c> null value.</summary>
    public const uint QuantityNullValue = TradeDecoder.QuantityNullValue;

    /// <summary>The <c>uint32</c> minimum value.</summary>
    public const uint QuantityMinValue = TradeDecoder.QuantityMinValue;

    /// <summary>The <c>uint32</c> maximum value (one below null).</summary>
    public const uint QuantityMaxValue = TradeDecoder.QuantityMaxValue;

    private ReadOnlySpan<byte> _block;
    private int _offset;
    private int _actingBlockLength;
    private int _actingVersion;

    /// <summary>
    /// Wraps the root block that starts at <paramref name="offset"/> (just after the header).
    /// </summary>
    /// <param name="buffer">The buffer holding the message.</param>
    /// <param name="offset">Offset of the root block in <paramref name="buffer"/>.</param>
    /// <param name="actingBlockLength">The block length from the message header; at least <see cref="SbeBlockLength"/>.</param>
    /// <param name="actingVersion">The version from the message header.</param>
    /// <returns>This decoder, wrapped.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="offset"/> is negative or past the end.</exception>
    /// <exception cref="SbeDecodeException">
    /// <paramref name="actingBlockLength"/> is below <see cref="SbeBlockLength"/> (<see cref="SbeDecodeStatus.BlockLengthTooSmall"/>), or the
    /// buffer holds fewer than <paramref name="actingBlockLength"/> bytes from <paramref name="offset"/> (<see cref="SbeDecodeStatus.InsufficientData"/>).
    /// </exception>
    public HandWrittenTradeDecoder WrapForDecode(ReadOnlySpan<byte> buffer, int offset, int actingBlockLength, int actingVersion)
    {
        if ((uint)offset > (uint)buffer.Length)
        {
            ThrowHelper.ThrowOffsetOutOfRange(offset, buffer.Length, nameof(offset));
        }

        if (actingBlockLength < SbeBlockLength)
        {
            ThrowHelper.ThrowSbeDecodeException(new SbeDecodeError(SbeDecodeStatus.BlockLengthTooSmall, SbeBlockLength, actingBlockLength));
        }

        if (buffer.Length - offset < actingBlockLength)
        {
            ThrowHelper.ThrowSbeDecodeException(new SbeDecodeError(SbeDecodeStatus.InsufficientData, actingBlockLength, buffer.Length - offset));
        }

        _block = buffer.Slice(offset, SbeBlockLength);
        _offset = offset;
        _actingBlockLength = actingBlockLength;
        _actingVersion = actingVersion;
        return this;
    }

    /// <summary>
    /// Reads the message header at <paramref name="offset"/>, checks schema id, template id and
    /// block length, and wraps the root block that follows it.
    /// </summary>
    /// <param name="buffer">The buffer holding the message.</param>
    /// <param name="offset">Offset of the message header in <paramref name="buffer"/>.</param>
    /// <returns>This decoder, wrapped; <see cref="Offset"/> is <paramref name="offset"/> + 8.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="offset"/> is negative or past the end.</exception>
    /// <exception cref="SbeDecodeException">The header is not a Trade header of schema 1, or the message is cut short.</exception>
    public HandWrittenTradeDecoder WrapAndApplyHeader(ReadOnlySpan<byte> buffer, int offset)
    {
        if ((uint)offset > (uint)buffer.Length)
        {
            ThrowHelper.ThrowOffsetOutOfRange(offset, buffer.Length, nameof(offset));
        }

        if (!MessageHeader.TryRead(buffer[offset..], out MessageHeader header))
        {
            ThrowHelper.ThrowSbeDecodeException(new SbeDecodeError(SbeDecodeStatus.InsufficientData, Trade.EncodedSize, buffer.Length - offset));
        }

        SbeDecodeError error = TradeCodec.ValidateHeader(header);
        if (error.IsError)
        {
            ThrowHelper.ThrowSbeDecodeException(error);
        }

        int blockOffset = offset + MessageHeader.EncodedLength;
        if (buffer.Length - blockOffset < header.BlockLength)
        {
            ThrowHelper.ThrowSbeDecodeException(new SbeDecodeError(
                SbeDecodeStatus.InsufficientData, MessageHeader.EncodedLength + header.BlockLength, buffer.Length - offset));
        }

        return WrapForDecode(buffer, blockOffset, header.BlockLength, header.Version);
    }

    /// <summary>Offset of the root block in the wrapped buffer.</summary>
    public readonly int Offset => _offset;

    /// <summary>Offset just past the message's root block (<see cref="Offset"/> + acting block length): where the next message starts.</summary>
    public readonly int Limit => _offset + _actingBlockLength;

    /// <summary>Bytes of the root block, <c>Limit - Offset</c> (the header is not included, as in sbe-tool).</summary>
    public readonly int EncodedLength => _actingBlockLength;

    /// <summary>The block length given when wrapping.</summary>
    public readonly int ActingBlockLength => _actingBlockLength;

    /// <summary>The version given when wrapping.</summary>
    public readonly int ActingVersion => _actingVersion;

    /// <summary>Field <c>tradeId</c> (id 1, uint64).</summary>
    public readonly ulong TradeId => BinaryPrimitives.ReadUInt64LittleEndian(_block);

    /// <summary>Field <c>symbol</c> (id 2, char): one ASCII character as a byte.</summary>
    public readonly byte Symbol => _block[SymbolOffset];

    /// <summary>Field <c>price</c> (id 3, double).</summary>
    public readonly double Price => BinaryPrimitives.ReadDoubleLittleEndian(_block[PriceOffset..]);

    /// <summary>Field <c>quantity</c> (id 4, uint32).</summary>
    public readonly uint Quantity => BinaryPrimitives.ReadUInt32LittleEndian(_block[QuantityOffset..]);

    /// <summary>Copies the four fields into a <see cref="Trade"/> value, which may outlive the buffer.</summary>
    /// <returns>The trade.</returns>
    public readonly Trade ToTrade() => TradeCodec.ReadBlock(_block);
}
