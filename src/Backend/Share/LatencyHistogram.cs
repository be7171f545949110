namespace VirtioFs.Backend.Share;

/// <summary>
/// Request latencies in nanoseconds, log-linear buckets (8 per power of two, so a percentile is within ~9%).
/// Written by one queue thread with plain stores, read by anyone: a reader may see a count one request behind.
/// </summary>
public sealed class LatencyHistogram
{
    private const int SubBuckets = 8;
    private const int LinearLimit = 16;   // values below this get a bucket each
    private const int MaxExponent = 44;   // about 4.8 hours; larger values land in the last bucket

    private readonly long[] _counts = new long[LinearLimit + (MaxExponent - 3) * SubBuckets];

    public void Record(long nanoseconds)
    {
        int index = IndexOf(nanoseconds);
        _counts[index] = _counts[index] + 1;
    }

    private static int IndexOf(long value)
    {
        if (value < LinearLimit) return value < 0 ? 0 : (int)value;
        int exponent = 63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)value);   // >= 4
        if (exponent > MaxExponent) return LinearLimit + (MaxExponent - 3) * SubBuckets - 1;
        int sub = (int)(value >> (exponent - 3)) & (SubBuckets - 1);
        return LinearLimit + (exponent - 4) * SubBuckets + sub;
    }

    private static long MidpointOf(int index)
    {
        if (index < LinearLimit) return index;
        int exponent = (index - LinearLimit) / SubBuckets + 4;
        int sub = (index - LinearLimit) % SubBuckets;
        long low = (1L << exponent) + ((long)sub << (exponent - 3));
        return low + (1L << (exponent - 4));
    }

    /// <summary>The latency at quantile <paramref name="q"/> (0..1) in nanoseconds, 0 when nothing was recorded.</summary>
    public long Percentile(double q) => PercentileOf(CopyCounts(), q);

    /// <summary>The bucket counts right now; two copies subtracted give the latencies of a time window.</summary>
    public long[] CopyCounts()
    {
        var copy = new long[_counts.Length];
        for (int i = 0; i < copy.Length; i++) copy[i] = Volatile.Read(ref _counts[i]);
        return copy;
    }

    /// <summary>The latency at quantile <paramref name="q"/> of the requests recorded between two <see cref="CopyCounts"/>.</summary>
    public static long PercentileBetween(long[] before, long[] after, double q)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(before.Length, after.Length, nameof(before));
        var window = new long[after.Length];
        for (int i = 0; i < window.Length; i++) window[i] = Math.Max(0, after[i] - before[i]);
        return PercentileOf(window, q);
    }

    /// <summary>The latency at quantile <paramref name="q"/> of bucket counts from <see cref="CopyCounts"/>.</summary>
    internal static long PercentileOf(long[] counts, double q)
    {
        long total = 0;
        foreach (long c in counts) total += c;
        if (total == 0) return 0;
        long rank = Math.Max(1, (long)Math.Ceiling(q * total));
        long seen = 0;
        for (int i = 0; i < counts.Length; i++)
        {
            seen += counts[i];
            if (seen >= rank) return MidpointOf(i);
        }
        return MidpointOf(counts.Length - 1);
    }

    public void Clear() => Array.Clear(_counts);
}
