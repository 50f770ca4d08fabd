using System.Buffers.Binary;

namespace WsGateway.Sbe;

/// <summary>
/// The gateway's acknowledgement to a client (SBE message <c>TradeAck</c> of schemas/trade.xml, template id 2): the
/// first <see cref="Count"/> trades the client sent on this connection are durably stored by the gateway's sink, the
/// last of them being <see cref="LastTradeId"/>, and <see cref="Duplicates"/> of them the sink already held when they
/// came (a resend after a reconnect, a re-run with the same trade ids). Counts are cumulative per connection, so an
/// acknowledgement replaces the previous one; they start again from zero on a new connection.
/// </summary>
/// <remarks>
/// <code>
/// message  offset  size  field                         (schemas/trade.xml, version 1)
///    0        -     8    messageHeader  blockLength=24 templateId=2 schemaId=1 version=1
///    8        0     8    lastTradeId    uint64
///   16        8     8    count          uint64
///   24       16     8    duplicates     uint64, since version 1; 2^64-1 (null): the sink cannot tell
///   32                   end
/// </code>
/// <para>A gateway of schema version 0 sends the first 24 bytes only (blockLength 16, version 0): <see cref="TryDecode"/>
/// accepts it and gives <see cref="Duplicates"/> = <see langword="null"/> (unknown), reading nothing past the block.
/// A version-0 reader (blockLength ≥ 16, any version) reads this version's acknowledgements as before and skips the
/// new field by the header's block length.</para>
/// </remarks>
/// <param name="LastTradeId">Trade id of the last trade of the acknowledged prefix.</param>
/// <param name="Count">How many trades of the connection, counted from its first, are stored.</param>
/// <param name="Duplicates">How many of those <paramref name="Count"/> trades the sink already held when they came;
/// <see langword="null"/> when the sink cannot tell (Kafka) or the gateway is older than schema version 1.</param>
public readonly record struct TradeAck(ulong LastTradeId, ulong Count, ulong? Duplicates)
{
    /// <summary>Size of an encoded acknowledgement, header included: 32 bytes.</summary>
    public const int EncodedSize = MessageHeader.EncodedLength + TradeAckEncoder.SbeBlockLength;

    /// <summary>Size of a schema version 0 acknowledgement (no <see cref="Duplicates"/>), header included: 24 bytes;
    /// the shortest message <see cref="TryDecode"/> accepts.</summary>
    public const int Version0EncodedSize = MessageHeader.EncodedLength + Version0BlockLength;

    private const int Version0BlockLength = 16;

    /// <summary>An acknowledgement that does not say how many were duplicates (<see cref="Duplicates"/> null).</summary>
    /// <param name="lastTradeId">Trade id of the last trade of the acknowledged prefix.</param>
    /// <param name="count">How many trades of the connection, counted from its first, are stored.</param>
    public TradeAck(ulong lastTradeId, ulong count)
        : this(lastTradeId, count, null)
    {
    }

    /// <summary>Deconstructs the two fields of schema version 0.</summary>
    /// <param name="lastTradeId">Receives <see cref="LastTradeId"/>.</param>
    /// <param name="count">Receives <see cref="Count"/>.</param>
    public void Deconstruct(out ulong lastTradeId, out ulong count)
    {
        lastTradeId = LastTradeId;
        count = Count;
    }

    /// <summary>Writes the header and block into the first <see cref="EncodedSize"/> bytes of
    /// <paramref name="destination"/>.</summary>
    /// <param name="destination">At least <see cref="EncodedSize"/> bytes.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="destination"/> is too short.</exception>
    public void Encode(Span<byte> destination)
    {
        TradeAckEncoder encoder = default(TradeAckEncoder).WrapAndApplyHeader(destination, 0);
        encoder.LastTradeId = LastTradeId;
        encoder.Count = Count;
        encoder.Duplicates = Duplicates ?? TradeAckEncoder.DuplicatesNullValue;
    }

    /// <summary>Reads an acknowledgement: <see langword="true"/> when <paramref name="source"/> holds a whole
    /// <c>TradeAck</c> (template id 2, schema id 1, block length 16 or more, any version, at least
    /// <see cref="Version0EncodedSize"/> bytes); <see langword="false"/> for anything else, such as another message.
    /// <see cref="Duplicates"/> is read only from a block of version 1 or later that is long enough to hold it.</summary>
    /// <param name="source">One whole message as received.</param>
    /// <param name="ack">The acknowledgement when the result is <see langword="true"/>.</param>
    /// <returns>Whether <paramref name="source"/> is a <c>TradeAck</c>.</returns>
    public static bool TryDecode(ReadOnlySpan<byte> source, out TradeAck ack)
    {
        ack = default;
        if (source.Length < Version0EncodedSize)
        {
            return false;
        }

        ushort blockLength = BinaryPrimitives.ReadUInt16LittleEndian(source[MessageHeader.BlockLengthOffset..]);
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(source[MessageHeader.VersionOffset..]);
        if (BinaryPrimitives.ReadUInt16LittleEndian(source[MessageHeader.TemplateIdOffset..]) != TradeAckDecoder.SbeTemplateId
            || BinaryPrimitives.ReadUInt16LittleEndian(source[MessageHeader.SchemaIdOffset..]) != TradeAckDecoder.SbeSchemaId
            || blockLength < Version0BlockLength
            || source.Length < MessageHeader.EncodedLength + blockLength)
        {
            return false;
        }

        ReadOnlySpan<byte> block = source.Slice(MessageHeader.EncodedLength, blockLength);
        ulong? duplicates = null;
        if (version >= TradeAckDecoder.DuplicatesSinceVersion
            && blockLength >= TradeAckDecoder.DuplicatesEncodingOffset + TradeAckDecoder.DuplicatesEncodingLength)
        {
            ulong raw = BinaryPrimitives.ReadUInt64LittleEndian(block[TradeAckDecoder.DuplicatesEncodingOffset..]);
            duplicates = raw == TradeAckDecoder.DuplicatesNullValue ? null : raw;
        }

        ack = new TradeAck(
            BinaryPrimitives.ReadUInt64LittleEndian(block[TradeAckDecoder.LastTradeIdEncodingOffset..]),
            BinaryPrimitives.ReadUInt64LittleEndian(block[TradeAckDecoder.CountEncodingOffset..]),
            duplicates);
        return true;
    }
}
