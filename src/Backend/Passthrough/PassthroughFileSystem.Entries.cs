using VirtioFs.Backend.Fuse;
using VirtioFs.Backend.Fuse.Abi;
using VirtioFs.Backend.Interop;

namespace VirtioFs.Backend.Passthrough;

// Names and attributes: LOOKUP, FORGET, GETATTR, SETATTR, READLINK, SYMLINK, MKNOD, MKDIR, UNLINK, RMDIR, RENAME, LINK.
public sealed unsafe partial class PassthroughFileSystem
{
    private const int EBADF = 9, ENOENT = 2, EINVAL = 22, EROFS = 30, EISDIR = 21, EACCES = 13, ENAMETOOLONG = 36;

    public int Lookup(in FuseContext context, ulong parent, FuseName name, out FuseEntryOut entry)
    {
        entry = default;
        Inode? dir = Acquire(parent);
        if (dir is null) return EBADF;
        try
        {
            int dirFd = PathFd(dir);
            if (dirFd < 0) return -dirFd;
            if (name.IsDot || (name.IsDotDot && dir == _inodes.Root)) return LookupKnown(dirFd, out entry);
            if (name.IsDotDot)
            {
                // ".." only ever names an inode the guest already reached through the share; anything else (the
                // directory was moved out of the share on the host) is not there as far as the guest is concerned.
                fixed (byte* dotdot = ".."u8)
                {
                    int fd = Libc.openat(dirFd, dotdot, Libc.O_PATH | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0);
                    if (fd < 0) return LastErrno;
                    try
                    {
                        return LookupKnown(fd, out entry);
                    }
                    finally
                    {
                        Libc.close(fd);
                    }
                }
            }
            fixed (byte* p = name.NulTerminated)
            {
                return LookupAt(dir, dirFd, p, out entry);
            }
        }
        finally
        {
            dir.Release();
        }
    }

    // An entry for an inode already in the table (one more lookup), ENOENT if it is not there.
    private int LookupKnown(int fd, out FuseEntryOut entry)
    {
        entry = default;
        int errno = Statx(fd, out Libc.statx_t st);
        if (errno != 0) return errno;
        if (!_inodes.TryAddLookupIfKnown(KeyOf(st), out ulong nodeId)) return ENOENT;
        entry = MakeEntry(nodeId, st);
        return 0;
    }

    public void Forget(ulong nodeId, ulong count) => _inodes.Forget(nodeId, count);

    public int GetAttr(in FuseContext context, ulong nodeId, ulong fh, bool useHandle, out FuseAttrOut attr)
    {
        attr = default;
        if (useHandle)
        {
            FileHandle? handle = _handles.Acquire(fh);
            if (handle is null) return EBADF;
            try
            {
                int errno = Statx(handle.Fd, out Libc.statx_t st);
                if (errno == 0) attr = MakeAttrOut(st);
                return errno;
            }
            finally
            {
                handle.Release();
            }
        }
        Inode? inode = Acquire(nodeId);
        if (inode is null) return EBADF;
        try
        {
            int fd = PathFd(inode);
            if (fd < 0) return -fd;
            int errno = Statx(fd, out Libc.statx_t st);
            if (errno == 0) attr = MakeAttrOut(st);
            return errno;
        }
        finally
        {
            inode.Release();
        }
    }

