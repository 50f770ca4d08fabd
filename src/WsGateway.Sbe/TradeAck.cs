using System.Buffers.Binary;

namespace WsGateway.Sbe;

/// <summary>
/// The gateway's acknowledgement to a client (SBE message <c>TradeAck</c> of schemas/trade.xml, template id 2): the
/// first <see cref="Count"/> trades the client sent on this connection are durably stored by the gateway's sink, the
/// last of them being <see cref="LastTradeId"/>. Counts are cumulative per connection, so an acknowledgement replaces
/// the previous one; they start again from zero on a new connection.
/// </summary>
/// <remarks>
/// <code>
/// message  offset  size  field                         (schemas/trade.xml)
///    0        -     8    messageHeader  blockLength=16 templateId=2 schemaId=1 version=0
///    8        0     8    lastTradeId    uint64
///   16        8     8    count          uint64
///   24                   end
/// </code>
/// </remarks>
/// <param name="LastTradeId">Trade id of the last trade of the acknowledged prefix.</param>
/// <param name="Count">How many trades of the connection, counted from its first, are stored.</param>
public readonly record struct TradeAck(ulong LastTradeId, ulong Count)
{
    /// <summary>Size of an encoded acknowledgement, header included: 24 bytes.</summary>
    public const int EncodedSize = MessageHeader.EncodedLength + TradeAckEncoder.SbeBlockLength;

    /// <summary>Writes the header and block into the first <see cref="EncodedSize"/> bytes of
    /// <paramref name="destination"/>.</summary>
    /// <param name="destination">At least <see cref="EncodedSize"/> bytes.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="destination"/> is too short.</exception>
    public void Encode(Span<byte> destination)
    {
        TradeAckEncoder encoder = default(TradeAckEncoder).WrapAndApplyHeader(destination, 0);
        encoder.LastTradeId = LastTradeId;
        encoder.Count = Count;
    }

    /// <summary>Reads an acknowledgement: <see langword="true"/> when <paramref name="source"/> holds at least
    /// <see cref="EncodedSize"/> bytes with a <c>TradeAck</c> header (block length 16 or more, template id 2, schema id
    /// 1, any version); <see langword="false"/> for anything else, such as another message.</summary>
    /// <param name="source">One whole message as received.</param>
    /// <param name="ack">The acknowledgement when the result is <see langword="true"/>.</param>
    /// <returns>Whether <paramref name="source"/> is a <c>TradeAck</c>.</returns>
    public static bool TryDecode(ReadOnlySpan<byte> source, out TradeAck ack)
    {
        ack = default;
        if (source.Length < EncodedSize)
        {
            return false;
        }

        ushort blockLength = BinaryPrimitives.ReadUInt16LittleEndian(source[MessageHeader.BlockLengthOffset..]);
        if (BinaryPrimitives.ReadUInt16LittleEndian(source[MessageHeader.TemplateIdOffset..]) != TradeAckDecoder.SbeTemplateId
            || BinaryPrimitives.ReadUInt16LittleEndian(source[MessageHeader.SchemaIdOffset..]) != TradeAckDecoder.SbeSchemaId
            || blockLength < TradeAckDecoder.SbeBlockLength
            || source.Length < MessageHeader.EncodedLength + blockLength)
        {
            return false;
        }

        TradeAckDecoder decoder = default(TradeAckDecoder).WrapForDecode(
            source, MessageHeader.EncodedLength, blockLength, BinaryPrimitives.ReadUInt16LittleEndian(source[MessageHeader.VersionOffset..]));
        ack = new TradeAck(decoder.LastTradeId, decoder.Count);
        return true;
    }
}
