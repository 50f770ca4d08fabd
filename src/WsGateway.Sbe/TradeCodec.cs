using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace WsGateway.Sbe;

/// <summary>
/// The Trade wire layout and the primitive reads and writes shared by <see cref="Trade"/>,
/// <see cref="TradeEncoder"/>, <see cref="TradeDecoder"/> and <see cref="TradeBatchReader"/>.
/// </summary>
/// <remarks>
/// <code>
/// message  offset  size  field                         (schemas/trade.xml)
///    0        -     8    messageHeader  blockLength=21 templateId=1 schemaId=1 version=0
///    8        0     8    tradeId        uint64
///   16        8     1    symbol         char (ASCII)
///   17        9     8    price          double (IEEE 754 binary64)
///   25       17     4    quantity       uint32
///   29                   end (no padding)
/// </code>
/// All little-endian. "offset" is relative to the root block, as in the schema.
/// </remarks>
internal static class TradeCodec
{
    public const int TradeIdOffset = 0;
    public const int SymbolOffset = 8;
    public const int PriceOffset = 9;
    public const int QuantityOffset = 17;

    /// <summary>Masks the version out of the header read as one little-endian uint64.</summary>
    public const ulong HeaderIdentityMask = 0x0000_FFFF_FFFF_FFFF;

    /// <summary>blockLength 21, templateId 1, schemaId 1 as the low 48 bits of the header.</summary>
    public const ulong HeaderIdentity =
        Trade.BlockLength | ((ulong)Trade.TemplateId << 16) | ((ulong)Trade.SchemaId << 32);

    /// <summary>The header this codec writes: (21, 1, 1, 0).</summary>
    public const ulong Header = HeaderIdentity | ((ulong)Trade.SchemaVersion << 48);

    /// <summary>Reads the four fields from a root block of at least <see cref="Trade.BlockLength"/> bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Trade ReadBlock(ReadOnlySpan<byte> block) => new(
        BinaryPrimitives.ReadUInt64LittleEndian(block),
        block[SymbolOffset],
        BinaryPrimitives.ReadDoubleLittleEndian(block[PriceOffset..]),
        BinaryPrimitives.ReadUInt32LittleEndian(block[QuantityOffset..]));

    /// <summary>Writes the four fields into a root block of at least <see cref="Trade.BlockLength"/> bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteBlock(in Trade trade, Span<byte> block)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(block, trade.TradeId);
        block[SymbolOffset] = trade.Symbol;
        BinaryPrimitives.WriteDoubleLittleEndian(block[PriceOffset..], trade.Price);
        BinaryPrimitives.WriteUInt32LittleEndian(block[QuantityOffset..], trade.Quantity);
    }

    /// <summary>Writes header and block into at least <see cref="Trade.EncodedSize"/> bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteMessage(in Trade trade, Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, Header);
        WriteBlock(trade, destination[MessageHeader.EncodedLength..]);
    }

    /// <summary>
    /// Decodes one message at the start of <paramref name="source"/>. The common case (a version 0
    /// header and 29 or more bytes) is one length check and one 8-byte compare; everything else goes
    /// to <see cref="TryDecodeSlow"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryDecode(ReadOnlySpan<byte> source, out Trade trade, out int bytesConsumed, out SbeDecodeError error)
    {
        if (source.Length >= Trade.EncodedSize
            && (BinaryPrimitives.ReadUInt64LittleEndian(source) & HeaderIdentityMask) == HeaderIdentity)
        {
            trade = ReadBlock(source[MessageHeader.EncodedLength..]);
            bytesConsumed = Trade.EncodedSize;
            error = default;
            return true;
        }

        return TryDecodeSlow(source, out trade, out bytesConsumed, out error);
    }

    /// <summary>Short input, a header that must be validated field by field, or a longer (extended) block.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static bool TryDecodeSlow(ReadOnlySpan<byte> source, out Trade trade, out int bytesConsumed, out SbeDecodeError error)
    {
        trade = default;
        bytesConsumed = 0;
        if (!MessageHeader.TryRead(source, out MessageHeader header))
        {
            error = new SbeDecodeError(SbeDecodeStatus.InsufficientData, Trade.EncodedSize, source.Length);
            return false;
        }

        error = ValidateHeader(header);
        if (error.IsError)
        {
            return false;
        }

        int length = MessageHeader.EncodedLength + header.BlockLength;
        if (source.Length < length)
        {
            error = new SbeDecodeError(SbeDecodeStatus.InsufficientData, length, source.Length);
            return false;
        }

        // A newer schema version may have appended fields: read the known ones, skip the rest.
        trade = ReadBlock(source[MessageHeader.EncodedLength..]);
        bytesConsumed = length;
        return true;
    }

    /// <summary>Schema id, then template id, then a block length of at least 21. Version is not checked (any version may extend).</summary>
    public static SbeDecodeError ValidateHeader(in MessageHeader header)
    {
        if (header.SchemaId != Trade.SchemaId)
        {
            return new SbeDecodeError(SbeDecodeStatus.UnknownSchemaId, Trade.SchemaId, header.SchemaId);
        }

        if (header.TemplateId != Trade.TemplateId)
        {
            return new SbeDecodeError(SbeDecodeStatus.UnknownTemplateId, Trade.TemplateId, header.TemplateId);
        }

        if (header.BlockLength < Trade.BlockLength)
        {
            return new SbeDecodeError(SbeDecodeStatus.BlockLengthTooSmall, Trade.BlockLength, header.BlockLength);
        }

        return default;
    }
}
