using VirtioFs.Backend.Fuse;
using VirtioFs.Backend.Fuse.Abi;
using VirtioFs.Backend.Interop;
using VirtioFs.Backend.Memory;

namespace VirtioFs.Backend.Passthrough;

// File data: OPEN, CREATE, READ, WRITE, FLUSH, RELEASE, FSYNC, LSEEK, FALLOCATE.
public sealed unsafe partial class PassthroughFileSystem
{
    private const int EEXIST = 17, ENFILE = 23, ENOTDIR = 20;

    /// <summary>__O_TMPFILE: never honoured from the guest (TMPFILE is ENOSYS).</summary>
    private const int O_TMPFILE_BIT = 0x400000;

    /// <summary>FUSE_OPEN_KILL_SUIDGID in fuse_open_in.open_flags (killpriv_v2): an O_TRUNC open by an unprivileged caller.</summary>
    private const uint OpenKillSuidgid = 1;

    public int Open(in FuseContext context, ulong nodeId, uint flags, uint openInFlags, out ulong fh, out FuseOpenOutFlags openFlags)
    {
        fh = 0;
        openFlags = FuseOpenOutFlags.None;
        Inode? inode = Acquire(nodeId);
        if (inode is null) return EBADF;
        try
        {
            int errno = OpenInode(inode, unchecked((int)flags), out fh, out openFlags);
            if (errno == 0 && (openInFlags & OpenKillSuidgid) != 0 && (flags & (uint)Libc.O_TRUNC) != 0) KillPrivileges(fh);
            return errno;
        }
        finally
        {
            inode.Release();
        }
    }

    private int OpenInode(Inode inode, int guestFlags, out ulong fh, out FuseOpenOutFlags openFlags)
    {
        fh = 0;
        openFlags = FuseOpenOutFlags.None;
        // CVE-2020-35517: only regular files and directories are ever opened; a FIFO would block us, a device
        // node would hand the guest host hardware.
        if (!inode.IsRegular && !inode.IsDirectory) return EBADF;
        int flags = SanitizeOpenFlags(guestFlags);
        if (_options.ReadOnly && ((flags & Libc.O_ACCMODE) != Libc.O_RDONLY || (flags & Libc.O_TRUNC) != 0)) return EROFS;
        int fd = Reopen(inode, flags);
        if (fd < 0) return -fd;
        int errno = AddHandle(fd, inode.IsDirectory, out fh, out openFlags, inode.IsDirectory ? inode : null);
        if (errno == 0 && (flags & Libc.O_DIRECT) != 0 && !inode.IsDirectory) openFlags |= FuseOpenOutFlags.DirectIo;
        return errno;
    }

    private int AddHandle(int fd, bool isDirectory, out ulong fh, out FuseOpenOutFlags openFlags, Inode? directory = null)
    {
        openFlags = isDirectory ? DirectoryOpenFlags() : FileOpenFlags();
        if (OverFdQuota())
        {
            Libc.close(fd);
            fh = 0;
            return ENFILE;
        }
        if (!_handles.TryAdd(new FileHandle(fd, isDirectory, directory), out fh))
        {
            Libc.close(fd);
            return ENFILE;   // the guest's handle quota: an error for it, not fd exhaustion for the host
        }
        return 0;
    }

    private FuseOpenOutFlags FileOpenFlags() => _options.Cache switch
    {
        CachePolicy.Never or CachePolicy.Metadata => FuseOpenOutFlags.DirectIo,
        CachePolicy.Always => FuseOpenOutFlags.KeepCache,
        _ => FuseOpenOutFlags.None,
    };

    private FuseOpenOutFlags DirectoryOpenFlags() => _options.Cache switch
    {
        CachePolicy.Metadata or CachePolicy.Always => FuseOpenOutFlags.CacheDir | FuseOpenOutFlags.KeepCache,
        _ => FuseOpenOutFlags.None,
    };

    /// <summary>The guest's open flags made safe for a reopen through /proc/self/fd (virtiofsd's rules).</summary>
    private int SanitizeOpenFlags(int flags)
    {
        flags &= ~(Libc.O_CREAT | Libc.O_EXCL | Libc.O_NOCTTY | Libc.O_NOFOLLOW | Libc.O_PATH | O_TMPFILE_BIT | Libc.O_NOATIME);
        if (!_options.AllowDirectIo) flags &= ~Libc.O_DIRECT;
        if (_options.Writeback)
        {
            // The guest page cache may read pages of a file it opened write-only, and it appends itself.
            if ((flags & Libc.O_ACCMODE) == Libc.O_WRONLY) flags = (flags & ~Libc.O_ACCMODE) | Libc.O_RDWR;
            flags &= ~Libc.O_APPEND;
        }
        return flags | Libc.O_CLOEXEC;
    }

