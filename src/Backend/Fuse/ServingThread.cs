using VirtioFs.Backend.Interop;

namespace VirtioFs.Backend.Fuse;

/// <summary>
/// Per-thread state of a thread that serves FUSE requests. virtiofsd sets umask(0) and drops supplementary groups for
/// its whole process; we run inside someone else's process (PowerShell), so we do it per thread, and only on threads
/// that are ours for their whole life (queue threads, /dev/fuse threads):
/// <list type="bullet">
/// <item><see cref="PrepareDedicated"/>: unshare(CLONE_FS) so the thread gets its own umask (and cwd), then umask(0),
/// so new nodes get exactly the mode the guest asked for (the guest kernel already applied the guest's umask);</item>
/// <item><see cref="DropSupplementaryGroups"/>: the thread forgets the groups it inherited (root's), so a request run
/// under the guest caller's fsuid/fsgid can never use them (CVE-2022-0358). Also done lazily by the credential switch
/// on any thread that switches.</item>
/// </list>
/// </summary>
public static class ServingThread
{
    [ThreadStatic] private static bool t_private;
    [ThreadStatic] private static bool t_groupsDropped;

    /// <summary>True when this thread has its own umask, and it is 0 (see <see cref="PrepareDedicated"/>).</summary>
    public static bool HasZeroUmask => t_private;

    /// <summary>True when this thread no longer has inherited supplementary groups.</summary>
    public static bool GroupsDropped => t_groupsDropped;

    /// <summary>
    /// Makes the calling thread's file-system state private and its umask 0, and drops its supplementary groups when
    /// running as root. Call only on a thread that serves requests until it ends. Returns false (and changes nothing
    /// visible to other threads) when unshare is refused, e.g. by a seccomp filter.
    /// </summary>
    public static bool PrepareDedicated()
    {
        if (!t_private)
        {
            if (Libc.unshare(Libc.CLONE_FS) != 0) return false;
            Libc.umask(0);
            t_private = true;
        }
        DropSupplementaryGroups();
        return true;
    }

    /// <summary>Drops the calling thread's supplementary groups (root only; a no-op otherwise). Idempotent.</summary>
    public static void DropSupplementaryGroups()
    {
        if (t_groupsDropped) return;
        if (Libc.geteuid() != 0)
        {
            t_groupsDropped = true;   // without CAP_SETGID the switch never happens, so the groups are never used
            return;
        }
        if (Libc.SetThreadGroups(ReadOnlySpan<uint>.Empty) == 0) t_groupsDropped = true;
    }
}
