using System.Buffers.Binary;
using WsGateway.Sbe;

namespace WsGateway.LoadBench;

/// <summary>
/// Client-to-server frames built once, before anything is timed: binary frames carrying SBE trades, masked with a
/// fixed key (RFC 6455 §5.3 wants an unpredictable key against proxy cache poisoning; the benchmark measures the
/// server on loopback, so the load generator does no per-frame work), and the close frame.
/// </summary>
internal static class Frames
{
    private const uint MaskKey = 0x3D21FA37;

    /// <summary>The masked close frame with status 1000.</summary>
    public static byte[] Close { get; } = BuildClose();

    /// <summary>The size of one frame carrying <paramref name="tradesPerFrame"/> trades.</summary>
    public static int FrameSize(int tradesPerFrame)
    {
        int payload = tradesPerFrame * Trade.EncodedSize;
        return HeaderSize(payload) + 4 + payload;
    }

    /// <summary><paramref name="frameCount"/> binary frames back to back, each holding
    /// <paramref name="tradesPerFrame"/> trades (trade ids counting up from <paramref name="firstTradeId"/>).</summary>
    public static byte[] Build(int tradesPerFrame, int frameCount, ulong firstTradeId = 1)
    {
        int payloadLength = tradesPerFrame * Trade.EncodedSize;
        int frameSize = FrameSize(tradesPerFrame);
        byte[] frames = new byte[frameSize * frameCount];
        ulong tradeId = firstTradeId;
        for (int f = 0; f < frameCount; f++)
        {
            Span<byte> frame = frames.AsSpan(f * frameSize, frameSize);
            int offset = WriteHeader(frame, 0x82, payloadLength);
            Span<byte> payload = frame.Slice(offset, payloadLength);
            for (int t = 0; t < tradesPerFrame; t++)
            {
                new Trade(tradeId, (byte)('A' + (int)(tradeId % 26)), 100.25 + (tradeId % 100), (uint)(tradeId % 1000) + 1).Encode(payload.Slice(t * Trade.EncodedSize));
                tradeId++;
            }

            Mask(payload);
        }

        return frames;
    }

    private static byte[] BuildClose()
    {
        byte[] frame = new byte[2 + 4 + 2];
        int offset = WriteHeader(frame, 0x88, 2);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(offset), 1000);
        Mask(frame.AsSpan(offset));
        return frame;
    }

    private static int HeaderSize(int payloadLength) => payloadLength < 126 ? 2 : payloadLength <= ushort.MaxValue ? 4 : 10;

    private static int WriteHeader(Span<byte> frame, byte first, int payloadLength)
    {
        frame[0] = first; // FIN + opcode
        int offset;
        if (payloadLength < 126)
        {
            frame[1] = (byte)(0x80 | payloadLength);
            offset = 2;
        }
        else if (payloadLength <= ushort.MaxValue)
        {
            frame[1] = 0x80 | 126;
            BinaryPrimitives.WriteUInt16BigEndian(frame.Slice(2), (ushort)payloadLength);
            offset = 4;
        }
        else
        {
            frame[1] = 0x80 | 127;
            BinaryPrimitives.WriteUInt64BigEndian(frame.Slice(2), (ulong)payloadLength);
            offset = 10;
        }

        BinaryPrimitives.WriteUInt32BigEndian(frame.Slice(offset), MaskKey);
        return offset + 4;
    }

    private static void Mask(Span<byte> payload)
    {
        Span<byte> key = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(key, MaskKey);
        for (int i = 0; i < payload.Length; i++)
        {
            payload[i] ^= key[i & 3];
        }
    }
}

/// <summary>Finds the next complete server-to-client (unmasked) frame in a buffer.</summary>
internal static class FrameScanner
{
    /// <summary>Tries to read one frame header at the start of <paramref name="buffer"/>.</summary>
    /// <returns>False when the frame is not complete in the buffer yet.</returns>
    public static bool TryRead(ReadOnlySpan<byte> buffer, out int opcode, out int frameLength)
    {
        opcode = 0;
        frameLength = 0;
        if (buffer.Length < 2)
        {
            return false;
        }

        opcode = buffer[0] & 0x0F;
        int length7 = buffer[1] & 0x7F;
        int headerLength = (buffer[1] & 0x80) != 0 ? 4 : 0;
        long payload;
        if (length7 < 126)
        {
            headerLength += 2;
            payload = length7;
        }
        else if (length7 == 126)
        {
            headerLength += 4;
            if (buffer.Length < 4)
            {
                return false;
            }

            payload = BinaryPrimitives.ReadUInt16BigEndian(buffer.Slice(2));
        }
        else
        {
            headerLength += 10;
            if (buffer.Length < 10)
            {
                return false;
            }

            payload = (long)BinaryPrimitives.ReadUInt64BigEndian(buffer.Slice(2));
        }

        long total = headerLength + payload;
        if (buffer.Length < total)
        {
            return false;
        }

        frameLength = (int)total;
        return true;
    }
}
