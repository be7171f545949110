using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VirtioFs.Backend.Fuse;
using VirtioFs.Backend.Fuse.Abi;
using VirtioFs.Backend.Interop;

namespace VirtioFs.Backend.Passthrough;

/// <summary>
/// Exposes one host directory to the guest, confined to it:
/// <list type="bullet">
/// <item>every inode is keyed by (st_dev, st_ino) and held by the file handle of an O_PATH|O_NOFOLLOW descriptor we
/// opened under the share (reopened with open_by_handle_at, a bounded number cached; see <see cref="InodeFileHandles"/>),
/// or by that descriptor itself; node id 1 is the shared directory. Handles never come from the guest;</item>
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
    private readonly ulong _fdLimit;
    private readonly StrongBox<int> _lockFds = new();
    private readonly MountFds _mounts = new();
    private readonly bool _fileHandles;
    private RelookupRate _relookups;
    private long _lookupsAnsweredByName;
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
        _fdLimit = limit;
        _fdQuota = options.FdQuota ?? FdBudget.Quota(limit);

        int rootFd = OpenPath(Libc.AT_FDCWD, options.SharedDirectory, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, "shared directory");
        int procFd = -1;
        try
        {
            if (Statx(rootFd, out Libc.statx_t st) != 0) throw ErrnoException.FromLast("statx", options.SharedDirectory);
            procFd = OpenPath(Libc.AT_FDCWD, "/proc/self/fd", Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, "/proc/self/fd");
            _procSelfFd = procFd;
            _fileHandles = ProbeFileHandles(rootFd, options.InodeFileHandles, out string? unavailable);
            FileHandlesUnavailableReason = unavailable;
            var root = new Inode(FuseConstants.RootId, rootFd, KeyOf(st), st.stx_mode & Libc.S_IFMT, MountIdOf(st)) { LookupCount = 1 };
            _inodes = new InodeStore(root, options.InodeFdCacheSize);
            _handles = new HandleTable(options.MaxOpenHandles);
            FdBudget.Register(this, limit);
        }
        catch
        {
            Libc.close(rootFd);
            if (procFd >= 0) Libc.close(procFd);
            _mounts.Dispose();
            throw;
        }
    }

    /// <summary>True when inodes are held by file handles (where their mount allows), false when by descriptors.</summary>
    public bool UsesFileHandles => _fileHandles;

    /// <summary>Why file handles are not used although <see cref="PassthroughOptions.InodeFileHandles"/> preferred them (null otherwise).</summary>
    public string? FileHandlesUnavailableReason { get; }

    /// <summary>
    /// Decides whether to hold inodes by file handles: the share's own mount must make handles we can reopen
    /// (open_by_handle_at needs CAP_DAC_READ_SEARCH). Registers the root's mount on the way. Mandatory without them
    /// refuses to start.
    /// </summary>
    private bool ProbeFileHandles(int rootFd, InodeFileHandles mode, out string? unavailable)
    {
        unavailable = null;
        if (mode == InodeFileHandles.Never) return false;
        int errno = MakeFileHandle(rootFd, isDirectory: true, out _, out _);
        if (errno == 0) return true;
        string why = errno == EPERM
            ? "open_by_handle_at needs CAP_DAC_READ_SEARCH, which the daemon does not have"
            : $"the shared directory's file system gives no usable file handles: {((Errno)errno).Describe()}";
        if (mode == InodeFileHandles.Mandatory)
            throw new ErrnoException("open_by_handle_at", (Errno)errno, $"--inode-file-handles=mandatory, but {why} ('{_options.SharedDirectory}')");
        unavailable = why;
        return false;
    }

    /// <summary>
    /// The file handle of the inode behind the O_PATH descriptor <paramref name="fd"/> and the fd of its mount to
    /// reopen it with; 0 or the errno (EOPNOTSUPP: the file system has none, or a file on a mount we have not entered
    /// through a directory yet; EPERM, ESTALE: they cannot be reopened).
    /// </summary>
    private int MakeFileHandle(int fd, bool isDirectory, out byte[] handle, out int mountFd)
    {
        handle = Array.Empty<byte>();
        mountFd = -1;
        const int headerSize = 8;   // struct file_handle: handle_bytes, handle_type, then f_handle
        byte* buffer = stackalloc byte[headerSize + Libc.MAX_HANDLE_SZ];
        var header = (Libc.file_handle_header*)buffer;
        header->handle_bytes = Libc.MAX_HANDLE_SZ;
        header->handle_type = 0;
        int mountId;
        byte empty = 0;
        if (Libc.name_to_handle_at(fd, &empty, header, &mountId, Libc.AT_EMPTY_PATH) != 0) return LastErrno;
        // Who might lie: nobody (the kernel), but a handle longer than MAX_HANDLE_SZ would have been EOVERFLOW.
        if (header->handle_bytes > Libc.MAX_HANDLE_SZ) return EOVERFLOW;
        handle = new ReadOnlySpan<byte>(buffer, headerSize + (int)header->handle_bytes).ToArray();
        int mount = _mounts.Get(mountId, isDirectory ? fd : -1, handle, _procSelfFd);
        if (mount < 0) return -mount;
        mountFd = mount;
        return 0;
    }

    private const int EOVERFLOW = 75;

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
        FdBudget.Unregister(this);
        Destroy();
        _inodes.Root.Release();
        Libc.close(_procSelfFd);
        _mounts.Dispose();
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
    /// of it) as O_PATH|O_NOFOLLOW and records one lookup. The one way a new inode enters the table by name.
    /// </summary>
    private int LookupAt(Inode parent, int dirFd, byte* name, out FuseEntryOut entry)
    {
        entry = default;
        ulong nodeId;
        Libc.statx_t st;
        bool byName = _relookups.Likely;
        if (byName)
        {
            // Re-validation: one statx by name answers for an inode the guest already knows, with no descriptor opened.
            // The name is one component and the last one is not followed, so this sees what openat(O_PATH|O_NOFOLLOW)
            // would have opened; a name replaced right after is a lookup that came first.
            if (Libc.statx(dirFd, name, Libc.AT_SYMLINK_NOFOLLOW | Libc.AT_NO_AUTOMOUNT, Libc.STATX_BASIC_STATS | Libc.STATX_MNT_ID, &st) != 0)
                return LastErrno;
            bool known = _inodes.TryAddLookupIfKnown(KeyOf(st), out nodeId);
            _relookups.Record(known);
            if (known)
            {
                Interlocked.Increment(ref _lookupsAnsweredByName);
                entry = MakeEntry(nodeId, st, IsSubmountOf(parent, st));
                return 0;
            }
        }
        int fd = Libc.openat(dirFd, name, Libc.O_PATH | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0);
        if (fd < 0) return LastErrno;
        int errno = Statx(fd, out st);
        if (errno != 0)
        {
            Libc.close(fd);
            return errno;
        }
        errno = AddLookup(fd, st, keepFd: false, checkQuota: true, out nodeId, out bool wasKnown);
        if (errno != 0) return errno;
        if (!byName) _relookups.Record(wasKnown);   // a look by name has counted this lookup already
        entry = MakeEntry(nodeId, st, IsSubmountOf(parent, st));
        return 0;
    }

    /// <summary>LOOKUPs answered by one statx by name (see <see cref="RelookupRate"/>); for tests.</summary>
    internal long LookupsAnsweredByName => Interlocked.Read(ref _lookupsAnsweredByName);

    /// <summary>
    /// Records one lookup of the inode behind <paramref name="fd"/> (an O_PATH descriptor we opened under the share,
    /// taken over; <paramref name="st"/> is its statx). A new inode is held by its file handle when we use them and
    /// its mount has them (then <paramref name="fd"/> only goes into the cache), else by the descriptor, which
    /// <paramref name="keepFd"/> asks for (O_TMPFILE: no name, so no handle can reopen it).
    /// With <paramref name="checkQuota"/>, a new descriptor-held inode past the fd quota answers ENFILE: at the quota
    /// only inodes the guest already knows, or handle-held ones, may be looked up.
    /// </summary>
    private int AddLookup(int fd, in Libc.statx_t st, bool keepFd, bool checkQuota, out ulong nodeId)
        => AddLookup(fd, st, keepFd, checkQuota, out nodeId, out _);

    private int AddLookup(int fd, in Libc.statx_t st, bool keepFd, bool checkQuota, out ulong nodeId, out bool wasKnown)
    {
        InodeKey key = KeyOf(st);
        wasKnown = _inodes.TryAddLookupIfKnown(key, out nodeId);
        if (wasKnown)
        {
            Libc.close(fd);
            return 0;
        }
        byte[]? handle = null;
        int mountFd = -1;
        if (_fileHandles && !keepFd)
        {
            int errno = MakeFileHandle(fd, (st.stx_mode & Libc.S_IFMT) == Libc.S_IFDIR, out byte[] made, out mountFd);
            if (errno == 0) handle = made;
            else if (_options.InodeFileHandles == InodeFileHandles.Mandatory)
            {
                Libc.close(fd);
                return errno;
            }
        }
        if (handle is null && checkQuota && OverFdQuota())
        {
            Libc.close(fd);
            return ENFILE;
        }
        nodeId = _inodes.AddLookup(fd, key, st.stx_mode & Libc.S_IFMT, MountIdOf(st), handle, mountFd);
        return 0;
    }

    /// <summary>
    /// The inode's O_PATH descriptor, reopened from its file handle when it is not cached; valid while the caller
    /// holds its reference. Or -errno: ESTALE when the host removed the inode since.
    /// </summary>
    private int PathFd(Inode inode)
    {
        int fd = inode.CurrentFd;
        if (fd >= 0)
        {
            inode.RecentlyUsed = true;
            return fd;
        }
        byte[]? handle = inode.FileHandle;
        if (handle is null) return -EBADF;   // a descriptor-held inode always has its descriptor while referenced
        fixed (byte* h = handle)
        {
            fd = Libc.open_by_handle_at(inode.MountFd, (Libc.file_handle_header*)h, Libc.O_PATH | Libc.O_NOFOLLOW | Libc.O_CLOEXEC);
        }
        if (fd < 0) return -LastErrno;
        return _inodes.CacheFd(inode, fd);
    }

    /// <summary>
    /// Before the guest removes <paramref name="name"/> from <paramref name="dirFd"/> (UNLINK, RMDIR, RENAME over it):
    /// if it is the last name of a handle-held inode the guest knows, keep that inode's descriptor from now on. An
    /// unlinked inode may not be reopened by its handle (ESTALE), but the guest may still use it (an open file it
    /// unlinked: fchmod, fgetxattr, locks, GETATTR), as it could on a local disk. Past the fd quota it is not kept.
    /// </summary>
    private void PinForRemoval(int dirFd, byte* name)
    {
        if (!_fileHandles) return;
        // By name first: usually the inode is unknown to the guest, already held, or still has its cached descriptor
        // (a file created and removed soon after), and no descriptor needs opening at all.
        Libc.statx_t byName;
        if (Libc.statx(dirFd, name, Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_BASIC_STATS, &byName) != 0) return;
        if (((byName.stx_mode & Libc.S_IFMT) != Libc.S_IFDIR && byName.stx_nlink > 1) || OverFdQuota()) return;
        if (_inodes.TryPinWithoutOpening(KeyOf(byName))) return;
        int fd = Libc.openat(dirFd, name, Libc.O_PATH | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0);
        if (fd < 0) return;
        if (Statx(fd, out Libc.statx_t st) != 0 || KeyOf(st) != KeyOf(byName))
        {
            Libc.close(fd);   // the name changed in between: the guest's removal will answer for itself
            return;
        }
        _inodes.Pin(KeyOf(st), fd);
    }

    /// <summary>Reopens an inode through /proc/self/fd/N with I/O flags; the magic link resolves to the inode itself.</summary>
    private int Reopen(Inode inode, int flags)
    {
        int pathFd = PathFd(inode);
        if (pathFd < 0) return pathFd;
        byte* path = stackalloc byte[ProcFdPath.BufferSize];
        ProcFdPath.FormatRelative(pathFd, new Span<byte>(path, ProcFdPath.BufferSize));
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
    /// True when the guest already makes us hold as many descriptors as it may: descriptor-held inodes, open handles
    /// and lock descriptors (handle-held inodes hold none, and their cache is bounded on its own), against this
    /// share's quota and against the budget of all shares in the process (<see cref="FdBudget"/>: a reserve of
    /// max(1024, 10% of RLIMIT_NOFILE) always stays with the host process). The next one is refused with ENFILE,
    /// which the guest reports as "too many open files in system", while the daemon goes on serving. An inode the
    /// guest already knows costs nothing new and may still be looked up.
    /// </summary>
    private bool OverFdQuota() => HeldFdCount >= _fdQuota || FdBudget.Exhausted;

    /// <summary>This share's own quota (the process-wide budget applies as well).</summary>
    internal int FdQuota => _fdQuota;

    /// <summary>RLIMIT_NOFILE when the share started (after raising it).</summary>
    internal ulong FdLimitAtStart => _fdLimit;

    /// <summary>Descriptors the guest makes us hold for good (descriptor-held and pinned inodes, open handles, locks).</summary>
    internal int HeldFdCount => _inodes.HeldFdCount + _handles.Count + Volatile.Read(ref _lockFds.Value);

    /// <summary>Cached O_PATH descriptors of handle-held inodes open right now.</summary>
    internal int CachedFdCount => _inodes.CachedFdCount;
}
