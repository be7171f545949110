using System.Diagnostics;
using VirtioFs.Backend.Interop;
using VirtioFs.Backend.Share;
using VirtioFs.Bench.Driver;
using VirtioFs.Bench.Targets;
using VirtioFs.Bench.Workloads;

namespace VirtioFs.Bench.Measure;

/// <summary>
/// Runs one workload on one target at one depth: a driver thread per request queue keeps <c>depth / queues</c>
/// operations in flight (at least one), warms up, then counts the operations that finish inside the measured window
/// and records each one's latency (submission of its first request to the reply of its last). While the window is
/// open nothing in the drivers allocates, so the process-wide allocation delta minus the drivers' own is the share's.
/// </summary>
internal sealed class LoadRunner
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(20);
    private readonly long[][] _samples;

    public LoadRunner(int maxThreads, int samplesPerThread)
    {
        _samples = new long[maxThreads][];
        for (int i = 0; i < maxThreads; i++) _samples[i] = new long[samplesPerThread];
    }

    public RunResult Run(Target target, Func<SessionSetup, int, Workload> makeWorkload, int depth, TimeSpan warmup, TimeSpan window)
    {
        int queues = target.RequestQueues;
        int perQueue = Math.Max(1, depth / queues);
        var workers = new DriverThread[queues];
        long start = Stopwatch.GetTimestamp();
        long measureFrom = start + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        long measureTo = measureFrom + (long)(window.TotalSeconds * Stopwatch.Frequency);
        for (int q = 0; q < queues; q++)
        {
            workers[q] = new DriverThread(target.Clients[q], makeWorkload(target.Setup, q + 1), perQueue, _samples[q], measureFrom, measureTo);
        }

        ShareHost? host = target.Host;
        foreach (DriverThread w in workers) w.Start();

        SleepUntil(measureFrom);
        int? daemonPid = target.DaemonPid;
        long daemonCpuBefore = daemonPid is int p0 ? ThreadCpuClock.OfProcess(p0) : 0;
        IReadOnlyList<QueueStatisticsSnapshot>? before = host?.GetQueueStatistics();
        long[][]? latencyBefore = host is null ? null : RequestQueueLatencies(host);
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        SleepUntil(measureTo);
        long allocatedAfter = GC.GetTotalAllocatedBytes(precise: true);
        long[][]? latencyAfter = host is null ? null : RequestQueueLatencies(host);
        IReadOnlyList<QueueStatisticsSnapshot>? after = host?.GetQueueStatistics();
        long daemonCpuAfter = daemonPid is int p1 ? ThreadCpuClock.OfProcess(p1) : 0;
        foreach (DriverThread w in workers) w.Join();
        foreach (DriverThread w in workers)
        {
            if (w.Failure is not null) throw new InvalidOperationException($"{target.Name}: driver failed: {w.Failure.Message}", w.Failure);
        }

        long ops = 0, bytes = 0, errors = 0, requests = 0, kicks = 0, interrupts = 0, driverAllocated = 0, sampleCount = 0, driverCpu = 0;
        foreach (DriverThread w in workers)
        {
            driverCpu += w.CpuNanos;
            ops += w.Ops;
            errors += w.Errors;
            requests += w.Requests;
            kicks += w.Kicks;
            interrupts += w.Interrupts;
            driverAllocated += w.Allocated;
            sampleCount += w.Samples;
        }
        bytes = ops * workers[0].Workload.BytesPerOp;

        // Latency percentiles over every sample of every queue.
        long[] merged = queues == 1 ? _samples[0] : Merge(workers);
        Span<long> all = merged.AsSpan(0, (int)sampleCount);
        all.Sort();
        double toMicros = 1e6 / Stopwatch.Frequency;
        double p50 = all.Length == 0 ? 0 : all[(int)(all.Length * 0.50)] * toMicros;
        double p99 = all.Length == 0 ? 0 : all[Math.Min(all.Length - 1, (int)(all.Length * 0.99))] * toMicros;

        // CPU the daemon spent in the window: our share's serving threads, or every thread of the daemon's process.
        double? daemonCpuPerOp = null;
        if (before is not null && after is not null)
        {
            TimeSpan cpu = TimeSpan.Zero;
            for (int i = 0; i < after.Count; i++) cpu += after[i].CpuTime - before[i].CpuTime;
            if (ops > 0) daemonCpuPerOp = cpu.TotalMicroseconds / ops;
        }
        else if (daemonPid is not null && ops > 0)
        {
            daemonCpuPerOp = (daemonCpuAfter - daemonCpuBefore) / 1000.0 / ops;
        }
        double driverCpuPerOp = ops > 0 ? driverCpu / 1000.0 / ops : 0;

        double? daemonKicks = null, daemonNotifications = null, allocPerRequest = null, daemonP50 = null;
        if (latencyBefore is not null && latencyAfter is not null) daemonP50 = WindowP50Micros(latencyBefore, latencyAfter);
        if (before is not null && after is not null)
        {
            long served = 0, k = 0, n = 0;
            for (int i = 1; i < after.Count; i++)
            {
                served += after[i].Requests - before[i].Requests;
                k += after[i].Kicks - before[i].Kicks;
                n += after[i].Notifications - before[i].Notifications;
            }
            if (served > 0)
            {
                daemonKicks = (double)k / served;
                daemonNotifications = (double)n / served;
                allocPerRequest = Math.Max(0, allocatedAfter - allocatedBefore - driverAllocated) / (double)served;
            }
        }
        return new RunResult(ops, window.TotalSeconds, bytes, p50, p99, errors, requests, kicks, interrupts,
            daemonKicks, daemonNotifications, allocPerRequest, daemonP50, daemonCpuPerOp, driverCpuPerOp);
    }

    // The share's own latency histograms of the request queues (hiprio, index 0, carries only FORGETs).
    private static long[][] RequestQueueLatencies(ShareHost host)
        => host.LiveStatistics.Skip(1).Select(q => q.Latency.CopyCounts()).ToArray();

    /// <summary>p50 of the time the share spent on each request in the window (decode, syscalls, reply), all request queues.</summary>
    private static double? WindowP50Micros(long[][] before, long[][] after)
    {
        long[] b = new long[before[0].Length], a = new long[after[0].Length];
        for (int q = 0; q < before.Length; q++)
        {
            for (int i = 0; i < b.Length; i++)
            {
                b[i] += before[q][i];
                a[i] += after[q][i];
            }
        }
        long ns = LatencyHistogram.PercentileBetween(b, a, 0.50);
        return ns == 0 ? null : ns / 1000.0;
    }

    private long[] Merge(DriverThread[] workers)
    {
        long total = 0;
        foreach (DriverThread w in workers) total += w.Samples;
        var merged = new long[total];
        long at = 0;
        for (int q = 0; q < workers.Length; q++)
        {
            Array.Copy(_samples[q], 0, merged, at, workers[q].Samples);
            at += workers[q].Samples;
        }
        return merged;
    }

    private static void SleepUntil(long timestamp)
    {
        while (true)
        {
            long left = timestamp - Stopwatch.GetTimestamp();
            if (left <= 0) return;
            Thread.Sleep(TimeSpan.FromSeconds(Math.Min(left / (double)Stopwatch.Frequency, 0.05)));
        }
    }

    /// <summary>One queue's driver: keeps its operations in flight until the window closes, then drains.</summary>
    private sealed class DriverThread
    {
        private readonly PipelinedClient _client;
        private readonly int _depth;
        private readonly long[] _samples;
        private readonly long _from;
        private readonly long _to;
        private readonly Thread _thread;

        public DriverThread(PipelinedClient client, Workload workload, int depth, long[] samples, long from, long to)
        {
            _client = client;
            Workload = workload;
            _depth = depth;
            _samples = samples;
            _from = from;
            _to = to;
            _thread = new Thread(Run) { IsBackground = true, Name = "bench driver" };
        }

        public Workload Workload { get; }
        public long Ops, Errors, Requests, Kicks, Interrupts, Allocated, Samples, CpuNanos;
        public Exception? Failure;

        public void Start() => _thread.Start();
        public void Join() => _thread.Join();

        private void Run()
        {
            try
            {
                Drive();
            }
            catch (Exception e)
            {
                Failure = e;
            }
        }

        private void Drive()
        {
            int tid = Libc.gettid();
            long cpuAtStart = 0;
            PipelinedClient c = _client;
            var ops = new Op[_depth];
            for (int i = 0; i < _depth; i++) ops[i] = new Op(c.Slots[i]);
            foreach (Op op in ops)
            {
                op.StartTicks = Stopwatch.GetTimestamp();
                Workload.Start(op, c);
            }
            bool measuring = false, stopping = false;
            long allocatedAtStart = 0, requestsAtStart = 0, kicksAtStart = 0, interruptsAtStart = 0;
            long[] samples = _samples;
            long count = 0;
            while (true)
            {
                while (c.TryReap(out RequestSlot slot, out int errno, out int body))
                {
                    Op op = ops[slot.Index];
                    if (errno != 0) op.Failed = true;
                    if (!Workload.Continue(op, c, errno, body)) continue;
                    long now = Stopwatch.GetTimestamp();
                    if (measuring && !stopping)
                    {
                        if (op.Failed) Errors++;
                        Ops++;
                        if (count < samples.Length) samples[count++] = now - op.StartTicks;
                    }
                    op.Failed = false;
                    if (stopping) continue;
                    op.StartTicks = now;
                    Workload.Start(op, c);
                }
                long t = Stopwatch.GetTimestamp();
                if (!measuring && t >= _from)
                {
                    measuring = true;
                    cpuAtStart = ThreadCpuClock.OfThread(tid);   // reads a file: before the allocation window opens
                    c.CountInterrupts();
                    requestsAtStart = c.Requests;
                    kicksAtStart = c.KicksSent;
                    interruptsAtStart = c.Interrupts;
                    allocatedAtStart = GC.GetAllocatedBytesForCurrentThread();
                }
                if (measuring && !stopping && t >= _to)
                {
                    stopping = true;
                    Allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedAtStart;
                    CpuNanos = ThreadCpuClock.OfThread(tid) - cpuAtStart;
                    c.CountInterrupts();
                    Requests = c.Requests - requestsAtStart;
                    Kicks = c.KicksSent - kicksAtStart;
                    Interrupts = c.Interrupts - interruptsAtStart;
                }
                if (stopping && c.InFlight == 0) break;
                c.WaitForCompletion(ReplyTimeout);
            }
            Samples = count;
        }
    }
}
