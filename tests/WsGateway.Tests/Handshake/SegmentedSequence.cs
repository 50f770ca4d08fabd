using System.Buffers;

namespace WsGateway.Tests.Handshake;

/// <summary>
/// Builds a multi-segment <see cref="ReadOnlySequence{T}"/> from one array cut at given offsets, the way
/// pooled pipe buffers hand a request over in pieces. Local to the handshake tests until the shared
/// Infrastructure factory lands.
/// </summary>
internal static class SegmentedSequence
{
    /// <summary>Splits <paramref name="data"/> at each of <paramref name="cuts"/> (ascending, 0..Length; duplicates give empty segments).</summary>
    public static ReadOnlySequence<byte> Create(byte[] data, params int[] cuts)
    {
        var first = new Segment(data.AsMemory(0, cuts.Length == 0 ? data.Length : cuts[0]), 0);
        Segment last = first;
        for (int i = 0; i < cuts.Length; i++)
        {
            int start = cuts[i];
            int end = i + 1 < cuts.Length ? cuts[i + 1] : data.Length;
            last = last.Append(data.AsMemory(start, end - start));
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>One segment per byte.</summary>
    public static ReadOnlySequence<byte> ByteByByte(byte[] data)
        => Create(data, Enumerable.Range(1, Math.Max(0, data.Length - 1)).ToArray());

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
