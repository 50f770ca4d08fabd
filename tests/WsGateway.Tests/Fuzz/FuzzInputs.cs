using System.Buffers.Binary;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using WsGateway.Tests.Infrastructure;

namespace WsGateway.Tests.Fuzz;

/// <summary>One data or control frame of a generated client stream.</summary>
public enum FrameKind
{
    Trade,
    Batch,
    Fragmented,
    Ping,
    Pong,
    LargeUndecodable,
    Text,
}

/// <summary>A frame to generate: its kind, a size parameter and a mask key.</summary>
public sealed record FrameSpec(FrameKind Kind, int Size, int MaskSeed);

/// <summary>A change made to a valid stream: where (a fraction of the length, or a frame's header) and how.</summary>
public enum MutationKind
{
    FlipBit,
    OverwriteByte,
    Truncate,
    InsertBytes,
    DeleteBytes,
    HeaderOpcode,
    HeaderRsv,
    HeaderMaskBit,
    HeaderLength,
}

/// <summary>One mutation; <see cref="Where"/> and <see cref="Value"/> are reduced modulo what they index.</summary>
public sealed record Mutation(MutationKind Kind, int Where, int Value);

/// <summary>A generated client stream: the frames, the mutations, how the bytes are cut into writes, and whether
/// the stream ends with a close frame.</summary>
public sealed record StreamCase(FrameSpec[] Frames, Mutation[] Mutations, int Chunk, bool EndWithClose)
{
    public override string ToString()
        => $"frames=[{string.Join(", ", Frames.Select(f => $"{f.Kind}:{f.Size}"))}] mutations=[{string.Join(", ", Mutations.Select(m => $"{m.Kind}@{m.Where}={m.Value}"))}] chunk={Chunk} close={EndWithClose}";
}

/// <summary>FsCheck generators for the fuzz tests, and the byte streams built from what they generate.</summary>
internal static class FuzzInputs
{
    public static Gen<FrameSpec> Frame(bool withText) =>
        from kind in withText ? Gen.Elements(Enum.GetValues<FrameKind>()) : Gen.Elements(Enum.GetValues<FrameKind>().Where(k => k != FrameKind.Text).ToArray())
        from size in Gen.Choose(1, 40)
        from mask in Gen.Choose(0, int.MaxValue)
        select new FrameSpec(kind, size, mask);

    public static Gen<Mutation> MutationGen =>
        from kind in Gen.Elements(Enum.GetValues<MutationKind>())
        from at in Gen.Choose(0, int.MaxValue)
        from value in Gen.Choose(0, int.MaxValue)
        select new Mutation(kind, at, value);

    public static Arbitrary<StreamCase> ValidStreams =>
        (from frames in Gen.ListOf(Frame(withText: false)).Select(l => l.Take(30).ToArray())
         from chunk in Gen.Elements(0, 0, 1, 2, 3, 7, 13, 64, 1000)
         select new StreamCase(frames, [], chunk, true)).ToArbitrary();

    public static Arbitrary<StreamCase> MutatedStreams =>
        (from frames in Gen.NonEmptyListOf(Frame(withText: true)).Select(l => l.Take(12).ToArray())
         from mutations in Gen.NonEmptyListOf(MutationGen).Select(l => l.Take(4).ToArray())
         from chunk in Gen.Elements(0, 1, 3, 16, 4096)
         from close in Gen.Elements(true, false)
         select new StreamCase(frames, mutations, chunk, close)).ToArbitrary();