    public int SetAttr(in FuseContext context, ulong nodeId, in FuseSetAttrIn change, out FuseAttrOut attr)
    {
        attr = default;
        var valid = (FuseSetAttrValid)change.Valid;
        const FuseSetAttrValid changes = FuseSetAttrValid.Mode | FuseSetAttrValid.Uid | FuseSetAttrValid.Gid |
            FuseSetAttrValid.Size | FuseSetAttrValid.Atime | FuseSetAttrValid.Mtime;
        if (_options.ReadOnly && (valid & changes) != 0) return EROFS;

        Inode? inode = Acquire(nodeId);
        if (inode is null) return EBADF;
        FileHandle? handle = null;
        try
        {
            if ((valid & FuseSetAttrValid.Fh) != 0)
            {
                handle = _handles.Acquire(change.Fh);
                if (handle is null) return EBADF;
            }
            int fd = PathFd(inode);
            if (fd < 0) return -fd;
            int errno = ApplyAttributes(inode, fd, handle, change, valid);
            if (errno != 0) return errno;
            // killpriv_v2: truncate (and open O_TRUNC) by an unprivileged caller clears the set-id bits; chown and
            // truncate also drop security.capability, which the host kernel does itself only under its unmapped name.
            if ((valid & FuseSetAttrValid.KillSuidgid) != 0) KillPrivileges(handle?.Fd ?? -1, fd);
            else if (_xattrMap is not null && (valid & (FuseSetAttrValid.Uid | FuseSetAttrValid.Gid | FuseSetAttrValid.Size)) != 0)
            {
                RemoveMappedCapability(fd);
            }
            errno = Statx(fd, out Libc.statx_t st);
            if (errno == 0) attr = MakeAttrOut(st);
            return errno;
        }
        finally
        {
            handle?.Release();
            inode.Release();
        }
    }

    // In virtiofsd's order: mode, owner, size, times.
    private int ApplyAttributes(Inode inode, int inodeFd, FileHandle? handle, in FuseSetAttrIn change, FuseSetAttrValid valid)
    {
        byte empty = 0;
        if ((valid & FuseSetAttrValid.Mode) != 0)
        {
            uint mode = change.Mode & 0xFFF;
            int errno = handle is not null
                ? (Libc.fchmod(handle.Fd, mode) == 0 ? 0 : LastErrno)
                : ChmodInode(inodeFd, mode);
            if (errno != 0) return errno;
        }
        if ((valid & (FuseSetAttrValid.Uid | FuseSetAttrValid.Gid)) != 0)
        {
            uint uid = (valid & FuseSetAttrValid.Uid) != 0 ? change.Uid : Libc.NoId;
            uint gid = (valid & FuseSetAttrValid.Gid) != 0 ? change.Gid : Libc.NoId;
            if (Libc.fchownat(inodeFd, &empty, uid, gid, Libc.AT_EMPTY_PATH | Libc.AT_SYMLINK_NOFOLLOW) != 0) return LastErrno;
        }
        if ((valid & FuseSetAttrValid.Size) != 0)
        {
            // Who might lie: the size; a value past long.MaxValue becomes negative and ftruncate answers EINVAL.
            long size = unchecked((long)change.Size);
            if (handle is not null)
            {
                if (Libc.ftruncate(handle.Fd, size) != 0) return LastErrno;
            }
            else
            {
                // Truncating by inode needs a writable open: only ever of a regular file (never a FIFO or device).
                if (inode.IsDirectory) return EISDIR;
                if (!inode.IsRegular) return EINVAL;
                int fd = Reopen(inode, Libc.O_WRONLY);
                if (fd < 0) return -fd;
                int errno = Libc.ftruncate(fd, size) == 0 ? 0 : LastErrno;
                Libc.close(fd);
                if (errno != 0) return errno;
            }
        }
        if ((valid & (FuseSetAttrValid.Atime | FuseSetAttrValid.Mtime)) != 0)
        {
            Libc.timespec* times = stackalloc Libc.timespec[2];
            times[0] = TimeFor(valid, FuseSetAttrValid.Atime, FuseSetAttrValid.AtimeNow, change.Atime, change.AtimeNsec);
            times[1] = TimeFor(valid, FuseSetAttrValid.Mtime, FuseSetAttrValid.MtimeNow, change.Mtime, change.MtimeNsec);
            if (handle is not null)
            {
                if (Libc.futimens(handle.Fd, times) != 0) return LastErrno;
            }
            else
            {
                byte* path = stackalloc byte[ProcFdPath.BufferSize];
                ProcFdPath.FormatRelative(inodeFd, new Span<byte>(path, ProcFdPath.BufferSize));
                if (Libc.utimensat(_procSelfFd, path, times, 0) != 0) return LastErrno;
            }
        }
        return 0;
    }

