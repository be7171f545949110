using System.Diagnostics;
using VirtioFs.Bench;
using VirtioFs.Bench.Measure;
using VirtioFs.Bench.Targets;
using VirtioFs.Bench.Workloads;
using VirtioFs.Frontend;

// The benchmark: prepares one directory, starts the C virtiofsd and our share on it, and runs the same workloads
// against each, alternating targets run by run; then prints ops/s, MB/s, latency, ratios, the host syscall floor,
// kicks and interrupts per request, our allocations per request, and memory figures.
BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (Exception e) when (e is ArgumentException or FormatException)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

var total = Stopwatch.StartNew();
if (options.SpinMicros is long spin) VirtioFs.Backend.Share.QueueWorker.SpinMicros = spin;
var report = new Report(options);
report.Machine();

bool haveVirtiofsd = options.Virtiofsd && File.Exists(DaemonProcess.VirtiofsdPath);
if (options.Virtiofsd && !haveVirtiofsd) report.Note($"{DaemonProcess.VirtiofsdPath} is not installed: only our share is measured.");

Console.Error.WriteLine("preparing the shared directory ...");
using var dir = new PreparedDirectory(options.Directory, 256L << 20, 64L << 20, 1000, options.Quick ? 1000 : 4000);
report.SharedDirectory(dir);
string sockets = Directory.CreateTempSubdirectory("virtiofs-bench-sock-").FullName;
var targets = new List<Target>();
try
{
    // Targets: each keeps its frontend connection for the whole run.
    int index = 0;
    Target? vfsd = null, vfsdPool = null, hostProcess = null;
    if (haveVirtiofsd)
    {
        string s1 = Path.Combine(sockets, "virtiofsd.sock");
        vfsd = new DaemonTarget("virtiofsd", index++, false, () => DaemonProcess.StartVirtiofsd(dir.Root, s1, "-o", "readdirplus"), s1);
        targets.Add(vfsd);
        if (options.VirtiofsdPoolThreads > 0)
        {
            string s2 = Path.Combine(sockets, "virtiofsd-pool.sock");
            int n = options.VirtiofsdPoolThreads;
            vfsdPool = new DaemonTarget($"virtiofsd pool {n}", index++, false,
                () => DaemonProcess.StartVirtiofsd(dir.Root, s2, "-o", "readdirplus", $"--thread-pool-size={n}"), s2);
            targets.Add(vfsdPool);
        }
    }
    var ours1 = new InProcessTarget("ours 1q", index++, dir, Path.Combine(sockets, "ours1.sock"), 1, 0);
    var oursPool = new InProcessTarget($"ours 1q pool {options.PoolThreads}", index++, dir, Path.Combine(sockets, "ours-pool.sock"), 1, options.PoolThreads);
    var ours2 = new InProcessTarget("ours 2q", index++, dir, Path.Combine(sockets, "ours2.sock"), 2, 0);
    targets.AddRange([ours1, oursPool, ours2]);
    if (options.HostProcess && !options.Quick && HostDll.Find() is not null)
    {
        string s3 = Path.Combine(sockets, "host.sock");
        hostProcess = new DaemonTarget("ours virtiofs-host", index++, true,
            () => DaemonProcess.StartOurs(dir.Root, s3, "--cache=never"), s3);
        targets.Add(hostProcess);
    }
    foreach (Target t in targets)
    {
        Console.Error.WriteLine($"starting {t.Name} ...");
        t.Start();
        t.Connect(dir);
        foreach (var client in t.Clients) client.SpinTicks = options.DriverSpinMicros * Stopwatch.Frequency / 1_000_000;
    }

    Console.Error.WriteLine("measuring the syscall floor ...");
    report.Floors = SyscallFloor.MeasureAll(dir, options.Quick ? TimeSpan.FromMilliseconds(150) : TimeSpan.FromMilliseconds(400));
    report.WakeupMicros = WakeupFloor.RoundTripMicros(options.Quick ? TimeSpan.FromMilliseconds(150) : TimeSpan.FromMilliseconds(400));

    var workloads = new (string Name, Func<SessionSetup, int, Workload> Make, bool HostProcessRow)[]
    {
        ("getattr", (s, q) => new GetattrWorkload(s, q), true),
        ("lookup", (s, q) => new LookupWorkload(s, q), false),
        ("read4k", (s, q) => new ReadWorkload(s, q, 4096, sequential: false), true),
        ("read1m", (s, q) => new ReadWorkload(s, q, 1 << 20, sequential: true), false),
        ("write4k", (s, q) => new WriteWorkload(s, q, 4096), false),
        ("create", (s, q) => new CreateWorkload(s, q), false),
        ("readdirplus", (s, q) => new ReaddirPlusWorkload(s, q), false),
        // Last: its names stay known for the rest of the connection, which would turn later lookups into relookups.
        ("relookup", (s, q) => new LookupWorkload(s, q, forget: false), false),
    };
    var runner = new LoadRunner(2, 4 << 20);
    foreach (var w in workloads)
    {
        if (options.Workloads is not null && !options.Workloads.Contains(w.Name)) continue;
        foreach (int depth in options.Depths)
        {
            // Which targets run at this depth: the pool and the second queue only matter when there is depth.
            var configs = new List<(Target Target, Row Row)>();
            void Add(Target? t, bool baseline = false)
            {
                if (t is null || (options.Targets is not null && !options.Targets.Contains(t.Name))) return;
                configs.Add((t, new Row(w.Name, depth, t.Name, t.IsOurs, baseline)));
            }
            Add(vfsd, baseline: true);
            if (depth > 1) Add(vfsdPool);
            Add(ours1);
            if (depth > 1) Add(oursPool);
            if (depth > 1) Add(ours2);
            if (w.HostProcessRow) Add(hostProcess);

            Console.Error.WriteLine($"{w.Name} depth {depth}: {configs.Count} targets x {options.Runs} runs ...");
            for (int run = 0; run < options.Runs; run++)
            {
                // A/B alternation: every run visits every target, starting one further each time.
                for (int k = 0; k < configs.Count; k++)
                {
                    var (target, row) = configs[(k + run) % configs.Count];
                    row.Runs.Add(runner.Run(target, w.Make, depth, options.Warmup, options.Window));
                }
            }
            report.Rows.AddRange(configs.Select(c => c.Row));
        }
    }

    foreach (Target t in targets) t.Dispose();
    targets.Clear();

    if (options.Memory)
    {
        Console.Error.WriteLine("measuring memory ...");
        int inodes = options.Quick ? 1000 : 4000, handles = options.Quick ? 500 : 2000;
        var probes = new List<Func<Target>>();
        if (haveVirtiofsd)
        {
            string s = Path.Combine(sockets, "mem-virtiofsd.sock");
            probes.Add(() => new DaemonTarget("virtiofsd", 90, false, () => DaemonProcess.StartVirtiofsd(dir.Root, s), s));
        }
        if (options.HostProcess && HostDll.Find() is not null)
        {
            string s = Path.Combine(sockets, "mem-host.sock");
            probes.Add(() => new DaemonTarget("ours virtiofs-host", 91, true, () => DaemonProcess.StartOurs(dir.Root, s, "--cache=never"), s));
        }
        probes.Add(() => new InProcessTarget("ours in-process", 92, dir, Path.Combine(sockets, "mem-ours.sock"), 1, 0));
        foreach (var make in probes)
        {
            using Target t = make();
            report.Memory.Add(MemoryProbe.Measure(t, dir, inodes, handles));
        }
    }
}
catch (Exception e)
{
    Console.Error.WriteLine($"benchmark failed: {e}");
    foreach (Target t in targets)
    {
        if (t is DaemonTarget d && d.Log.Length > 0) Console.Error.WriteLine($"--- log of {t.Name} ---\n{d.Log}");
    }
    return 1;
}
finally
{
    foreach (Target t in targets) t.Dispose();
    Directory.Delete(sockets, recursive: true);
}

report.Note($"total time {total.Elapsed.TotalSeconds:0} s");
report.Print();
return 0;
