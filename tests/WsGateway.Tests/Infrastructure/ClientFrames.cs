using System.Buffers.Binary;
using System.Text;

namespace WsGateway.Tests.Infrastructure;

/// <summary>
/// Builds client-to-server frames byte by byte, independently of the gateway's own framing code, so that tests can
/// send exactly what a conformance case needs, including frames no correct client would send.
/// </summary>
public static class ClientFrames
{
    public const byte Continuation = 0x0;
    public const byte Text = 0x1;
    public const byte Binary = 0x2;
    public const byte Close = 0x8;
    public const byte Ping = 0x9;
    public const byte Pong = 0xA;

    private static readonly byte[] s_defaultMask = [0x37, 0xfa, 0x21, 0x3d];

    /// <summary>A frame: FIN, RSV bits, opcode, masked with a fixed key unless <paramref name="masked"/> is false.</summary>
    public static byte[] Frame(byte opcode, ReadOnlySpan<byte> payload, bool fin = true, byte rsv = 0, bool masked = true, byte[]? mask = null)
    {
        mask ??= s_defaultMask;
        int lengthBytes = payload.Length <= 125 ? 0 : payload.Length <= ushort.MaxValue ? 2 : 8;
        byte[] frame = new byte[2 + lengthBytes + (masked ? 4 : 0) + payload.Length];
        frame[0] = (byte)((fin ? 0x80 : 0) | ((rsv & 0x7) << 4) | (opcode & 0xF));
        int pos = 2;
        if (lengthBytes == 0)
        {
            frame[1] = (byte)payload.Length;
        }
        else if (lengthBytes == 2)
        {
            frame[1] = 126;
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)payload.Length);
            pos = 4;
        }
        else
        {
            frame[1] = 127;
            BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(2), (ulong)payload.Length);
            pos = 10;
        }

        if (masked)
        {
            frame[1] |= 0x80;
            mask.CopyTo(frame, pos);
            pos += 4;
            for (int i = 0; i < payload.Length; i++)
            {
                frame[pos + i] = (byte)(payload[i] ^ mask[i & 3]);
            }
        }
        else
        {
            payload.CopyTo(frame.AsSpan(pos));
        }

        return frame;
    }

    public static byte[] TextFrame(string text, bool fin = true) => Frame(Text, Encoding.UTF8.GetBytes(text), fin);

    public static byte[] BinaryFrame(ReadOnlySpan<byte> payload, bool fin = true) => Frame(Binary, payload, fin);

    public static byte[] CloseFrame(ushort code, string reason = "")
    {
        byte[] payload = new byte[2 + Encoding.UTF8.GetByteCount(reason)];
        BinaryPrimitives.WriteUInt16BigEndian(payload, code);
        Encoding.UTF8.GetBytes(reason, payload.AsSpan(2));
        return Frame(Close, payload);
    }

    /// <summary>Only the header of a frame, for frames whose payload is never sent.</summary>
    public static byte[] Header(byte opcode, long payloadLength, bool fin = true)
    {
        byte[] header = new byte[14];
        header[0] = (byte)((fin ? 0x80 : 0) | (opcode & 0xF));
        header[1] = 0x80 | 127;
        BinaryPrimitives.WriteUInt64BigEndian(header.AsSpan(2), (ulong)payloadLength);
        s_defaultMask.CopyTo(header, 10);
        return header;
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    /// <summary>A valid 29-byte SBE Trade message, written out field by field.</summary>
    public static byte[] Trade(ulong tradeId, byte symbol = (byte)'B', double price = 100.5, uint quantity = 1000)
    {
        byte[] m = new byte[29];
        BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(0), 21);
        BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(2), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(6), 0);
        BinaryPrimitives.WriteUInt64LittleEndian(m.AsSpan(8), tradeId);
        m[16] = symbol;
        BinaryPrimitives.WriteDoubleLittleEndian(m.AsSpan(17), price);
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(25), quantity);
        return m;
    }

    public static byte[] Trades(ulong firstId, int count)
    {
        byte[] all = new byte[29 * count];
        for (int i = 0; i < count; i++)
        {
            Trade(firstId + (ulong)i, quantity: (uint)(i + 1)).CopyTo(all, 29 * i);
        }

        return all;
    }
}
