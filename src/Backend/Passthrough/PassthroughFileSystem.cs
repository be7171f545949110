using System.Runtime.InteropServices;
using VirtioFs.Backend.Fuse;
using VirtioFs.Backend.Fuse.Abi;
using VirtioFs.Backend.Interop;

namespace VirtioFs.Backend.Passthrough;

/// <summary>
/// Exposes one host directory to the guest, confined to it:
/// <list type="bullet">
/// <item>every inode is an O_PATH|O_NOFOLLOW descriptor keyed by (st_dev, st_ino); node id 1 is the shared directory;</item>
/// <item>every operation is an *at() call relative to a parent descriptor with one validated name component and
/// AT_SYMLINK_NOFOLLOW / O_NOFOLLOW, so nothing ever resolves through a symlink;</item>
/// <item>files are opened for I/O by reopening "/proc/self/fd/N", and only regular files and directories
/// (CVE-2020-35517: never FIFOs, sockets or devices);</item>
/// <item>no process-wide state is changed (this runs inside PowerShell): no umask(), chdir() or setuid(). Creating
/// requests run with the guest caller's fsuid/fsgid set per thread (<see cref="CallerIdentity"/>), so the host kernel
/// gives new nodes their owner, group and set-id bits; the guest's exact permission bits are restored afterwards when
/// the thread's umask is not 0 (<see cref="ServingThread"/>);</item>
/// <item>the guest may make us hold at most <see cref="PassthroughOptions.FdQuota"/> descriptors (ENFILE past it),
/// and RLIMIT_NOFILE is raised at start.</item>
/// </list>
/// Thread-safe: several queue threads may call it at once.
/// </summary>
public sealed unsafe partial class PassthroughFileSystem : IFileSystem, IDisposable
{
    private const int ENOSYS = IFileSystem.ENOSYS;

    private readonly PassthroughOptions _options;
    private readonly InodeStore _inodes;
    private readonly HandleTable _handles;
    private readonly int _procSelfFd;
    private readonly bool _privileged;
    private readonly ulong _timeoutSeconds;
    private readonly uint _timeoutNanoseconds;
    private readonly XattrMap? _xattrMap;
    private readonly int _fdQuota;
    private int _disposed;

    public PassthroughFileSystem(PassthroughOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        double timeout = options.Timeout ?? options.Cache switch
        {
            CachePolicy.Never => 0,
            CachePolicy.Auto => 1,
            _ => 86400,
        };
        _timeoutSeconds = (ulong)Math.Floor(timeout);
        _timeoutNanoseconds = (uint)Math.Min(999_999_999, Math.Round((timeout - Math.Floor(timeout)) * 1e9));
        _privileged = Libc.geteuid() == 0;
        _xattrMap = options.XattrMap is { Length: > 0 } rules ? XattrMap.Parse(rules) : null;
        ulong limit = FdLimit.Raise(options.RlimitNofile);
        _fdQuota = options.FdQuota ?? (int)Math.Min(int.MaxValue, limit > 2048 ? limit - 1024 : limit / 2);

        int rootFd = OpenPath(Libc.AT_FDCWD, options.SharedDirectory, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, "shared directory");
        int procFd = -1;
        try
        {
            if (Statx(rootFd, out Libc.statx_t st) != 0) throw ErrnoException.FromLast("statx", options.SharedDirectory);
            procFd = OpenPath(Libc.AT_FDCWD, "/proc/self/fd", Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, "/proc/self/fd");
            var root = new Inode(FuseConstants.RootId, rootFd, KeyOf(st), st.stx_mode & Libc.S_IFMT, MountIdOf(st)) { LookupCount = 1 };
            _inodes = new InodeStore(root);
            _handles = new HandleTable(options.MaxOpenHandles);
            _procSelfFd = procFd;
        }
        catch
        {
            Libc.close(rootFd);
            if (procFd >= 0) Libc.close(procFd);
            throw;
        }
    }

    public PassthroughOptions Options => _options;