    public int Create(in FuseContext context, ulong parent, FuseName name, uint mode, uint flags, uint umask, uint openInFlags,
        out FuseEntryOut entry, out ulong fh, out FuseOpenOutFlags openFlags)
    {
        entry = default;
        fh = 0;
        openFlags = FuseOpenOutFlags.None;
        if (_options.ReadOnly) return EROFS;
        if (OverFdQuota()) return ENFILE;
        Inode? dir = Acquire(parent);
        if (dir is null) return EBADF;
        try
        {
            int openFlagsHost = SanitizeOpenFlags(unchecked((int)flags));
            int dirFd = PathFd(dir);
            if (dirFd < 0) return -dirFd;
            fixed (byte* p = name.NulTerminated)
            {
                int fd;
                int errno = CallerIdentity.Assume(_privileged, context, out CallerIdentity caller);
                if (errno != 0) return errno;
                using (caller)
                {
                    // Always O_EXCL|O_NOFOLLOW: we only ever create, never open an existing node here (CVE-2020-35517).
                    fd = Libc.openat(dirFd, p, openFlagsHost | Libc.O_CREAT | Libc.O_EXCL | Libc.O_NOFOLLOW, mode & 0xFFF);
                    errno = fd < 0 ? LastErrno : 0;
                }
                if (fd < 0)
                {
                    if (errno != EEXIST || (flags & (uint)Libc.O_EXCL) != 0) return errno;
                    errno = CreateExisting(dir, dirFd, p, unchecked((int)flags), out entry, out fh, out openFlags);
                    if (errno == 0 && (openInFlags & OpenKillSuidgid) != 0 && (flags & (uint)Libc.O_TRUNC) != 0) KillPrivileges(fh);
                    return errno;
                }
                return FinishCreateOpen(fd, mode, tmpFile: false, out entry, out fh, out openFlags);
            }
        }
        finally
        {
            dir.Release();
        }
    }

    // The name exists and the guest did not ask for O_EXCL: look it up and open it with the usual checks.
    private int CreateExisting(Inode dir, int dirFd, byte* name, int flags, out FuseEntryOut entry, out ulong fh, out FuseOpenOutFlags openFlags)
    {
        fh = 0;
        openFlags = FuseOpenOutFlags.None;
        int errno = LookupAt(dir, dirFd, name, out entry);
        if (errno != 0) return errno;
        Inode? inode = Acquire(entry.NodeId);
        if (inode is null) return ENOENT;
        try
        {
            errno = inode.IsDirectory ? EISDIR : OpenInode(inode, flags, out fh, out openFlags);
        }
        finally
        {
            inode.Release();
        }
        if (errno != 0)
        {
            _inodes.Forget(entry.NodeId, 1);   // the guest never sees this entry: give the lookup back
            entry = default;
        }
        return errno;
    }

    // tmpFile: an O_TMPFILE file has no name, and a file handle cannot reopen an inode without one: it is held by its
    // descriptor (until LINK names it, and after).
    private int FinishCreateOpen(int fd, uint mode, bool tmpFile,
        out FuseEntryOut entry, out ulong fh, out FuseOpenOutFlags openFlags)
    {
        entry = default;
        fh = 0;
        openFlags = FuseOpenOutFlags.None;
        // The inode's O_PATH descriptor comes from the open file itself, so it is exactly the file we created.
        byte* path = stackalloc byte[ProcFdPath.BufferSize];
        ProcFdPath.FormatRelative(fd, new Span<byte>(path, ProcFdPath.BufferSize));
        int pathFd = Libc.openat(_procSelfFd, path, Libc.O_PATH | Libc.O_CLOEXEC, 0);
        if (pathFd < 0)
        {
            int errno = LastErrno;
            Libc.close(fd);
            return errno;
        }
        RestoreUmaskedBits(pathFd, fd, Libc.S_IFREG | (mode & 0xFFF));
        int statErrno = Statx(pathFd, out Libc.statx_t st);
        if (statErrno != 0)
        {
            Libc.close(pathFd);
            Libc.close(fd);
            return statErrno;
        }
        int handleErrno = AddHandle(fd, isDirectory: false, out fh, out openFlags);
        if (handleErrno == 0 && _options.AllowDirectIo && (Libc.fcntl(fd, Libc.F_GETFL, 0) & Libc.O_DIRECT) != 0)
        {
            openFlags |= FuseOpenOutFlags.DirectIo;
        }
        if (handleErrno != 0)
        {
            Libc.close(pathFd);
            return handleErrno;
        }
        // The caller checked the quota before creating the file.
        int lookupErrno = AddLookup(pathFd, st, keepFd: tmpFile, checkQuota: false, out ulong nodeId);
        if (lookupErrno != 0)
        {
            ReleaseHandle(fh);
            fh = 0;
            return lookupErrno;
        }
        entry = MakeEntry(nodeId, st);
        return 0;
    }