    private static Libc.timespec TimeFor(FuseSetAttrValid valid, FuseSetAttrValid set, FuseSetAttrValid now, ulong seconds, uint nanoseconds)
    {
        if ((valid & set) == 0) return new Libc.timespec { tv_nsec = Libc.UTIME_OMIT };
        if ((valid & now) != 0) return new Libc.timespec { tv_nsec = Libc.UTIME_NOW };
        // Who might lie: nanoseconds >= 1e9 are refused by the kernel with EINVAL; seconds are taken as signed.
        return new Libc.timespec { tv_sec = unchecked((long)seconds), tv_nsec = nanoseconds };
    }

    public int ReadLink(in FuseContext context, ulong nodeId, Span<byte> target, out int length)
    {
        length = 0;
        Inode? inode = Acquire(nodeId);
        if (inode is null) return EBADF;
        try
        {
            int fd = PathFd(inode);
            if (fd < 0) return -fd;
            byte empty = 0;
            fixed (byte* buffer = target)
            {
                nint n = Libc.readlinkat(fd, &empty, buffer, (nuint)target.Length);
                if (n < 0) return LastErrno;
                if (n >= target.Length) return ENAMETOOLONG;
                length = (int)n;
                return 0;
            }
        }
        finally
        {
            inode.Release();
        }
    }

    public int Symlink(in FuseContext context, ulong parent, FuseName name, ReadOnlySpan<byte> nulTerminatedTarget, out FuseEntryOut entry)
    {
        fixed (byte* target = nulTerminatedTarget)
        {
            return CreateNode(context, parent, name, new SymlinkMaker(target), Libc.S_IFLNK | 0x1FF, out entry);
        }
    }

    public int Mknod(in FuseContext context, ulong parent, FuseName name, uint mode, uint rdev, uint umask, out FuseEntryOut entry)
        => CreateNode(context, parent, name, new SpecialFileMaker(mode, rdev), mode, out entry);

    public int Mkdir(in FuseContext context, ulong parent, FuseName name, uint mode, uint umask, out FuseEntryOut entry)
        => CreateNode(context, parent, name, new DirectoryMaker(mode), Libc.S_IFDIR | (mode & 0xFFF), out entry);

    /// <summary>
    /// SYMLINK, MKNOD, MKDIR: makes <paramref name="name"/> in <paramref name="parent"/> with <paramref name="maker"/>'s
    /// syscall, as the guest caller, then restores <paramref name="mode"/>'s permission bits and looks the node up.
    /// </summary>
    private int CreateNode<TMaker>(in FuseContext context, ulong parent, FuseName name, TMaker maker, uint mode, out FuseEntryOut entry)
        where TMaker : struct, INodeMaker
    {
        entry = default;
        if (_options.ReadOnly) return EROFS;
        if (OverFdQuota()) return ENFILE;
        Inode? dir = Acquire(parent);
        if (dir is null) return EBADF;
        try
        {
            fixed (byte* p = name.NulTerminated)
            {
                int dirFd = PathFd(dir);
                if (dirFd < 0) return -dirFd;
                int errno = CallerIdentity.Assume(_privileged, context, out CallerIdentity caller);
                if (errno != 0) return errno;
                using (caller)
                {
                    if (maker.Make(dirFd, p) != 0) return LastErrno;
                }
                return FinishCreate(dirFd, p, mode, out entry);
            }
        }
        finally
        {
            dir.Release();
        }
    }

    /// <summary>After a node was created (as the caller): fix its mode, then look it up.</summary>
    private int FinishCreate(int dirFd, byte* name, uint mode, out FuseEntryOut entry)
    {
        entry = default;
        int fd = Libc.openat(dirFd, name, Libc.O_PATH | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0);
        if (fd < 0) return LastErrno;
        RestoreUmaskedBits(fd, -1, mode);
        int errno = Statx(fd, out Libc.statx_t st);
        if (errno != 0)
        {
            Libc.close(fd);
            return errno;
        }
        // The caller checked the quota before creating the node.
        errno = AddLookup(fd, st, keepFd: false, checkQuota: false, out ulong nodeId);
        if (errno != 0) return errno;
        entry = MakeEntry(nodeId, st);
        return 0;
    }

