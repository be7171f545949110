namespace VirtioFs.Backend.Share;

/// <summary>
/// How fast one queue's counters grew between two moments, per second. <see cref="Interval"/> is the time between
/// them: since the previous snapshot, or since the share started for the first one (an average over its life).
/// </summary>
public sealed record QueueStatisticsRates(
    TimeSpan Interval,
    double RequestsPerSecond,
    double BytesReadPerSecond,
    double BytesWrittenPerSecond,
    double ErrorsPerSecond)
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
        if (requests < 0 || read < 0 || written < 0 || errors < 0) return null;
        double seconds = interval.TotalSeconds;
        return new QueueStatisticsRates(interval, requests / seconds, read / seconds, written / seconds, errors / seconds);
    }
}
