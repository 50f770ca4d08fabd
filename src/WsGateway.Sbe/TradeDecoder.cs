namespace WsGateway.Sbe;

/// <remarks>
/// The flyweight is generated from <c>schemas/trade.xml</c> (fields, constants, wrap methods); this part adds what
/// the gateway's codec promises beyond sbe-tool's generated code: checked wraps that throw
/// <see cref="SbeDecodeException"/> with the reason, the field offsets under their hand-written names, and
/// <see cref="ToTrade"/>.
/// <code>
/// var header = MessageHeader.Read(buffer);
/// var decoder = new TradeDecoder().WrapForDecode(buffer, MessageHeader.EncodedLength, header.BlockLength, header.Version);
/// ulong id = decoder.TradeId;
/// int next = decoder.Limit; // offset of whatever follows the message
/// </code>
/// Or <c>WrapAndApplyHeader</c>, which reads and checks the header itself. Values are not range-checked (as in
/// sbe-tool): compare with the <c>*NullValue</c>/<c>*MinValue</c>/<c>*MaxValue</c> constants if needed.
/// </remarks>
public ref partial struct TradeDecoder
{
    /// <summary>Offset of <c>tradeId</c> in the root block.</summary>
    public const int TradeIdOffset = TradeIdEncodingOffset;

    /// <summary>Offset of <c>symbol</c> in the root block.</summary>
    public const int SymbolOffset = SymbolEncodingOffset;

    /// <summary>Offset of <c>price</c> in the root block.</summary>
    public const int PriceOffset = PriceEncodingOffset;

    /// <summary>Offset of <c>quantity</c> in the root block.</summary>
    public const int QuantityOffset = QuantityEncodingOffset;

    /// <summary>Copies the four fields into a <see cref="Trade"/> value.</summary>
    /// <returns>The trade.</returns>
    public readonly Trade ToTrade() => TradeCodec.ReadBlock(_block);

    // Checked wraps: offset in range, block length at least this version's, the whole block present.
    static partial void OnWrapForDecode(ReadOnlySpan<byte> buffer, int offset, int actingBlockLength, int actingVersion)
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
    }

    // The header must be there before WrapAndApplyHeader reads it.
    static partial void OnWrapAndApplyHeader(ReadOnlySpan<byte> buffer, int offset)
    {
        if ((uint)offset > (uint)buffer.Length)
        {
            ThrowHelper.ThrowOffsetOutOfRange(offset, buffer.Length, nameof(offset));
        }

        if (buffer.Length - offset < MessageHeader.EncodedLength)
        {
            ThrowHelper.ThrowSbeDecodeException(new SbeDecodeError(SbeDecodeStatus.InsufficientData, Trade.EncodedSize, buffer.Length - offset));
        }
    }

    // The header must be a Trade's (Trade.ValidateHeader, the one check shared with the codec and the gateway), and
    // the block must follow it.
    static partial void OnApplyHeader(ReadOnlySpan<byte> buffer, int offset, int blockLength, int templateId, int schemaId, int version)
    {
        SbeDecodeError error = Trade.ValidateHeader(blockLength, templateId, schemaId);
        if (error.IsError)
        {
            ThrowHelper.ThrowSbeDecodeException(error);
        }

        if (buffer.Length - offset - MessageHeader.EncodedLength < blockLength)
        {
            ThrowHelper.ThrowSbeDecodeException(new SbeDecodeError(
                SbeDecodeStatus.InsufficientData, MessageHeader.EncodedLength + blockLength, buffer.Length - offset));
        }
    }
}
