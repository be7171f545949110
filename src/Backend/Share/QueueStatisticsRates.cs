namespace VirtioFs.Backend.Share;

/// <summary>
/// How fast one queue's counters grew between two moments, per second. <see cref="Interval"/> is the time between
/// them: since the previous snapshot, or since the share started for the first one (an average over its life).
/// <see cref="CpuPercent"/> is the CPU time of the queue's threads over the interval, in percent of one core: near 100
/// for a queue thread without a pool, the queue is as busy as one thread can be (add request queues or a pool).
/// </summary>
public sealed record QueueStatisticsRates(
    TimeSpan Interval,
    double RequestsPerSecond,
    double BytesReadPerSecond,
    double BytesWrittenPerSecond,
    double ErrorsPerSecond,
    double CpuPercent)
{
    /// <summary>
    /// The rates from <paramref name="earlier"/> (null: every counter zero, as at the share's start) to
    /// <paramref name="later"/>, <paramref name="interval"/> apart. Null when no rate can be told: the interval is not
    /// positive (the wall clock went back) or a counter went down (not the same queue, or not the same share).
    /// </summary>
    public static QueueStatisticsRates? Between(QueueStatisticsSnapshot? earlier, QueueStatisticsSnapshot later, TimeSpan interval)
    {
        if (interval <= TimeSpan.Zero) return null;
        long requests = later.Requests - (earlier?.Requests ?? 0);
        long read = later.BytesRead - (earlier?.BytesRead ?? 0);
        long written = later.BytesWritten - (earlier?.BytesWritten ?? 0);
        long errors = later.Errors - (earlier?.Errors ?? 0);
        TimeSpan cpu = later.CpuTime - (earlier?.CpuTime ?? TimeSpan.Zero);
        if (requests < 0 || read < 0 || written < 0 || errors < 0 || cpu < TimeSpan.Zero) return null;
        double seconds = interval.TotalSeconds;
        return new QueueStatisticsRates(interval, requests / seconds, read / seconds, written / seconds, errors / seconds,
            100 * cpu.TotalSeconds / seconds);
    }
}