    public int Read(in FuseContext context, ulong nodeId, ulong fh, ulong offset, ReadOnlySpan<IoSegment> destination, out int bytesRead)
    {
        bytesRead = 0;
        FileHandle? handle = _handles.Acquire(fh);
        if (handle is null) return EBADF;
        try
        {
            return TransferVectored(handle.Fd, offset, destination, write: false, out bytesRead);
        }
        finally
        {
            handle.Release();
        }
    }

    public int Write(in FuseContext context, ulong nodeId, ulong fh, ulong offset, ReadOnlySpan<IoSegment> source, uint writeFlags, out int bytesWritten)
    {
        bytesWritten = 0;
        if (_options.ReadOnly) return EROFS;
        FileHandle? handle = _handles.Acquire(fh);
        if (handle is null) return EBADF;
        try
        {
            // killpriv_v2: the guest leaves clearing set-id bits (and security.capability) to us, as a local write by
            // an unprivileged writer would; we write as root, whom the host kernel would let keep them.
            if ((writeFlags & FuseConstants.WriteKillSuidgid) != 0) KillPrivileges(handle.Fd, inodeFd: -1);
            return TransferVectored(handle.Fd, offset, source, write: true, out bytesWritten);
        }
        finally
        {
            handle.Release();
        }
    }

    /// <summary>
    /// preadv/pwritev straight between the file and the segments: one call for a whole request (virtiofsd does one
    /// too), with segments that are adjacent in our address space merged into one iovec (guest pages that are
    /// contiguous in guest memory usually are), up to IOV_MAX iovecs per call. Stops at the first short transfer (end
    /// of file, disk full); an error after some bytes moved reports the bytes.
    /// </summary>
    private static int TransferVectored(int fd, ulong offset, ReadOnlySpan<IoSegment> segments, bool write, out int transferred)
    {
        transferred = 0;
        // Who might lie: the offset; past long.MaxValue it turns negative and the kernel answers EINVAL.
        long position = unchecked((long)offset);
        // On the stack, sized to this request (16 bytes per segment, at most 16 KiB): nothing allocated, and only what
        // is used gets zeroed. A READ or WRITE has at most max_pages + 1 segments, far below IOV_MAX.
        int capacity = Math.Min(segments.Length, Libc.IOV_MAX);
        Libc.iovec* iov = stackalloc Libc.iovec[Math.Max(capacity, 1)];
        int index = 0;
        long total = 0;
        while (index < segments.Length)
        {
            int count = 0;
            long batchBytes = 0;
            for (; index < segments.Length; index++)
            {
                IoSegment segment = segments[index];
                if (segment.Length == 0) continue;
                if (count > 0 && (byte*)iov[count - 1].iov_base + iov[count - 1].iov_len == segment.Address)
                {
                    iov[count - 1].iov_len += segment.Length;   // adjacent: one iovec
                }
                else
                {
                    if (count == capacity) break;
                    iov[count].iov_base = segment.Address;
                    iov[count].iov_len = segment.Length;
                    count++;
                }
                batchBytes += segment.Length;
            }
            if (count == 0) break;
            long at = unchecked(position + total);
            nint n = write ? Libc.pwritev(fd, iov, count, at) : Libc.preadv(fd, iov, count, at);
            if (n < 0)
            {
                if (total > 0) break;
                return LastErrno;
            }
            total += n;
            if (n < batchBytes) break;
        }
        transferred = checked((int)total);
        return 0;
    }

    public int Flush(in FuseContext context, ulong nodeId, ulong fh, ulong lockOwner)
    {
        DropLockOwner(nodeId, lockOwner);
        FileHandle? handle = _handles.Acquire(fh);
        if (handle is null) return EBADF;
        try
        {
            // close(dup(fd)) reports delayed write errors (NFS and friends) without closing the guest's handle.
            int copy = Libc.dup(handle.Fd);
            if (copy < 0) return LastErrno;
            return Libc.close(copy) == 0 ? 0 : LastErrno;
        }
        finally
        {
            handle.Release();
        }
    }

    public int Release(in FuseContext context, ulong nodeId, ulong fh, uint flags, uint releaseFlags, ulong lockOwner)
    {
        // The kernel names a lock owner here only for a file that held a flock or OFD lock: that owner is this open
        // file, which is going away, so its POSIX-lock descriptor goes too.
        if (lockOwner != 0) DropLockOwner(nodeId, lockOwner);
        if ((releaseFlags & FuseConstants.ReleaseFlockUnlock) != 0 && _options.Flock)
        {
            FileHandle? handle = _handles.Acquire(fh);
            if (handle is not null)
            {
                Libc.flock(handle.Fd, Libc.LOCK_UN);
                handle.Release();
            }
        }
        return ReleaseHandle(fh);
    }

