namespace VirtioFs.Bench;

/// <summary>Command line of the benchmark.</summary>
internal sealed class BenchOptions
{
    public bool Quick { get; private set; }
    public int Runs { get; private set; } = 5;
    public TimeSpan Window { get; private set; } = TimeSpan.FromMilliseconds(500);
    public TimeSpan Warmup { get; private set; } = TimeSpan.FromMilliseconds(150);
    public string? Directory { get; private set; }
    public bool Virtiofsd { get; private set; } = true;
    public bool HostProcess { get; private set; } = true;
    public bool Memory { get; private set; } = true;
    public string? MarkdownPath { get; private set; }
    public HashSet<string>? Workloads { get; private set; }
    public HashSet<string>? Targets { get; private set; }
    public int PoolThreads { get; private set; } = 4;
    public int VirtiofsdPoolThreads { get; private set; }
    public long? SpinMicros { get; private set; }
    public long DriverSpinMicros { get; private set; }
    public int[] Depths { get; private set; } = [1, VirtioFs.Bench.Targets.Target.MaxDepth];

    public const string Usage = """
        usage: VirtioFs.Bench [--quick] [--runs N] [--seconds S] [--dir PATH] [--workloads a,b,...]
                              [--no-virtiofsd] [--no-host-process] [--no-memory] [--pool N] [--virtiofsd-pool N]
                              [--depths 1,16] [--spin MICROS] [--driver-spin MICROS] [--markdown FILE]
          --quick            about one minute: 3 runs of 0.2 s per row, smaller memory probe
          --runs N           measured runs per row (median reported); default 5
          --seconds S        measured window per run; default 0.5
          --dir PATH         prepare and share PATH (default: a new directory in /dev/shm if it is tmpfs, else in
                             the temporary directory; deleted afterwards)
          --workloads LIST   getattr,lookup,read4k,read1m,write4k,create,readdirplus,relookup
                             (default: all)
          --targets LIST     only these rows' targets, by name (e.g. "virtiofsd,ours 1q")
          --pool N           worker threads of our adaptive-pool rows (default 4)
          --virtiofsd-pool N also run virtiofsd --thread-pool-size=N at depth 16 (default: off; QEMU 7.2's virtiofsd
                             on Debian 12 dies of SIGSYS in pool mode: its seccomp filter lacks sched_getaffinity)
          --depths LIST      queue depths to run (default 1,16)
          --spin MICROS      how long our queue threads wait for the next request before sleeping (default 30, 0: never)
          --driver-spin MICROS
                             how long the load driver polls for a reply before sleeping on the interrupt eventfd, as
                             a vCPU under KVM's halt polling does (default 0: it sleeps at once, the worst case)
          --markdown FILE    also write the tables as Markdown to FILE
        """;

    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{a} needs a value");
            switch (a)
            {
                case "--quick":
                    o.Quick = true;
                    o.Runs = 3;
                    o.Window = TimeSpan.FromMilliseconds(200);
                    o.Warmup = TimeSpan.FromMilliseconds(80);
                    break;
                case "--runs": o.Runs = int.Parse(Value()); break;
                case "--seconds": o.Window = TimeSpan.FromSeconds(double.Parse(Value(), System.Globalization.CultureInfo.InvariantCulture)); break;
                case "--dir": o.Directory = Value(); break;
                case "--workloads": o.Workloads = new HashSet<string>(Value().Split(',', StringSplitOptions.RemoveEmptyEntries)); break;
                case "--targets": o.Targets = new HashSet<string>(Value().Split(',', StringSplitOptions.RemoveEmptyEntries)); break;
                case "--no-virtiofsd": o.Virtiofsd = false; break;
                case "--no-host-process": o.HostProcess = false; break;
                case "--no-memory": o.Memory = false; break;
                case "--pool": o.PoolThreads = int.Parse(Value()); break;
                case "--virtiofsd-pool": o.VirtiofsdPoolThreads = int.Parse(Value()); break;
                case "--depths": o.Depths = Value().Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray(); break;
                case "--driver-spin": o.DriverSpinMicros = long.Parse(Value()); break;
                case "--spin": o.SpinMicros = long.Parse(Value()); break;
                case "--markdown": o.MarkdownPath = Value(); break;
                case "-h" or "--help": Console.WriteLine(Usage); Environment.Exit(0); break;
                default: throw new ArgumentException($"unknown option {a}\n{Usage}");
            }
        }
        if (o.Runs < 1) throw new ArgumentException("--runs must be at least 1");
        if (o.Depths.Length == 0 || o.Depths.Any(d => d < 1 || d > VirtioFs.Bench.Targets.Target.MaxDepth))
            throw new ArgumentException($"--depths: each depth must be 1 to {VirtioFs.Bench.Targets.Target.MaxDepth}");
        return o;
    }
}
