using VirtioFs.Backend.Share;

namespace VirtioFs.Cmdlets;

/// <summary>
/// One queue of one share at one moment (Get-VirtioFsQueueStats). Queue 0 is "hiprio" (FORGET only); 1..n are the
/// request queues. Bytes are file data: READ to the guest, WRITE from it. Latencies come from a log-linear histogram,
/// within about 9%. The rates (requests, bytes and errors per second) cover <see cref="RateInterval"/>.
/// </summary>
public sealed class VirtioFsQueueStats
{
    internal VirtioFsQueueStats(VirtioFsShare share, QueueStatisticsSnapshot snapshot, QueueStatisticsRates? rates, DateTimeOffset timestamp)
    {
        RateInterval = rates?.Interval;
        RequestsPerSecond = rates?.RequestsPerSecond;
        BytesReadPerSecond = rates?.BytesReadPerSecond;
        BytesWrittenPerSecond = rates?.BytesWrittenPerSecond;
        ErrorsPerSecond = rates?.ErrorsPerSecond;
        CpuPercent = rates?.CpuPercent;
        ShareName = share.Name;
        Tag = share.Tag;
        Timestamp = timestamp;
        QueueIndex = snapshot.QueueIndex;
        Kind = snapshot.Kind;
        Requests = snapshot.Requests;
        InFlight = snapshot.InFlight;
        BytesRead = snapshot.BytesRead;
        BytesWritten = snapshot.BytesWritten;
        Errors = snapshot.Errors;
        DroppedChains = snapshot.DroppedChains;
        Kicks = snapshot.Kicks;
        Notifications = snapshot.Notifications;
        LatencyP50 = snapshot.LatencyP50;
        LatencyP99 = snapshot.LatencyP99;
        CpuTime = snapshot.CpuTime;
        Operations = snapshot.Operations;
    }

    public string ShareName { get; }
    public string Tag { get; }
    public DateTimeOffset Timestamp { get; }
    public int QueueIndex { get; }
    /// <summary>"hiprio" or "request".</summary>
    public string Kind { get; }
    public long Requests { get; }
    public long InFlight { get; }
    public long BytesRead { get; }
    public long BytesWritten { get; }
    /// <summary>Requests answered with an errno (ENOENT from a lookup counts: it is the file system's answer).</summary>
    public long Errors { get; }
    /// <summary>Malformed descriptor chains the guest offered and we returned unread.</summary>
    public long DroppedChains { get; }
    public long Kicks { get; }
    public long Notifications { get; }
    public TimeSpan LatencyP50 { get; }
    public TimeSpan LatencyP99 { get; }
    /// <summary>CPU time (user and kernel) of the threads serving this queue since the share started.</summary>
    public TimeSpan CpuTime { get; }
    /// <summary>
    /// What the rates below span: since the previous set of -Watch, or since the share started (the first set, and
    /// without -Watch). Null, like the rates, when no interval could be measured.
    /// </summary>
    public TimeSpan? RateInterval { get; }
    public double? RequestsPerSecond { get; }
    /// <summary>File data read by the guest, bytes per second (the table shows MiB/s).</summary>
    public double? BytesReadPerSecond { get; }
    /// <summary>File data written by the guest, bytes per second (the table shows MiB/s).</summary>
    public double? BytesWrittenPerSecond { get; }
    public double? ErrorsPerSecond { get; }
    /// <summary>
    /// CPU use of the queue's threads over the rate interval, in percent of one core. Near 100 on a queue without a
    /// worker pool: that queue is saturated; more request queues (-RequestQueues) spread the load.
    /// </summary>
    public double? CpuPercent { get; }
    /// <summary>Requests per FUSE operation ("Lookup", "Read", ...).</summary>
    public IReadOnlyDictionary<string, long> Operations { get; }
}