    /// <summary>
    /// The guest already applied its umask; ours (the process's, unless this thread has its own umask of 0, see
    /// <see cref="ServingThread"/>) may have removed more permission bits. Puts back exactly the guest's rwx bits,
    /// keeping the set-id and sticky bits the kernel decided on (it strips S_ISGID for a caller outside the group).
    /// Runs as the daemon, after the caller's identity was dropped. Best effort: the node exists either way.
    /// </summary>
    private void RestoreUmaskedBits(int pathFd, int openFd, uint mode)
    {
        if (ServingThread.HasZeroUmask) return;
        if (Statx(pathFd, out Libc.statx_t st) != 0) return;
        uint type = st.stx_mode & Libc.S_IFMT;
        if (type == Libc.S_IFLNK) return;
        if ((st.stx_mode & 0x1FFu) == (mode & 0x1FF)) return;
        uint desired = (st.stx_mode & 0xE00u) | (mode & 0x1FF);
        if (openFd >= 0) Libc.fchmod(openFd, desired);
        else ChmodInode(pathFd, desired);
    }

    public int Unlink(in FuseContext context, ulong parent, FuseName name) => Remove(parent, name, 0);

    public int Rmdir(in FuseContext context, ulong parent, FuseName name) => Remove(parent, name, Libc.AT_REMOVEDIR);

    private int Remove(ulong parent, FuseName name, int flags)
    {
        if (_options.ReadOnly) return EROFS;
        Inode? dir = Acquire(parent);
        if (dir is null) return EBADF;
        try
        {
            int dirFd = PathFd(dir);
            if (dirFd < 0) return -dirFd;
            fixed (byte* p = name.NulTerminated)
            {
                PinForRemoval(dirFd, p);
                return Libc.unlinkat(dirFd, p, flags) == 0 ? 0 : LastErrno;
            }
        }
        finally
        {
            dir.Release();
        }
    }

    public int Rename(in FuseContext context, ulong parent, FuseName name, ulong newParent, FuseName newName, uint flags)
    {
        if (_options.ReadOnly) return EROFS;
        Inode? from = Acquire(parent);
        if (from is null) return EBADF;
        Inode? to = Acquire(newParent);
        try
        {
            if (to is null) return EBADF;
            int fromFd = PathFd(from);
            if (fromFd < 0) return -fromFd;
            int toFd = PathFd(to);
            if (toFd < 0) return -toFd;
            fixed (byte* oldPath = name.NulTerminated)
            fixed (byte* newPath = newName.NulTerminated)
            {
                // A plain rename (or one leaving a whiteout) replaces an existing target, which may lose its last name.
                if ((flags & (RenameNoreplace | RenameExchange)) == 0) PinForRemoval(toFd, newPath);
                // renameat2 validates the flags itself (EINVAL for unknown bits).
                return Libc.renameat2(fromFd, oldPath, toFd, newPath, flags) == 0 ? 0 : LastErrno;
            }
        }
        finally
        {
            to?.Release();
            from.Release();
        }
    }

    private const uint RenameNoreplace = 1, RenameExchange = 2;

    public int Link(in FuseContext context, ulong nodeId, ulong newParent, FuseName newName, out FuseEntryOut entry)
    {
        entry = default;
        if (_options.ReadOnly) return EROFS;
        Inode? inode = Acquire(nodeId);
        if (inode is null) return EBADF;
        Inode? dir = Acquire(newParent);
        try
        {
            if (dir is null) return EBADF;
            int fd = PathFd(inode);
            if (fd < 0) return -fd;
            int dirFd = PathFd(dir);
            if (dirFd < 0) return -dirFd;
            byte* path = stackalloc byte[ProcFdPath.BufferSize];
            ProcFdPath.FormatRelative(fd, new Span<byte>(path, ProcFdPath.BufferSize));
            fixed (byte* p = newName.NulTerminated)
            {
                // Linking through the magic link (AT_SYMLINK_FOLLOW) reaches the inode itself, symlinks included,
                // and needs no CAP_DAC_READ_SEARCH, unlike AT_EMPTY_PATH.
                if (Libc.linkat(_procSelfFd, path, dirFd, p, Libc.AT_SYMLINK_FOLLOW) != 0) return LastErrno;
                return LookupAt(dir, dirFd, p, out entry);
            }
        }
        finally
        {
            dir?.Release();
            inode.Release();
        }
    }
}
