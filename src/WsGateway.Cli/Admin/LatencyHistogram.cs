using System.Numerics;

namespace WsGateway.Cli.Admin;

/// <summary>
/// A lock-free histogram of durations in log-linear buckets (four per power of two of nanoseconds, so a value is
/// known within 25 %, HdrHistogram-style), cheap enough to record from the gateway's receive loops. Counts are
/// cumulative; percentiles over a window come from the difference of two <see cref="Snapshot"/>s.
/// </summary>
internal sealed class LatencyHistogram
{
    /// <summary>Buckets: values below 4 ns have one each, then four per power of two up to 2^63 ns.</summary>
    public const int BucketCount = 4 * 63;

    private readonly long[] _counts = new long[BucketCount];

    /// <summary>Adds one duration.</summary>
    public void Record(double seconds)
    {
        double nanoseconds = seconds * 1e9;
        ulong ns = nanoseconds <= 0 ? 0 : nanoseconds >= ulong.MaxValue ? ulong.MaxValue : (ulong)nanoseconds;
        Interlocked.Increment(ref _counts[BucketOf(ns)]);
    }

    /// <summary>Copies the cumulative counts.</summary>
    public long[] Snapshot()
    {
        long[] copy = new long[BucketCount];
        for (int i = 0; i < copy.Length; i++)
        {
            copy[i] = Volatile.Read(ref _counts[i]);
        }

        return copy;
    }

    internal static int BucketOf(ulong ns)
    {
        if (ns < 4)
        {
            return (int)ns;
        }

        int log = BitOperations.Log2(ns);
        int top = (int)(ns >> (log - 2)); // the three leading bits: 4..7
        return Math.Min((4 * log) - 8 + top, BucketCount - 1);
    }

    /// <summary>The largest value, in nanoseconds, that falls in <paramref name="bucket"/>.</summary>
    internal static double UpperBound(int bucket)
    {
        if (bucket < 4)
        {
            return bucket;
        }

        int log = ((bucket - 4) / 4) + 2;
        int top = bucket - (4 * log) + 8;
        return (Math.ScaleB(top + 1, log - 2)) - 1;
    }

    /// <summary>Statistics of <paramref name="now"/> minus <paramref name="before"/> (null: since the start).</summary>
    public static LatencySummary Summarize(long[] now, long[]? before)
    {
        long[] counts = new long[BucketCount];
        long total = 0;
        for (int i = 0; i < BucketCount; i++)
        {
            counts[i] = now[i] - (before?[i] ?? 0);
            total += counts[i];
        }

        if (total == 0)
        {
            return new LatencySummary(0, null, null, null, null);
        }

        return new LatencySummary(total, Percentile(counts, total, 0.50), Percentile(counts, total, 0.90), Percentile(counts, total, 0.99), Percentile(counts, total, 1.0));
    }

    /// <summary>The upper bound, in microseconds, of the bucket holding the <paramref name="quantile"/>.</summary>
    private static double Percentile(long[] counts, long total, double quantile)
    {
        long rank = Math.Max(1, (long)Math.Ceiling(quantile * total));
        long seen = 0;
        for (int i = 0; i < counts.Length; i++)
        {
            seen += counts[i];
            if (seen >= rank)
            {
                return Math.Round(UpperBound(i) / 1000, 3);
            }
        }

        return Math.Round(UpperBound(counts.Length - 1) / 1000, 3);
    }
}

/// <summary>Count and percentiles (upper bounds, in microseconds) of the durations of a window; null when empty.</summary>
internal sealed record LatencySummary(long Count, double? P50, double? P90, double? P99, double? Max);
