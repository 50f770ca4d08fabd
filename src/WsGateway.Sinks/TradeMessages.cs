using System.Buffers.Binary;
using WsGateway.Sbe;

namespace WsGateway.Sinks;

/// <summary>Reads what a sink needs from an SBE trade message as it arrived, without decoding the rest.</summary>
public static class TradeMessages
{
    private const int TradeIdAt = MessageHeader.EncodedLength + TradeDecoder.TradeIdEncodingOffset;

    /// <summary>The trade id of one whole SBE <c>Trade</c> message (header included): the key sinks deduplicate on.</summary>
    /// <param name="message">The message's bytes, as in a <see cref="TradeBatch"/>.</param>
    /// <returns>The trade id.</returns>
    public static ulong TradeId(ReadOnlySpan<byte> message) => BinaryPrimitives.ReadUInt64LittleEndian(message[TradeIdAt..]);
}
