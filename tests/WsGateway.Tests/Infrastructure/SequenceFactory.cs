using System.Buffers;

namespace WsGateway.Tests.Infrastructure;

/// <summary>Builds multi-segment <see cref="ReadOnlySequence{T}"/> values the way a pipe hands them out.</summary>
internal static class SequenceFactory
{
    /// <summary>
    /// Splits <paramref name="data"/> at the given offsets (ascending, 0..Length; repeats give empty segments).
    /// Every segment is a separate array, so code that reads past a segment end cannot pass by accident.
    /// </summary>
    public static ReadOnlySequence<byte> Split(byte[] data, params int[] cuts)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(cuts);
        if (cuts.Length == 0)
        {
            return new ReadOnlySequence<byte>(data.ToArray());
        }

        Segment? first = null;
        Segment? last = null;
        int start = 0;
        foreach (int cut in cuts.Append(data.Length))
        {
            if (cut < start || cut > data.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(cuts), "Cuts must be ascending and within the data.");
            }

            byte[] piece = data[start..cut];
            if (first is null)
            {
                first = last = new Segment(piece, 0);
            }
            else
            {
                last = last!.Append(piece);
            }

            start = cut;
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    /// <summary>One segment per byte.</summary>
    public static ReadOnlySequence<byte> SplitEveryByte(byte[] data)
        => Split(data, Enumerable.Range(1, Math.Max(0, data.Length - 1)).ToArray());

    /// <summary>Segments of <paramref name="size"/> bytes (the last may be shorter).</summary>
    public static ReadOnlySequence<byte> SplitEvery(byte[] data, int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        var cuts = new List<int>();
        for (int cut = size; cut < data.Length; cut += size)
        {
            cuts.Add(cut);
        }

        return Split(data, cuts.ToArray());
    }

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
