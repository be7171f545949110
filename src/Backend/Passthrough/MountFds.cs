using System.Runtime.InteropServices;
using VirtioFs.Backend.Interop;

namespace VirtioFs.Backend.Passthrough;

/// <summary>
/// One descriptor per host mount the share reaches (the mount id name_to_handle_at reports), for open_by_handle_at,
/// and whether file handles work there at all. open_by_handle_at refuses an O_PATH descriptor as its mount_fd (EBADF),
/// so the first directory met on a mount is reopened read-only through /proc/self/fd and kept: for the share's own
/// mount that is the root, for a submount its root directory, since a mount is only reached through its root.
/// Nothing but a directory is ever opened for this (never a FIFO or device, CVE-2020-35517). A mount's descriptor is
/// kept until the share stops (as virtiofsd keeps its mount fds): the guest cannot create mounts, so there are as
/// many as the host has below the share.
/// Thread-safe under its own lock; lookups of a known mount take it briefly.
/// </summary>
internal sealed unsafe class MountFds : IDisposable
{
    private readonly Dictionary<int, Entry> _mounts = new();

    private readonly record struct Entry(int Fd, int Errno);

    /// <summary>The mount the last call asked for: nearly every lookup is on the share's own mount, so it needs no lock.</summary>
    private sealed record LastMount(int MountId, Entry Entry);

    private volatile LastMount? _last;

    /// <summary>
    /// The descriptor for <paramref name="mountId"/>, registering one on first sight from <paramref name="onMount"/>
    /// (an O_PATH descriptor of a directory on that mount, not taken over; -1 when the inode at hand is not a
    /// directory) and its <paramref name="handle"/>. Returns the fd, or -errno: EOPNOTSUPP when the mount is not
    /// known yet and no directory was offered, else what open_by_handle_at answered when the mount was probed
    /// (EPERM without CAP_DAC_READ_SEARCH, ESTALE or EOPNOTSUPP on a file system that cannot decode its handles).
    /// </summary>
    public int Get(int mountId, int onMount, byte[] handle, int procSelfFd)
    {
        // Entries never change or leave while the share runs (only Dispose clears them), so a remembered one stays right.
        LastMount? last = _last;
        if (last is not null && last.MountId == mountId) return last.Entry.Errno == 0 ? last.Entry.Fd : -last.Entry.Errno;
        lock (_mounts)
        {
            if (_mounts.TryGetValue(mountId, out Entry known))
            {
                _last = new LastMount(mountId, known);
                return known.Errno == 0 ? known.Fd : -known.Errno;
            }
        }
        if (onMount < 0) return -EOPNOTSUPP;
        int fd = ReopenDirectory(onMount, procSelfFd);
        if (fd < 0) return fd;   // out of descriptors, say: tell this lookup, decide for the mount next time
        int errno = Probe(fd, handle);
        if (errno != 0)
        {
            Libc.close(fd);
            fd = -1;
        }
        lock (_mounts)
        {
            if (_mounts.TryGetValue(mountId, out Entry raced))
            {
                if (fd >= 0) Libc.close(fd);
                return raced.Errno == 0 ? raced.Fd : -raced.Errno;
            }
            _mounts.Add(mountId, new Entry(fd, errno));
        }
        return errno == 0 ? fd : -errno;
    }

    private const int EOPNOTSUPP = 95;

    private static int ReopenDirectory(int pathFd, int procSelfFd)
    {
        byte* path = stackalloc byte[ProcFdPath.BufferSize];
        ProcFdPath.FormatRelative(pathFd, new Span<byte>(path, ProcFdPath.BufferSize));
        int fd = Libc.openat(procSelfFd, path, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
        return fd < 0 ? -Marshal.GetLastPInvokeError() : fd;
    }

    public int Count
    {
        get
        {
            lock (_mounts) return _mounts.Count;
        }
    }

    /// <summary>0 when open_by_handle_at reopens <paramref name="handle"/> relative to <paramref name="onMount"/>, else its errno.</summary>
    private static int Probe(int onMount, byte[] handle)
    {
        fixed (byte* h = handle)
        {
            int fd = Libc.open_by_handle_at(onMount, (Libc.file_handle_header*)h, Libc.O_PATH | Libc.O_CLOEXEC | Libc.O_NOFOLLOW);
            if (fd < 0) return Marshal.GetLastPInvokeError();
            Libc.close(fd);
            return 0;
        }
    }

    public void Dispose()
    {
        lock (_mounts)
        {
            foreach (Entry entry in _mounts.Values)
            {
                if (entry.Fd >= 0) Libc.close(entry.Fd);
            }
            _mounts.Clear();
            _last = null;
        }
    }
}
