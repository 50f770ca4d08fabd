using WsGateway.Cli.Admin;

namespace WsGateway.Cli.Tests.Admin;

public sealed class LatencyHistogramTests
{
    [Theory]
    [InlineData(0UL)]
    [InlineData(3UL)]
    [InlineData(4UL)]
    [InlineData(7UL)]
    [InlineData(8UL)]
    [InlineData(1_000UL)]
    [InlineData(12_345UL)]
    [InlineData(987_654_321UL)]
    [InlineData(ulong.MaxValue / 2)]
    public void A_value_falls_in_a_bucket_whose_upper_bound_is_within_25_percent(ulong ns)
    {
        int bucket = LatencyHistogram.BucketOf(ns);
        double upper = LatencyHistogram.UpperBound(bucket);
        Assert.InRange(upper, ns, Math.Max(ns * 1.25, ns + 1));
        if (bucket > 0)
        {
            Assert.True(LatencyHistogram.UpperBound(bucket - 1) < ns, "the previous bucket ends below the value");
        }
    }

    [Fact]
    public void Buckets_are_monotonic_and_contiguous()
    {
        for (int bucket = 1; bucket < 4 * 50; bucket++) // up to 2^50 ns (13 days), where a double still holds every nanosecond
        {
            double below = LatencyHistogram.UpperBound(bucket - 1);
            Assert.Equal(bucket, LatencyHistogram.BucketOf((ulong)(below + 1)));
            Assert.Equal(bucket, LatencyHistogram.BucketOf((ulong)LatencyHistogram.UpperBound(bucket)));
        }
    }

    [Fact]
    public void Percentiles_of_a_window_are_the_difference_of_two_snapshots()
    {
        var histogram = new LatencyHistogram();
        for (int i = 0; i < 1000; i++)
        {
            histogram.Record(1e-3); // 1 ms, before the window
        }

        long[] start = histogram.Snapshot();
        for (int i = 1; i <= 100; i++)
        {
            histogram.Record(i * 1e-6); // 1..100 µs
        }

        LatencySummary window = LatencyHistogram.Summarize(histogram.Snapshot(), start);
        Assert.Equal(100, window.Count);
        Assert.InRange(window.P50!.Value, 50, 50 * 1.25);
        Assert.InRange(window.P90!.Value, 90, 90 * 1.25);
        Assert.InRange(window.P99!.Value, 99, 99 * 1.25);
        Assert.InRange(window.Max!.Value, 100, 125);

        LatencySummary all = LatencyHistogram.Summarize(histogram.Snapshot(), null);
        Assert.Equal(1100, all.Count);
        Assert.InRange(all.P50!.Value, 1000, 1250);
        Assert.Equal(new LatencySummary(0, null, null, null, null), LatencyHistogram.Summarize(start, start));
    }
}