    /// <summary>The bytes of a case, the start offset of every frame, and the trade ids in stream order.</summary>
    public static (byte[] Bytes, List<int> FrameStarts, List<ulong> TradeIds, int Undecodable) Build(StreamCase c)
    {
        var bytes = new List<byte>();
        var starts = new List<int>();
        var ids = new List<ulong>();
        int undecodable = 0;
        ulong next = 0;
        foreach (FrameSpec f in c.Frames)
        {
            byte[] mask = BitConverter.GetBytes(f.MaskSeed);
            starts.Add(bytes.Count);
            switch (f.Kind)
            {
                case FrameKind.Trade:
                    ids.Add(next);
                    bytes.AddRange(ClientFrames.Frame(ClientFrames.Binary, ClientFrames.Trade(next++), mask: mask));
                    break;
                case FrameKind.Batch:
                    int count = 1 + (f.Size % 20);
                    ids.AddRange(Enumerable.Range(0, count).Select(i => next + (ulong)i));
                    bytes.AddRange(ClientFrames.Frame(ClientFrames.Binary, ClientFrames.Trades(next, count), mask: mask));
                    next += (ulong)count;
                    break;
                case FrameKind.Fragmented:
                    byte[] message = ClientFrames.Trades(next, 1 + (f.Size % 5));
                    ids.AddRange(Enumerable.Range(0, message.Length / 29).Select(i => next + (ulong)i));
                    next += (ulong)(message.Length / 29);
                    int cut1 = 1 + (f.Size % (message.Length - 1));
                    int cut2 = cut1 + ((message.Length - cut1) / 2);
                    bytes.AddRange(ClientFrames.Frame(ClientFrames.Binary, message.AsSpan(0, cut1), fin: false, mask: mask));
                    starts.Add(bytes.Count);
                    bytes.AddRange(ClientFrames.Frame(ClientFrames.Continuation, message.AsSpan(cut1, cut2 - cut1), fin: false, mask: mask));
                    starts.Add(bytes.Count);
                    bytes.AddRange(ClientFrames.Frame(ClientFrames.Continuation, message.AsSpan(cut2), fin: true, mask: mask));
                    break;
                case FrameKind.Ping:
                    bytes.AddRange(ClientFrames.Frame(ClientFrames.Ping, new byte[f.Size % 126], mask: mask));
                    break;
                case FrameKind.Pong:
                    bytes.AddRange(ClientFrames.Frame(ClientFrames.Pong, new byte[f.Size % 10], mask: mask));
                    break;
                case FrameKind.LargeUndecodable:
                    // Larger than the 16 KiB wait-whole limit, so it is streamed; template id 999 never decodes.
                    byte[] large = new byte[16 * 1024 + (f.Size * 97)];
                    BinaryPrimitives.WriteUInt16LittleEndian(large.AsSpan(2), 999);
                    undecodable++;
                    bytes.AddRange(ClientFrames.Frame(ClientFrames.Binary, large, mask: mask));
                    break;
                case FrameKind.Text:
                    bytes.AddRange(ClientFrames.Frame(ClientFrames.Text, Encoding.UTF8.GetBytes(new string('x', f.Size)), mask: mask));
                    break;
            }
        }

        if (c.EndWithClose)
        {
            starts.Add(bytes.Count);
            bytes.AddRange(ClientFrames.CloseFrame(1000));
        }

        byte[] data = bytes.ToArray();
        foreach (Mutation m in c.Mutations)
        {
            data = Apply(data, starts, m);
        }

        return (data, starts, ids, undecodable);
    }

    private static byte[] Apply(byte[] data, List<int> starts, Mutation m)
    {
        if (data.Length == 0)
        {
            return data;
        }

        int pos = m.Where % data.Length;
        int header = starts.Count == 0 ? 0 : Math.Min(starts[m.Where % starts.Count], data.Length - 1);
        byte[] copy = (byte[])data.Clone();
        switch (m.Kind)
        {
            case MutationKind.FlipBit:
                copy[pos] ^= (byte)(1 << (m.Value % 8));
                return copy;
            case MutationKind.OverwriteByte:
                copy[pos] = (byte)m.Value;
                return copy;
            case MutationKind.Truncate:
                return data[..pos];
            case MutationKind.InsertBytes:
                byte[] noise = new byte[1 + (m.Value % 16)];
                new Random(m.Value).NextBytes(noise);
                return [.. data[..pos], .. noise, .. data[pos..]];
            case MutationKind.DeleteBytes:
                return [.. data[..pos], .. data[Math.Min(data.Length, pos + 1 + (m.Value % 8))..]];
            case MutationKind.HeaderOpcode:
                copy[header] = (byte)((copy[header] & 0xF0) | (m.Value & 0x0F));
                return copy;
            case MutationKind.HeaderRsv:
                copy[header] = (byte)((copy[header] & 0x8F) | ((m.Value % 7 + 1) << 4));
                return copy;
            case MutationKind.HeaderMaskBit:
                if (header + 1 < copy.Length)
                {
                    copy[header + 1] ^= 0x80;
                }

                return copy;
            default:
                if (header + 1 < copy.Length)
                {
                    copy[header + 1] = (byte)((copy[header + 1] & 0x80) | (m.Value & 0x7F));
                }

                return copy;
        }
    }
}
