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
    public const int TradeIdOffset = TradeDecoder.TradeIdEncodingOffset;
    public const int SymbolOffset = TradeDecoder.SymbolEncodingOffset;
    public const int PriceOffset = TradeDecoder.PriceEncodingOffset;
    public const int QuantityOffset = TradeDecoder.QuantityEncodingOffset;

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
    /// The common case, decided with one length check and one 8-byte compare: at least 29 bytes and a
    /// header of (blockLength 21, templateId 1, schemaId 1, any version). Such a message is read with
    /// <see cref="ReadMessage"/>; anything else goes to <see cref="TryDecodeSlow"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsPlainTrade(ReadOnlySpan<byte> source)
        => source.Length >= Trade.EncodedSize
        && (BinaryPrimitives.ReadUInt64LittleEndian(source) & HeaderIdentityMask) == HeaderIdentity;

    /// <summary>Reads the fields of a message for which <see cref="IsPlainTrade"/> returned true.</summary>
    /// <remarks>Slicing to exactly <see cref="Trade.BlockLength"/> bytes lets the JIT fold the per-field bounds checks.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Trade ReadMessage(ReadOnlySpan<byte> source) => ReadBlock(source.Slice(MessageHeader.EncodedLength, Trade.BlockLength));

    // The fast paths return the Trade straight from ReadBlock rather than through a local that the
    // slow path also writes: building it in a stack temporary and copying it out cost a
    // store-forwarding stall (16-byte load over four narrower stores), about 5 ns per decode.

    /// <summary>Decodes one message at the start of <paramref name="source"/>; see <see cref="IsPlainTrade"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryDecode(ReadOnlySpan<byte> source, out Trade trade, out int bytesConsumed, out SbeDecodeError error)
    {
        if (IsPlainTrade(source))
        {
            trade = ReadMessage(source);
            bytesConsumed = Trade.EncodedSize;
            error = default;
            return true;
        }

        trade = DecodeSlow(source, out bytesConsumed, out error);
        return !error.IsError;
    }

    /// <summary>Decodes one message or throws <see cref="SbeDecodeException"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Trade Decode(ReadOnlySpan<byte> source)
        => IsPlainTrade(source) ? ReadMessage(source) : DecodeSlow(source);

    /// <summary>
    /// The slow path for callers with an <see langword="out"/> <see cref="Trade"/>: returning the trade by value
    /// (instead of passing the caller's <see langword="out"/> on) keeps the caller's local unexposed, so the
    /// fast path writes it in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Trade DecodeSlow(ReadOnlySpan<byte> source, out int bytesConsumed, out SbeDecodeError error)
    {
        TryDecodeSlow(source, out Trade trade, out bytesConsumed, out error);
        return trade;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Trade DecodeSlow(ReadOnlySpan<byte> source)
    {
        if (!TryDecodeSlow(source, out Trade trade, out _, out SbeDecodeError error))
        {
            ThrowHelper.ThrowSbeDecodeException(error);
        }

        return trade;
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

    /// <summary>The header check of <see cref="Trade.ValidateHeader"/>, on a header already read.</summary>
    public static SbeDecodeError ValidateHeader(in MessageHeader header)
        => Trade.ValidateHeader(header.BlockLength, header.TemplateId, header.SchemaId);

    /// <summary>Why a header is not a Trade's: schema id, then template id, then a block length of at least 21. Off the
    /// hot path: <see cref="Trade.ValidateHeader"/> calls it only for a header that failed its check.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static SbeDecodeError HeaderError(int blockLength, int templateId, int schemaId)
    {
        if (schemaId != Trade.SchemaId)
        {
            return new SbeDecodeError(SbeDecodeStatus.UnknownSchemaId, Trade.SchemaId, schemaId);
        }

        if (templateId != Trade.TemplateId)
        {
            return new SbeDecodeError(SbeDecodeStatus.UnknownTemplateId, Trade.TemplateId, templateId);
        }

        return blockLength < Trade.BlockLength
            ? new SbeDecodeError(SbeDecodeStatus.BlockLengthTooSmall, Trade.BlockLength, blockLength)
            : default;
    }
}
