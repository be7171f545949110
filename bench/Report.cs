using System.Globalization;
using System.Text;
using VirtioFs.Bench.Measure;

namespace VirtioFs.Bench;

/// <summary>Collects the results and prints them as Markdown tables (readable in a terminal, pasteable into docs).</summary>
internal sealed class Report(BenchOptions options)
{
    private readonly StringBuilder _head = new();
    private readonly List<string> _notes = [];

    public List<Row> Rows { get; } = [];
    public List<SyscallFloor.Floor> Floors { get; set; } = [];
    public List<MemoryProbe.Figures> Memory { get; } = [];
    public double WakeupMicros { get; set; } = double.NaN;

    public void Note(string note) => _notes.Add(note);

    public void Machine()
    {
        string cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
        string kernel = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        _head.AppendLine($"# virtio-fs benchmark: ours vs the C virtiofsd ({DateTime.Now:yyyy-MM-dd HH:mm})");
        _head.AppendLine();
        string load = File.ReadAllText("/proc/loadavg").Split(' ')[0];
        _head.AppendLine($"- machine: {Environment.ProcessorCount} cores ({cpu}), kernel {kernel}, .NET {Environment.Version}; "
            + $"load average {load} at the start (anything above 0 is other work sharing the cores)");
        _head.AppendLine($"- the load driver (our vhost-user frontend) runs on the same {Environment.ProcessorCount} cores as the daemon it measures, "
            + "so every figure includes the frontend's own CPU time; with 2 cores, a daemon using more than one thread competes with it");
        _head.AppendLine($"- {(options.Quick ? "QUICK mode: " : "")}median of {options.Runs} runs of {options.Window.TotalSeconds:0.###} s per row "
            + $"(after {options.Warmup.TotalSeconds:0.###} s warm-up), targets alternated run by run; files are in the host page cache");
        _head.AppendLine("- virtiofsd: /usr/lib/qemu/virtiofsd -o cache=none -o readdirplus (its default --thread-pool-size is 0); "
            + $"ours: in-process ShareHost, cache=never, spin {VirtioFs.Backend.Share.QueueWorker.SpinMicros} µs before sleeping; "
            + "EVENT_IDX and INDIRECT_DESC negotiated for both");
        _head.AppendLine(options.DriverSpinMicros > 0
            ? $"- the load driver polls the used ring for {options.DriverSpinMicros} µs before sleeping on the interrupt eventfd (--driver-spin; as a vCPU under KVM's halt polling)"
            : "- the load driver sleeps on the interrupt eventfd as soon as it waits for a reply (the worst case for latency; --driver-spin MICROS polls first)");
    }

    public void SharedDirectory(PreparedDirectory dir)
        => _head.AppendLine($"- shared directory: {dir.Root} on {dir.FileSystemType}" + (dir.FileSystemType == "tmpfs"
            ? " (the default: the figures measure the daemons, not a disk file system; --dir DIR measures elsewhere)" : ""));

