namespace VirtioFs.Backend.Passthrough;

/// <summary>
/// How many descriptors guests may make this process hold. The share runs inside a host process (PowerShell): if the
/// guests took every descriptor up to RLIMIT_NOFILE, the user's session itself would fail to open files. So a reserve
/// of max(1024, 10% of the limit) is always left to the process, and the budget is shared by every share in the
/// process (each also has its own quota, <see cref="PassthroughOptions.FdQuota"/>): descriptor-held inodes, open
/// handles and lock descriptors of all live shares together stay under limit - reserve. Thread-safe.
/// </summary>
internal static class FdBudget
{
    /// <summary>The smallest reserve: what a PowerShell session with a few modules and jobs needs with room to spare.</summary>
    public const int MinimumReserve = 1024;

    private static readonly object s_gate = new();
    private static PassthroughFileSystem[] s_live = [];
    private static int s_processQuota = int.MaxValue;

    /// <summary>Descriptors left to the host process below <paramref name="limit"/>: max(1024, limit / 10).</summary>
    public static ulong Reserve(ulong limit) => Math.Max(MinimumReserve, limit / 10);

    /// <summary>
    /// What guests may make the process hold under <paramref name="limit"/>: limit - reserve, or half the limit when
    /// the limit is too small for the reserve (the guests then get the other half).
    /// </summary>
    public static int Quota(ulong limit)
    {
        ulong reserve = Reserve(limit);
        ulong quota = limit > 2 * reserve ? limit - reserve : limit / 2;
        return (int)Math.Clamp(quota, 1, int.MaxValue);
    }

    /// <summary>The process-wide quota now (from the limit the last share started with).</summary>
    public static int ProcessQuota => Volatile.Read(ref s_processQuota);

    /// <summary>Descriptors all live shares of this process hold for their guests right now.</summary>
    public static int Held
    {
        get
        {
            int held = 0;
            foreach (PassthroughFileSystem fs in Volatile.Read(ref s_live)) held += fs.HeldFdCount;
            return held;
        }
    }

    /// <summary>True when the guests of all shares together hold the whole process-wide budget.</summary>
    public static bool Exhausted
    {
        get
        {
            int held = Held;
            if (held < ProcessQuota) return false;
            // The quota is cached from the limit the last share started with; the process (or a test) may have
            // changed RLIMIT_NOFILE since. Before refusing, take the limit in force now.
            Volatile.Write(ref s_processQuota, Quota(FdLimit.Current()));
            return held >= ProcessQuota;
        }
    }

    /// <summary>A share starts; <paramref name="limit"/> is RLIMIT_NOFILE after it raised it.</summary>
    public static void Register(PassthroughFileSystem fs, ulong limit)
    {
        lock (s_gate)
        {
            s_live = [.. s_live, fs];
            Volatile.Write(ref s_processQuota, Quota(limit));
        }
    }

    /// <summary>True while <paramref name="fs"/> counts against the budget.</summary>
    public static bool Contains(PassthroughFileSystem fs) => Array.IndexOf(Volatile.Read(ref s_live), fs) >= 0;

    public static void Unregister(PassthroughFileSystem fs)
    {
        lock (s_gate) s_live = s_live.Where(live => !ReferenceEquals(live, fs)).ToArray();
    }
}
