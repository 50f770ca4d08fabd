using System.Buffers.Binary;
using System.Text.Unicode;
using WsGateway.Framing;
using WsGateway.Sbe;

namespace WsGateway.Client;

/// <summary>
/// Encodes whole masked client frames (RFC 6455 §5.2, §5.3) into a caller's span: the header from
/// <see cref="FrameWriter.WriteHeader"/>, the payload written in place and then masked in place with
/// <see cref="Masking.Apply(Span{byte}, int, int)"/>. Nothing allocates; the caller sizes the span with
/// <see cref="GetFrameLength"/>.
/// </summary>
internal static class ClientFrameWriter
{
    /// <summary>A single trade's frame: 2-byte header, 4-byte key, 29-byte payload.</summary>
    public const int TradeFrameLength = 6 + Trade.EncodedSize;

    /// <summary>The largest control frame: 2-byte header, 4-byte key, 125-byte payload.</summary>
    public const int MaxControlFrameLength = 6 + FrameReader.MaxControlPayloadLength;

    /// <summary>Length of a masked frame carrying <paramref name="payloadLength"/> bytes.</summary>
    public static long GetFrameLength(long payloadLength) => FrameWriter.GetHeaderLength(payloadLength, masked: true) + payloadLength;

    /// <summary>Writes one trade as a binary frame.</summary>
    /// <returns><see cref="TradeFrameLength"/>.</returns>
    public static int WriteTrade(Span<byte> destination, in Trade trade, int maskKey)
    {
        int header = FrameWriter.WriteHeader(destination, WebSocketOpcode.Binary, fin: true, Trade.EncodedSize, maskKey);
        Span<byte> payload = destination.Slice(header, Trade.EncodedSize);
        trade.Encode(payload);
        Masking.Apply(payload, maskKey, 0);
        return header + Trade.EncodedSize;
    }

    /// <summary>Writes <paramref name="trades"/> back to back as the payload of one binary frame.</summary>
    /// <returns>The frame length.</returns>
    public static int WriteTrades(Span<byte> destination, ReadOnlySpan<Trade> trades, int maskKey)
    {
        int payloadLength = trades.Length * Trade.EncodedSize;
        int header = FrameWriter.WriteHeader(destination, WebSocketOpcode.Binary, fin: true, payloadLength, maskKey);
        Span<byte> payload = destination.Slice(header, payloadLength);
        Trade.EncodeToBuffer(trades, payload);
        Masking.Apply(payload, maskKey, 0);
        return header + payloadLength;
    }

    /// <summary>Writes a frame whose payload is a copy of <paramref name="payload"/>.</summary>
    /// <returns>The frame length.</returns>
    public static int WriteFrame(Span<byte> destination, WebSocketOpcode opcode, ReadOnlySpan<byte> payload, int maskKey)
    {
        int header = FrameWriter.WriteHeader(destination, opcode, fin: true, payload.Length, maskKey);
        Span<byte> masked = destination.Slice(header, payload.Length);
        payload.CopyTo(masked);
        Masking.Apply(masked, maskKey, 0);
        return header + payload.Length;
    }

    /// <summary>
    /// Writes a close frame (§5.5.1): the big-endian <paramref name="code"/> and <paramref name="reason"/> in UTF-8,
    /// cut at a character boundary to fit 125 bytes. <see cref="CloseStatus.NoStatus"/> writes an empty payload.
    /// </summary>
    /// <param name="destination">At least <see cref="MaxControlFrameLength"/> bytes.</param>
    /// <param name="code">The status code.</param>
    /// <param name="reason">The reason, or null.</param>
    /// <param name="maskKey">The frame's masking key.</param>
    /// <returns>The frame length.</returns>
    public static int WriteClose(Span<byte> destination, ushort code, string? reason, int maskKey)
    {
        Span<byte> payload = stackalloc byte[FrameReader.MaxControlPayloadLength];
        int length = 0;
        if (code != CloseStatus.NoStatus)
        {
            BinaryPrimitives.WriteUInt16BigEndian(payload, code);
            length = 2;
            if (!string.IsNullOrEmpty(reason))
            {
                // Transcoding stops before a character that does not fit, so the cut is at a character boundary.
                _ = Utf8.FromUtf16(reason, payload[2..], out _, out int written, replaceInvalidSequences: true, isFinalBlock: true);
                length += written;
            }
        }

        return WriteFrame(destination, WebSocketOpcode.Close, payload[..length], maskKey);
    }
}
