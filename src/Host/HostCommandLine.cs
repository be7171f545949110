using VirtioFs.Backend.Passthrough;
using VirtioFs.Backend.Share;

namespace VirtioFs.Host;

/// <summary>
/// virtiofsd's command line (the Rust daemon's long options plus the C daemon's "-o key=value" list), so that
/// virtiofs-host can stand in for virtiofsd in existing QEMU and libvirt setups. Options that only make sense for
/// virtiofsd's own sandboxing are accepted and reported, never silently given a different meaning.
/// </summary>
internal sealed class HostCommandLine
{
    public string? SharedDir;
    public string? SocketPath;
    public int? Fd;
    public string? Tag;
    public CachePolicy Cache = CachePolicy.Auto;
    public bool ReadOnly, Xattr, Writeback, NoReaddirPlus;
    public int ThreadPoolSize;
    public double? Timeout;
    public bool PosixLocks, Flock, KillprivV2, AllowDirectIo;
    public bool AnnounceSubmounts = true;
    public string? XattrMap;
    public ulong? RlimitNofile;
    public InodeFileHandles InodeFileHandles = InodeFileHandles.Prefer;
    public int RequestQueues = 1;
    public ShareLogLevel LogLevel = ShareLogLevel.Info;
    public bool Help, Version, PrintCapabilities;
    public readonly List<string> Notes = new();

