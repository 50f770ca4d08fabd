using System.Diagnostics;

namespace WsGateway.LoadBench;

/// <summary>Latency samples as <see cref="Stopwatch"/> ticks in a preallocated array; percentiles by nearest rank
/// over the sorted samples (exact, unlike an HdrHistogram's buckets, and cheap at these sample counts).</summary>
internal sealed class LatencyRecorder
{
    private readonly long[] _ticks;
    private int _count;
    private bool _sorted;

    public LatencyRecorder(int capacity) => _ticks = new long[capacity];

    public int Count => _count;

    /// <summary>How many samples it holds at most.</summary>
    public int Capacity => _ticks.Length;

    public void Record(long ticks)
    {
        if (_count < _ticks.Length)
        {
            _ticks[_count++] = ticks;
            _sorted = false;
        }
    }

    /// <summary>Takes every sample of <paramref name="other"/> (as room allows).</summary>
    public void Add(LatencyRecorder other)
    {
        for (int i = 0; i < other._count; i++)
        {
            Record(other._ticks[i]);
        }
    }

    /// <summary>The latency at <paramref name="percentile"/> (0-100) in microseconds.</summary>
    public double Percentile(double percentile)
    {
        if (_count == 0)
        {
            return double.NaN;
        }

        if (!_sorted)
        {
            Array.Sort(_ticks, 0, _count);
            _sorted = true;
        }

        int rank = (int)Math.Ceiling(percentile / 100 * _count);
        return ToMicroseconds(_ticks[Math.Clamp(rank - 1, 0, _count - 1)]);
    }

    public double Max => Percentile(100);

    private static double ToMicroseconds(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;
}
