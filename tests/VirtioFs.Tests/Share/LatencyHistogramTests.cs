using Xunit;
using VirtioFs.Backend.Share;

namespace VirtioFs.Tests.Share;

public sealed class LatencyHistogramTests
{
    [Fact]
    public void EmptyHistogramReportsZero() => Assert.Equal(0, new LatencyHistogram().Percentile(0.5));

    [Fact]
    public void PercentilesAreWithinTheBucketPrecision()
    {
        var h = new LatencyHistogram();
        for (int i = 1; i <= 1000; i++) h.Record(i * 1000L);   // 1 µs .. 1 ms, uniform
        long p50 = h.Percentile(0.50), p99 = h.Percentile(0.99);
        Assert.InRange(p50, 500_000 * 0.9, 500_000 * 1.1);
        Assert.InRange(p99, 990_000 * 0.9, 990_000 * 1.1);
    }

    [Fact]
    public void ExtremeValuesDoNotThrow()
    {
        var h = new LatencyHistogram();
        h.Record(-5);
        h.Record(0);
        h.Record(long.MaxValue);
        Assert.True(h.Percentile(1.0) > 0);
    }

    [Fact]
    public void PercentileBetweenTwoCopiesCoversOnlyTheRequestsInBetween()
    {
        var h = new LatencyHistogram();
        for (int i = 0; i < 1000; i++) h.Record(1_000_000);      // 1 ms each, before the window
        long[] before = h.CopyCounts();
        for (int i = 0; i < 100; i++) h.Record(2_000);           // 2 µs each, inside it
        long[] after = h.CopyCounts();
        Assert.InRange(LatencyHistogram.PercentileBetween(before, after, 0.5), 2_000 * 0.9, 2_000 * 1.1);
        Assert.InRange(h.Percentile(0.5), 1_000_000 * 0.9, 1_000_000 * 1.1);   // the whole history still says 1 ms
        Assert.Equal(0, LatencyHistogram.PercentileBetween(after, after, 0.5));  // nothing in an empty window
    }
}