    private int ReleaseHandle(ulong fh)
    {
        FileHandle? handle = _handles.Remove(fh);
        if (handle is null) return EBADF;
        handle.Release();
        return 0;
    }

    public int Fsync(in FuseContext context, ulong nodeId, ulong fh, bool dataSync) => SyncHandle(fh, dataSync);

    private int SyncHandle(ulong fh, bool dataSync)
    {
        FileHandle? handle = _handles.Acquire(fh);
        if (handle is null) return EBADF;
        try
        {
            int result = dataSync ? Libc.fdatasync(handle.Fd) : Libc.fsync(handle.Fd);
            return result == 0 ? 0 : LastErrno;
        }
        finally
        {
            handle.Release();
        }
    }

    public int Lseek(in FuseContext context, ulong nodeId, ulong fh, ulong offset, uint whence, out ulong result)
    {
        result = 0;
        FileHandle? handle = _handles.Acquire(fh);
        if (handle is null) return EBADF;
        try
        {
            long position = Libc.lseek(handle.Fd, unchecked((long)offset), unchecked((int)whence));
            if (position < 0) return LastErrno;
            result = (ulong)position;
            return 0;
        }
        finally
        {
            handle.Release();
        }
    }

    public int Fallocate(in FuseContext context, ulong nodeId, ulong fh, uint mode, ulong offset, ulong length)
    {
        if (_options.ReadOnly) return EROFS;
        FileHandle? handle = _handles.Acquire(fh);
        if (handle is null) return EBADF;
        try
        {
            int result = Libc.fallocate(handle.Fd, unchecked((int)mode), unchecked((long)offset), unchecked((long)length));
            return result == 0 ? 0 : LastErrno;
        }
        finally
        {
            handle.Release();
        }
    }

    public int CopyFileRange(in FuseContext context, ulong nodeIn, ulong fhIn, ulong offsetIn, ulong nodeOut, ulong fhOut, ulong offsetOut,
        ulong length, ulong flags, out ulong copied)
    {
        copied = 0;
        if (_options.ReadOnly) return EROFS;
        // Who might lie: flags (copy_file_range defines none: EINVAL, as the kernel answers) and the length (clamped
        // to what one call may move; a short copy is allowed and the guest continues).
        if (flags != 0) return EINVAL;
        FileHandle? input = _handles.Acquire(fhIn);
        if (input is null) return EBADF;
        FileHandle? output = _handles.Acquire(fhOut);
        try
        {
            if (output is null) return EBADF;
            if (input.IsDirectory || output.IsDirectory) return EISDIR;
            long inPosition = unchecked((long)offsetIn);
            long outPosition = unchecked((long)offsetOut);
            nuint count = (nuint)Math.Min(length, (ulong)int.MaxValue & ~0xFFFUL);
            nint n = Libc.copy_file_range(input.Fd, &inPosition, output.Fd, &outPosition, count, 0);
            if (n < 0) return LastErrno;
            copied = (ulong)n;
            return 0;
        }
        finally
        {
            output?.Release();
            input.Release();
        }
    }

    public int TmpFile(in FuseContext context, ulong parent, uint mode, uint flags, uint umask,
        out FuseEntryOut entry, out ulong fh, out FuseOpenOutFlags openFlags)
    {
        entry = default;
        fh = 0;
        openFlags = FuseOpenOutFlags.None;
        if (_options.ReadOnly) return EROFS;
        if (OverFdQuota()) return ENFILE;
        Inode? dir = Acquire(parent);
        if (dir is null) return EBADF;
        try
        {
            if (!dir.IsDirectory) return ENOTDIR;
            // The guest's O_EXCL means "may never be linked into the tree": keep it; O_TMPFILE is ours to add.
            int hostFlags = SanitizeOpenFlags(unchecked((int)flags)) | (unchecked((int)flags) & Libc.O_EXCL) | Libc.O_TMPFILE;
            int dirFd = PathFd(dir);
            if (dirFd < 0) return -dirFd;
            int fd;
            int errno = CallerIdentity.Assume(_privileged, context, out CallerIdentity caller);
            if (errno != 0) return errno;
            using (caller)
            {
                fixed (byte* dot = "."u8)
                {
                    fd = Libc.openat(dirFd, dot, hostFlags, mode & 0xFFF);
                }
                errno = fd < 0 ? LastErrno : 0;
            }
            if (fd < 0) return errno;
            return FinishCreateOpen(fd, mode, tmpFile: true, out entry, out fh, out openFlags);
        }
        finally
        {
            dir.Release();
        }
    }
}
