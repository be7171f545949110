using System.Diagnostics;

namespace VirtioFs.Backend.Share;

/// <summary>
/// Live counters of one virtqueue. Only the queue's own thread writes them (plain stores: no locks, no atomics on the
/// hot path); other threads read them at any time through <see cref="Snapshot"/>, which may be one request behind.
/// CPU time is the scheduler's count for the threads serving the queue (its queue thread and pool threads), read
/// from /proc when a snapshot is taken, so it costs the hot path nothing.
/// </summary>
public sealed class QueueStatistics
{
    /// <summary>Per-opcode counters; FUSE opcodes are below 64 (CUSE_INIT, 4096, and unknown ones count as "other").</summary>
    public const int OpcodeSlots = 64;

    private readonly long[] _opcodes = new long[OpcodeSlots + 1];
    private long _requests, _errors, _bytesToGuest, _bytesFromGuest, _droppedChains, _notifications, _kicks, _inFlight;
    private readonly List<int> _servingThreads = [];
    private long _cpuNanosOfEndedThreads;

    public QueueStatistics(int queueIndex)
    {
        QueueIndex = queueIndex;
    }

    public int QueueIndex { get; }

    public bool IsHighPriority => QueueIndex == 0;

    public LatencyHistogram Latency { get; } = new();

    internal void BeginRequest() => _inFlight++;

    /// <summary>Records a finished request: opcode, its errno (0 = success), file bytes moved, and its duration.</summary>
    internal void EndRequest(uint opcode, int error, long bytesToGuest, long bytesFromGuest, long elapsedTicks)
    {
        _inFlight--;
        _requests++;
        if (error != 0) _errors++;
        _bytesToGuest += bytesToGuest;
        _bytesFromGuest += bytesFromGuest;
        int slot = opcode < OpcodeSlots ? (int)opcode : OpcodeSlots;
        _opcodes[slot]++;
        Latency.Record(elapsedTicks * 1_000_000_000L / Stopwatch.Frequency);
    }

    internal void DroppedChain() => _droppedChains++;

    internal void Kicked() => _kicks++;

    internal void Notified() => _notifications++;

    /// <summary>The calling thread serves this queue from now on: its CPU time counts (call on that thread).</summary>
    internal void AttachCurrentThread()
    {
        int tid = Interop.Libc.gettid();
        lock (_servingThreads) _servingThreads.Add(tid);
    }

    /// <summary>The calling thread stops serving this queue: its CPU time so far stays counted.</summary>
    internal void DetachCurrentThread()
    {
        int tid = Interop.Libc.gettid();
        lock (_servingThreads)
        {
            if (!_servingThreads.Remove(tid)) return;
            _cpuNanosOfEndedThreads += ThreadCpuClock.OfThread(tid);
        }
    }

    /// <summary>CPU time of every thread that served or serves this queue (since the share started).</summary>
    public TimeSpan CpuTime
    {
        get
        {
            lock (_servingThreads)
            {
                long ns = _cpuNanosOfEndedThreads;
                foreach (int tid in _servingThreads) ns += ThreadCpuClock.OfThread(tid);
                return TimeSpan.FromTicks(ns / 100);
            }
        }
    }

    public QueueStatisticsSnapshot Snapshot(Func<uint, string> opcodeName)
    {
        var operations = new Dictionary<string, long>();
        for (int i = 0; i <= OpcodeSlots; i++)
        {
            long count = Volatile.Read(ref _opcodes[i]);
            if (count != 0) operations[i == OpcodeSlots ? "Other" : opcodeName((uint)i)] = count;
        }
        long[] latencies = Latency.CopyCounts();   // one copy: p50 and p99 of the same moment
        return new QueueStatisticsSnapshot(
            QueueIndex,
            IsHighPriority,
            Volatile.Read(ref _requests),
            Math.Max(0, Volatile.Read(ref _inFlight)),
            Volatile.Read(ref _bytesToGuest),
            Volatile.Read(ref _bytesFromGuest),
            Volatile.Read(ref _errors),
            Volatile.Read(ref _droppedChains),
            Volatile.Read(ref _kicks),
            Volatile.Read(ref _notifications),
            TimeSpan.FromTicks(LatencyHistogram.PercentileOf(latencies, 0.50) / 100),
            TimeSpan.FromTicks(LatencyHistogram.PercentileOf(latencies, 0.99) / 100),
            CpuTime,
            operations);
    }
}