    /// <summary>Inodes known to the guest, the root included.</summary>
    internal int InodeCount => _inodes.Count;

    /// <summary>Open file and directory handles.</summary>
    internal int HandleCount => _handles.Count;

    public FuseInitFlags Init(FuseInitFlags capable)
    {
        FuseInitFlags wanted = FuseInitFlags.None;
        if (_options.ReaddirPlus && _options.Cache != CachePolicy.Never)
            wanted |= FuseInitFlags.DoReaddirplus | FuseInitFlags.ReaddirplusAuto;
        if (_options.Writeback) wanted |= FuseInitFlags.WritebackCache;
        if (_options.PosixLocks) wanted |= FuseInitFlags.PosixLocks;
        if (_options.Flock) wanted |= FuseInitFlags.FlockLocks;
        if (_options.KillprivV2) wanted |= FuseInitFlags.HandleKillprivV2;
        if (_options.AnnounceSubmounts) wanted |= FuseInitFlags.Submounts;
        return wanted & capable;
    }

    public void Destroy()
    {
        _handles.Clear();
        _inodes.Clear();
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Destroy();
        _inodes.Root.Release();
        Libc.close(_procSelfFd);
    }

    private static int OpenPath(int dirFd, string path, int flags, string what)
    {
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            int fd = Libc.openat(dirFd, p, flags, 0);
            if (fd < 0) throw ErrnoException.FromLast("open", $"{what} '{path}'");
            return fd;
        }
    }

    private static int LastErrno => Marshal.GetLastPInvokeError();

    /// <summary>statx of the descriptor itself (never following a symlink).</summary>
    private static int Statx(int fd, out Libc.statx_t st)
    {
        byte empty = 0;
        fixed (Libc.statx_t* p = &st)
        {
            return Libc.statx(fd, &empty, Libc.AT_EMPTY_PATH | Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_BASIC_STATS | Libc.STATX_MNT_ID, p) == 0
                ? 0 : LastErrno;
        }
    }

    private static InodeKey KeyOf(in Libc.statx_t st)
        => new(Libc.makedev(st.stx_dev_major, st.stx_dev_minor), st.stx_ino);

    /// <summary>The mount id (kernel 5.8+); 0 when the kernel does not report it (then st_dev alone tells mounts apart).</summary>
    private static ulong MountIdOf(in Libc.statx_t st) => (st.stx_mask & Libc.STATX_MNT_ID) != 0 ? st.stx_mnt_id : 0;

    /// <summary>FUSE_ATTR_SUBMOUNT: the guest gives this directory its own superblock (st_dev, syncfs).</summary>
    private const uint AttrSubmount = 1;

    /// <summary>True when <paramref name="st"/> is the root of a host mount below <paramref name="parent"/>.</summary>
    private bool IsSubmountOf(Inode parent, in Libc.statx_t st)
        => _options.AnnounceSubmounts && (st.stx_mode & Libc.S_IFMT) == Libc.S_IFDIR &&
           (KeyOf(st).Device != parent.Key.Device || (MountIdOf(st) != 0 && MountIdOf(st) != parent.MountId));

    private static FuseAttr ToAttr(in Libc.statx_t st) => new()
    {
        Ino = st.stx_ino,
        Size = st.stx_size,
        Blocks = st.stx_blocks,
        Atime = unchecked((ulong)st.stx_atime.tv_sec),
        Mtime = unchecked((ulong)st.stx_mtime.tv_sec),
        Ctime = unchecked((ulong)st.stx_ctime.tv_sec),
        AtimeNsec = st.stx_atime.tv_nsec,
        MtimeNsec = st.stx_mtime.tv_nsec,
        CtimeNsec = st.stx_ctime.tv_nsec,
        Mode = st.stx_mode,
        Nlink = st.stx_nlink,
        Uid = st.stx_uid,
        Gid = st.stx_gid,
        Rdev = unchecked((uint)Libc.makedev(st.stx_rdev_major, st.stx_rdev_minor)),
        BlkSize = st.stx_blksize,
    };

    private FuseEntryOut MakeEntry(ulong nodeId, in Libc.statx_t st, bool submount = false)
    {
        var entry = new FuseEntryOut
        {
            NodeId = nodeId,
            EntryValid = _timeoutSeconds,
            AttrValid = _timeoutSeconds,
            EntryValidNsec = _timeoutNanoseconds,
            AttrValidNsec = _timeoutNanoseconds,
            Attr = ToAttr(st),
        };
        if (submount) entry.Attr.Flags |= AttrSubmount;
        return entry;
    }

    private FuseAttrOut MakeAttrOut(in Libc.statx_t st, bool submount = false)
    {
        var attr = new FuseAttrOut { AttrValid = _timeoutSeconds, AttrValidNsec = _timeoutNanoseconds, Attr = ToAttr(st) };
        if (submount) attr.Attr.Flags |= AttrSubmount;
        return attr;
    }

    /// <summary>
    /// Opens <paramref name="name"/> in <paramref name="dirFd"/> (the directory <paramref name="parent"/>, or a handle
    /// of it) as O_PATH|O_NOFOLLOW and records one lookup. The one way a new inode enters the table.
    /// </summary>
    private int LookupAt(Inode parent, int dirFd, byte* name, out FuseEntryOut entry)
    {
        entry = default;
        int fd = Libc.openat(dirFd, name, Libc.O_PATH | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0);
        if (fd < 0) return LastErrno;
        int errno = Statx(fd, out Libc.statx_t st);
        if (errno != 0)
        {
            Libc.close(fd);
            return errno;
        }
        ulong nodeId;
        if (OverFdQuota())
        {
            // At the quota only inodes the guest already knows may be looked up again (they cost no descriptor).
            Libc.close(fd);
            if (!_inodes.TryAddLookupIfKnown(KeyOf(st), out nodeId)) return ENFILE;
        }
        else
        {
            nodeId = _inodes.AddLookup(fd, KeyOf(st), st.stx_mode & Libc.S_IFMT, MountIdOf(st));
        }
        entry = MakeEntry(nodeId, st, IsSubmountOf(parent, st));
        return 0;
    }

    /// <summary>Reopens an inode through /proc/self/fd/N with I/O flags; the magic link resolves to the inode itself.</summary>
    private int Reopen(Inode inode, int flags)
    {
        byte* path = stackalloc byte[ProcFdPath.BufferSize];
        ProcFdPath.FormatRelative(inode.Fd, new Span<byte>(path, ProcFdPath.BufferSize));
        // O_NOFOLLOW would refuse the magic link itself; O_CREAT must never reach this path.
        int clean = (flags & ~(Libc.O_NOFOLLOW | Libc.O_CREAT | Libc.O_EXCL)) | Libc.O_CLOEXEC;
        int fd = Libc.openat(_procSelfFd, path, clean, 0);
        return fd < 0 ? -LastErrno : fd;
    }

    /// <summary>chmod of an inode through /proc/self/fd/N (fchmod refuses O_PATH descriptors).</summary>
    private int ChmodInode(int inodeFd, uint mode)
    {
        byte* path = stackalloc byte[ProcFdPath.BufferSize];
        ProcFdPath.FormatRelative(inodeFd, new Span<byte>(path, ProcFdPath.BufferSize));
        return Libc.fchmodat(_procSelfFd, path, mode, 0) == 0 ? 0 : LastErrno;
    }

    private Inode? Acquire(ulong nodeId) => _inodes.Acquire(nodeId);

    /// <summary>
    /// True when the guest already makes us hold as many descriptors as it may (inodes plus handles): the next one
    /// is refused with ENFILE, which the guest reports as "too many open files in system", while the daemon goes on
    /// serving. An inode the guest already knows costs nothing new and may still be looked up.
    /// </summary>
    private bool OverFdQuota() => _inodes.Count + _handles.Count >= _fdQuota;
}
