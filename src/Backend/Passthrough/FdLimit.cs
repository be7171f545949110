using VirtioFs.Backend.Interop;

namespace VirtioFs.Backend.Passthrough;

/// <summary>
/// RLIMIT_NOFILE, raised as virtiofsd's --rlimit-nofile does: every inode the guest knows holds a descriptor, so the
/// default 1024 is far too low. The limit is per process; raising it only ever helps the rest of the process (the
/// PowerShell session), so it is raised, never lowered.
/// </summary>
internal static unsafe class FdLimit
{
    /// <summary>virtiofsd's default target: min(1,000,000, /proc/sys/fs/nr_open).</summary>
    public const ulong DefaultTarget = 1_000_000;

    /// <summary>
    /// Raises the soft limit (and the hard one, when we may) to <paramref name="wanted"/> (null: the default target,
    /// 0: leave it alone). Returns the soft limit in force afterwards.
    /// </summary>
    public static ulong Raise(ulong? wanted)
    {
        Libc.rlimit limit;
        if (Libc.getrlimit(Libc.RLIMIT_NOFILE, &limit) != 0) return 1024;
        ulong target = wanted ?? Math.Min(DefaultTarget, NrOpen());
        if (target == 0 || limit.rlim_cur >= target) return limit.rlim_cur;
        var raised = new Libc.rlimit { rlim_cur = target, rlim_max = Math.Max(limit.rlim_max, target) };
        if (Libc.setrlimit(Libc.RLIMIT_NOFILE, &raised) == 0) return target;
        // Not allowed to raise the hard limit: go as far as it allows.
        if (limit.rlim_cur < limit.rlim_max)
        {
            raised = new Libc.rlimit { rlim_cur = Math.Min(target, limit.rlim_max), rlim_max = limit.rlim_max };
            if (Libc.setrlimit(Libc.RLIMIT_NOFILE, &raised) == 0) return raised.rlim_cur;
        }
        return limit.rlim_cur;
    }

    /// <summary>The soft limit now.</summary>
    public static ulong Current()
    {
        Libc.rlimit limit;
        return Libc.getrlimit(Libc.RLIMIT_NOFILE, &limit) == 0 ? limit.rlim_cur : 1024;
    }

    private static ulong NrOpen()
    {
        try
        {
            return ulong.TryParse(File.ReadAllText("/proc/sys/fs/nr_open").Trim(), out ulong n) ? n : 1_048_576;
        }
        catch (IOException)
        {
            return 1_048_576;
        }
        catch (UnauthorizedAccessException)
        {
            return 1_048_576;
        }
    }
}
