using System.Buffers.Binary;

namespace WsGateway.Sinks.Tests.Infrastructure;

/// <summary>Trades as a version-1 producer sends them: 4 bytes appended to the block (blockLength 25), so each message
/// is 33 bytes. Sinks must store them whole, as they arrived.</summary>
internal static class NewerVersionTrades
{
    public const int MessageSize = 33;

    /// <summary><paramref name="count"/> messages end to end, trade ids from <paramref name="firstId"/>, the appended
    /// field <c>0xCAFEBABE + i</c>.</summary>
    public static byte[] Encode(int count, ulong firstId)
    {
        byte[] messages = new byte[count * MessageSize];
        for (int i = 0; i < count; i++)
        {
            Span<byte> m = messages.AsSpan(i * MessageSize, MessageSize);
            BinaryPrimitives.WriteUInt16LittleEndian(m, 25);
            BinaryPrimitives.WriteUInt16LittleEndian(m[2..], 1);
            BinaryPrimitives.WriteUInt16LittleEndian(m[4..], 1);
            BinaryPrimitives.WriteUInt16LittleEndian(m[6..], 1);
            BinaryPrimitives.WriteUInt64LittleEndian(m[8..], firstId + (ulong)i);
            m[16] = (byte)'Q';
            BinaryPrimitives.WriteDoubleLittleEndian(m[17..], 9.5);
            BinaryPrimitives.WriteUInt32LittleEndian(m[25..], 3);
            BinaryPrimitives.WriteUInt32LittleEndian(m[29..], 0xCAFEBABE + (uint)i);
        }

        return messages;
    }
}
