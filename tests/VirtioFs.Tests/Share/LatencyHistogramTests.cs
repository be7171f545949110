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
}