    public void Print()
    {
        var sb = new StringBuilder();
        sb.Append(_head);
        sb.AppendLine();
        sb.AppendLine("## Throughput and latency");
        sb.AppendLine();
        sb.AppendLine("An op is one GETATTR; one LOOKUP (+FORGET); one READ/WRITE; CREATE+RELEASE+UNLINK(+FORGET); a full listing of "
            + "1,000 entries (OPENDIR + READDIRPLUS x 4 KiB until empty + RELEASEDIR). Latency: first request sent to last reply reaped. "
            + "ratio: ops/s over virtiofsd's at the same depth. kicks, irqs: per request, as the frontend saw them. "
            + "dkick, dirq: per request as our share counted them (kicks received, notifications sent). alloc: bytes our share allocated per request. "
            + "cpu µs: CPU time (user and kernel) the daemon spent per op (ours: the threads serving the queues; a process: all its threads); "
            + "drv µs: the same for the load driver's threads, which share the cores with the daemon.");
        sb.AppendLine();
        sb.AppendLine("| workload | depth | target | ops/s | MB/s | p50 µs | p99 µs | ratio | cpu µs | drv µs | kicks | irqs | dkick | dirq | alloc B | errors |");
        sb.AppendLine("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (Row r in Rows)
        {
            Row? baseline = Rows.FirstOrDefault(b => b.Baseline && b.Workload == r.Workload && b.Depth == r.Depth);
            double ops = r.Median(x => x.OpsPerSecond);
            string ratio = baseline is null || ReferenceEquals(baseline, r) ? "" : F(ops / baseline.Median(x => x.OpsPerSecond), "0.00") + "x";
            double mbs = r.Median(x => x.MegabytesPerSecond);
            double reqs = r.Median(x => x.Requests);
            sb.AppendLine($"| {r.Workload} | {r.Depth} | {r.Target} | {F(ops, "#,0")} | {(mbs > 0 ? F(mbs, "#,0.0") : "")} | "
                + $"{F(r.Median(x => x.P50Micros), "0.0")} | {F(r.Median(x => x.P99Micros), "0.0")} | {ratio} | "
                + $"{Opt(r.MedianOrNull(x => x.DaemonCpuMicrosPerOp), "0.00")} | {F(r.Median(x => x.DriverCpuMicrosPerOp), "0.00")} | "
                + $"{F(r.Median(x => x.Requests == 0 ? 0 : (double)x.FrontendKicks / x.Requests), "0.00")} | "
                + $"{F(r.Median(x => x.Requests == 0 ? 0 : (double)x.FrontendInterrupts / x.Requests), "0.00")} | "
                + $"{Opt(r.MedianOrNull(x => x.DaemonKicksPerRequest), "0.00")} | {Opt(r.MedianOrNull(x => x.DaemonNotificationsPerRequest), "0.00")} | "
                + $"{Opt(r.MedianOrNull(x => x.AllocatedBytesPerRequest), "0.0")} | {r.Runs.Sum(x => x.Errors)} |");
        }

        sb.AppendLine();
        sb.AppendLine("## Host syscall floor and daemon overhead (depth 1)");
        sb.AppendLine();
        sb.AppendLine("floor: the same syscalls in a tight loop on one host thread, no daemon. overhead: the daemon's depth-1 p50 minus the floor p50 "
            + "(virtqueue, eventfd wake-ups and thread switches, decoding, bookkeeping). "
            + $"wake-up floor: one kick + one call between two threads sleeping in poll, no virtqueue, no FUSE: {F(WakeupMicros, "0.0")} µs p50 "
            + "on this machine; a request at depth 1 pays at most that for the transport, the rest of the overhead is the daemon's own work. "
            + "in-share p50: our share's own clock around each request (decode, syscalls, reply; not the ring or the wake-ups), "
            + "and in-share overhead that minus the floor, for workloads of one request per op.");
        sb.AppendLine();
        sb.AppendLine("| workload | host syscalls | floor p50 µs | floor ops/s | floor MB/s | ours p50 µs | virtiofsd p50 µs | our overhead µs | virtiofsd overhead µs | in-share p50 µs | in-share overhead µs |");
        sb.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (SyscallFloor.Floor f in Floors)
        {
            Row? ours = Rows.FirstOrDefault(r => r.Workload == f.Workload && r.Depth == 1 && r.Target == "ours 1q");
            Row? theirs = Rows.FirstOrDefault(r => r.Workload == f.Workload && r.Depth == 1 && r.Baseline);
            double? op50 = ours?.Median(x => x.P50Micros), tp50 = theirs?.Median(x => x.P50Micros);
            double? inShare = ours?.MedianOrNull(x => x.DaemonP50Micros);
            sb.AppendLine($"| {f.Workload} | {f.Syscalls} | {F(f.P50Micros, "0.00")} | {F(f.OpsPerSecond, "#,0")} | "
                + $"{(f.MegabytesPerSecond > 0 ? F(f.MegabytesPerSecond, "#,0") : "")} | {Opt(op50, "0.0")} | {Opt(tp50, "0.0")} | "
                + $"{Opt(op50 - f.P50Micros, "0.0")} | {Opt(tp50 - f.P50Micros, "0.0")} | {Opt(inShare, "0.00")} | "
                + $"{(OneRequestPerOp(f.Workload) ? Opt(inShare - f.P50Micros, "0.00") : "–")} |");
        }
        Row? read1m = Rows.Where(r => r.Workload == "read1m" && r.Ours).OrderByDescending(r => r.Median(x => x.MegabytesPerSecond)).FirstOrDefault();
        SyscallFloor.Floor? floor1m = Floors.FirstOrDefault(f => f.Workload == "read1m");
        if (read1m is not null && floor1m is not null)
        {
            sb.AppendLine();
            sb.AppendLine($"read1m: our best row ({read1m.Target}, depth {read1m.Depth}) reaches "
                + $"{F(read1m.Median(x => x.MegabytesPerSecond) / floor1m.MegabytesPerSecond * 100, "0")}% of the host's own pread bandwidth "
                + $"({F(floor1m.MegabytesPerSecond, "#,0")} MB/s).");
        }

        if (Memory.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine("## Memory");
            sb.AppendLine();
            sb.AppendLine("idle: a connected share after INIT (a process: its VmRSS; in-process: the managed heap it added; each queue thread "
                + "also holds 1.2 MiB of native FUSE scratch, resident only as far as touched). per inode: LOOKUP without "
                + "FORGET; per handle: OPEN without RELEASE (process: RssAnon delta; in-process: managed heap after a full GC). "
                + "Kernel memory for the fds behind each inode and handle is not included.");
            sb.AppendLine();
            sb.AppendLine("| target | idle KiB | per inode B | per handle B | items | measured as |");
            sb.AppendLine("|---|---:|---:|---:|---:|---|");
            foreach (MemoryProbe.Figures m in Memory)
            {
                sb.AppendLine($"| {m.Target} | {F(m.IdleKiB, "#,0")} | {F(m.PerInodeBytes, "#,0")} | {F(m.PerHandleBytes, "#,0")} | "
                    + $"{m.Inodes} inodes, {m.Handles} handles | {m.Measure} |");
            }
        }
        if (_notes.Count > 0)
        {
            sb.AppendLine();
            foreach (string n in _notes) sb.AppendLine($"- {n}");
        }
        Console.WriteLine(sb.ToString());
        if (options.MarkdownPath is not null) File.WriteAllText(options.MarkdownPath, sb.ToString());
    }

    // CREATE+RELEASE+UNLINK and a listing are several requests per op: a per-request p50 says nothing about the op's floor.
    private static bool OneRequestPerOp(string workload) => workload is not ("create" or "readdirplus");

    private static string F(double v, string format) => double.IsNaN(v) ? "" : v.ToString(format, CultureInfo.InvariantCulture);

    private static string Opt(double? v, string format) => v is null ? "–" : F(v.Value, format);
}
