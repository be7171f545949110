namespace VirtioFs.Backend.Share;

/// <summary>
/// One queue's counters at one moment. Bytes are file data moved (READ to the guest, WRITE from it). CpuTime is what
/// the threads serving the queue spent on a CPU (user and kernel), since the share started.
/// </summary>
public sealed record QueueStatisticsSnapshot(
    int QueueIndex,
    bool IsHighPriority,
    long Requests,
    long InFlight,
    long BytesRead,
    long BytesWritten,
    long Errors,
    long DroppedChains,
    long Kicks,
    long Notifications,
    TimeSpan LatencyP50,
    TimeSpan LatencyP99,
    TimeSpan CpuTime,
    IReadOnlyDictionary<string, long> Operations)
{
    /// <summary>"hiprio" for queue 0 (FORGET only), "request" for the others.</summary>
    public string Kind => IsHighPriority ? "hiprio" : "request";
}