    /// <summary>Parses <paramref name="args"/>; throws <see cref="ArgumentException"/> naming the bad option.</summary>
    public static HostCommandLine Parse(IReadOnlyList<string> args)
    {
        var line = new HostCommandLine();
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            string name = arg;
            string? value = null;
            int eq = arg.IndexOf('=');
            if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 0)
            {
                name = arg[..eq];
                value = arg[(eq + 1)..];
            }
            string Next()
            {
                if (value is not null) return value;
                if (i + 1 >= args.Count) throw new ArgumentException($"Option '{name}' needs a value.");
                return args[++i];
            }
            switch (name)
            {
                case "-h" or "--help": line.Help = true; break;
                case "-V" or "--version": line.Version = true; break;
                case "--print-capabilities": line.PrintCapabilities = true; break;
                case "--shared-dir": line.SharedDir = Next(); break;
                case "--socket-path" or "--socket": line.SocketPath = Next(); break;
                case "--fd": line.Fd = ParseInt(name, Next(), 0, int.MaxValue); break;
                case "--tag": line.Tag = Next(); break;
                case "--cache": line.Cache = ParseCache(Next()); break;
                case "--thread-pool-size": line.ThreadPoolSize = ParseInt(name, Next(), 0, 1024); break;
                case "--request-queues": line.RequestQueues = ParseInt(name, Next(), 1, 255); break;
                case "--readonly": line.ReadOnly = true; break;
                case "--xattr": line.Xattr = true; break;
                case "--writeback": line.Writeback = true; break;
                case "--no-readdirplus": line.NoReaddirPlus = true; break;
                case "--log-level": line.LogLevel = ParseLogLevel(Next()); break;
                case "-o": line.ParseOptionList(Next()); break;
                case "-f" or "--foreground" or "-s": break;   // we never daemonize (vhost-user.rst: don't)
                case "-d" or "--debug": line.LogLevel = ShareLogLevel.Debug; break;
                case "--syslog": line.Notes.Add("--syslog is not supported; logging to stderr"); break;
                case "--xattrmap": line.XattrMap = Next(); break;
                case "--rlimit-nofile": line.RlimitNofile = ParseULong(name, Next()); break;
                case "--announce-submounts":
                    line.AnnounceSubmounts = true;
                    line.Notes.Add("--announce-submounts is already the default");
                    break;
                case "--no-announce-submounts": line.AnnounceSubmounts = false; break;
                case "--allow-direct-io": line.AllowDirectIo = true; break;
                case "--killpriv-v2": line.KillprivV2 = true; break;
                case "--no-killpriv-v2": line.KillprivV2 = false; break;
                case "--inode-file-handles":
                    line.InodeFileHandles = Next() switch
                    {
                        "never" => InodeFileHandles.Never,
                        "prefer" or "fallback" => InodeFileHandles.Prefer,   // "fallback": virtiofsd's old name for prefer
                        "mandatory" => InodeFileHandles.Mandatory,
                        string other => throw new ArgumentException($"Unknown --inode-file-handles mode '{other}'; use never, prefer or mandatory."),
                    };
                    break;
                case "--sandbox" or "--seccomp" or "--modcaps" or "--socket-group" or "--migration-mode" or "--migration-on-error":
                    line.Notes.Add($"{name}={Next()} is accepted for compatibility and has no effect yet");
                    break;
                case "--posix-acl" or "--security-label" or "--allow-mmap" or "--preserve-noatime":
                    line.Notes.Add($"{name} is accepted for compatibility and has no effect yet");
                    break;
                default:
                    if (arg.StartsWith("-o", StringComparison.Ordinal) && arg.Length > 2)
                    {
                        line.ParseOptionList(arg[2..]);
                        break;
                    }
                    throw new ArgumentException($"Unknown option '{arg}'. Run with --help for the list.");
            }
        }
        return line;
    }

    /// <summary>The C virtiofsd's "-o source=DIR,cache=auto,xattr,..." list.</summary>
    private void ParseOptionList(string list)
    {
        foreach (string item in list.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = item.IndexOf('=');
            string key = eq < 0 ? item : item[..eq];
            string? value = eq < 0 ? null : item[(eq + 1)..];
            string Value() => value ?? throw new ArgumentException($"-o {key} needs a value ({key}=...).");
            switch (key)
            {
                case "source": SharedDir = Value(); break;
                case "cache": Cache = ParseCache(Value()); break;
                case "xattr": Xattr = true; break;
                case "no_xattr": Xattr = false; break;
                case "readdirplus": NoReaddirPlus = false; break;
                case "no_readdirplus": NoReaddirPlus = true; break;
                case "writeback": Writeback = true; break;
                case "no_writeback": Writeback = false; break;
                case "readonly": ReadOnly = true; break;
                case "log_level": LogLevel = ParseLogLevel(Value()); break;
                case "thread_pool_size": ThreadPoolSize = ParseInt("thread_pool_size", Value(), 0, 1024); break;
                case "flock": Flock = true; break;
                case "no_flock": Flock = false; break;
                case "posix_lock": PosixLocks = true; break;
                case "no_posix_lock": PosixLocks = false; break;
                case "timeout": Timeout = ParseSeconds(Value()); break;
                case "announce_submounts": AnnounceSubmounts = true; break;
                case "killpriv_v2": KillprivV2 = true; break;
                case "no_killpriv_v2": KillprivV2 = false; break;
                case "allow_direct_io": AllowDirectIo = true; break;
                case "no_allow_direct_io": AllowDirectIo = false; break;
                case "xattrmap": XattrMap = Value(); break;
                case "norace":
                    // The C virtiofsd's norace turns off a racy path-based fallback used when /proc/self/fd is missing;
                    // we always work through descriptors and /proc/self/fd, so there is nothing to turn off.
                    break;
                case "sandbox":
                    Notes.Add($"-o {item} is accepted for compatibility and has no effect yet");
                    break;
                default: throw new ArgumentException($"Unknown -o option '{key}'. Run with --help for the list.");
            }
        }
    }

    private static CachePolicy ParseCache(string value) => value switch
    {
        "none" or "never" => CachePolicy.Never,
        "metadata" => CachePolicy.Metadata,
        "auto" => CachePolicy.Auto,
        "always" => CachePolicy.Always,
        _ => throw new ArgumentException($"Unknown cache policy '{value}'; use never, metadata, auto or always."),
    };

    private static ShareLogLevel ParseLogLevel(string value) => value switch
    {
        "error" => ShareLogLevel.Error,
        "warn" or "warning" => ShareLogLevel.Warning,
        "info" => ShareLogLevel.Info,
        "debug" or "trace" => ShareLogLevel.Debug,
        _ => throw new ArgumentException($"Unknown log level '{value}'; use error, warn, info or debug."),
    };

    private static double ParseSeconds(string text)
    {
        if (!double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double seconds) ||
            double.IsNaN(seconds) || seconds < 0 || seconds > uint.MaxValue)
            throw new ArgumentException($"-o timeout needs a number of seconds from 0 to 4294967295, not '{text}'.");
        return seconds;
    }

    private static ulong ParseULong(string name, string text)
    {
        if (!ulong.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out ulong n))
            throw new ArgumentException($"Option '{name}' needs a whole number, not '{text}'.");
        return n;
    }

    private static int ParseInt(string name, string text, int min, int max)
    {
        if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) || n < min || n > max)
            throw new ArgumentException($"Option '{name}' needs a whole number from {min} to {max}, not '{text}'.");
        return n;
    }

    public ShareOptions ToShareOptions()
    {
        if (SharedDir is null) throw new ArgumentException("No shared directory. Pass --shared-dir DIR (or -o source=DIR).");
        if ((SocketPath is null) == (Fd is null)) throw new ArgumentException("Pass exactly one of --socket-path PATH and --fd N.");
        if (XattrMap is not null) VirtioFs.Backend.Passthrough.XattrMap.Parse(XattrMap);   // a bad rule is named now, not at start
        return new ShareOptions
        {
            SharedDirectory = SharedDir,
            SocketPath = SocketPath,
            ListenFd = Fd,
            Tag = Tag,
            AdvertiseConfig = Tag is not null,
            Cache = Cache,
            ReadOnly = ReadOnly,
            Xattr = Xattr,
            Writeback = Writeback,
            ReaddirPlus = !NoReaddirPlus && Cache != CachePolicy.Never,
            ThreadPoolSize = ThreadPoolSize,
            RequestQueues = RequestQueues,
            Timeout = Timeout,
            PosixLocks = PosixLocks,
            Flock = Flock,
            AnnounceSubmounts = AnnounceSubmounts,
            KillprivV2 = KillprivV2,
            AllowDirectIo = AllowDirectIo,
            XattrMap = XattrMap,
            RlimitNofile = RlimitNofile,
            InodeFileHandles = InodeFileHandles,
        };
    }
}
