namespace VirtioFs.Backend.Share;

/// <summary>
/// Turns successive snapshots of one share's queues into rates (Get-VirtioFsQueueStats -Watch): each call returns, per
/// queue, the rates since the previous call; the first call returns the rates since the counters were zero (the
/// share's start), or nothing when that moment is unknown. Queues are matched by index, so a queue that appears
/// later starts from zero. Not thread-safe: one caller (the watching pipeline) owns it.
/// </summary>
public sealed class QueueStatisticsRateTracker
{
    private readonly Dictionary<int, QueueStatisticsSnapshot> _previous = new();
    private DateTimeOffset? _previousTime;

    /// <param name="countersZeroAt">When every counter was zero (ShareHost.StartTime); null when unknown.</param>
    public QueueStatisticsRateTracker(DateTimeOffset? countersZeroAt)
    {
        _previousTime = countersZeroAt;
    }

    /// <summary>
    /// The rates of each of <paramref name="snapshots"/> (same order) since the previous call, taken at
    /// <paramref name="now"/>; null for a queue whose rates cannot be told (see <see cref="QueueStatisticsRates.Between"/>).
    /// Remembers these snapshots for the next call.
    /// </summary>
    public IReadOnlyList<QueueStatisticsRates?> Next(IReadOnlyList<QueueStatisticsSnapshot> snapshots, DateTimeOffset now)
    {
        var rates = new QueueStatisticsRates?[snapshots.Count];
        TimeSpan? interval = now - _previousTime;
        for (int i = 0; i < snapshots.Count; i++)
        {
            QueueStatisticsSnapshot later = snapshots[i];
            _previous.TryGetValue(later.QueueIndex, out QueueStatisticsSnapshot? earlier);
            rates[i] = interval is { } span ? QueueStatisticsRates.Between(earlier, later, span) : null;
            _previous[later.QueueIndex] = later;
        }
        _previousTime = now;
        return rates;
    }
}
