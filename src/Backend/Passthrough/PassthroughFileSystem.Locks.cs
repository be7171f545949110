using VirtioFs.Backend.Fuse;
using VirtioFs.Backend.Fuse.Abi;
using VirtioFs.Backend.Interop;

namespace VirtioFs.Backend.Passthrough;

// Remote locks: GETLK, SETLK (POSIX record locks as OFD locks, one open file description per guest lock owner) and
// flock (on the guest's own handle). Nothing here blocks: a conflict answers EAGAIN and the FUSE server waits.
public sealed unsafe partial class PassthroughFileSystem
{
    private const int EAGAIN = 11;

    public int GetLk(in FuseContext context, ulong nodeId, ulong fh, ulong owner, in FuseFileLock request, out FuseFileLock conflict)
    {
        conflict = default;
        if (!_options.PosixLocks) return ENOSYS;
        Inode? inode = Acquire(nodeId);
        if (inode is null) return EBADF;
        try
        {
            Libc.flock_t lk = ToFlock(request);
            LockOwners owners = OwnersOf(inode);
            lock (owners.Gate)
            {
                int fd = OwnerFd(inode, owners, owner);
                if (fd < 0) return -fd;
                if (Libc.fcntl(fd, Libc.F_OFD_GETLK, &lk) != 0) return LastErrno;
            }
            conflict = FromFlock(lk);
            return 0;
        }
        finally
        {
            inode.Release();
        }
    }

    public int SetLk(in FuseContext context, ulong nodeId, ulong fh, ulong owner, in FuseFileLock request, bool flock)
        => flock ? SetFlock(fh, request.Type) : SetPosixLock(nodeId, owner, request);

    private int SetPosixLock(ulong nodeId, ulong owner, in FuseFileLock request)
    {
        if (!_options.PosixLocks) return ENOSYS;
        Inode? inode = Acquire(nodeId);
        if (inode is null) return EBADF;
        try
        {
            Libc.flock_t lk = ToFlock(request);
            LockOwners owners = OwnersOf(inode);
            lock (owners.Gate)
            {
                int fd = owners.Find(owner);
                if (fd < 0)
                {
                    if (lk.l_type == Libc.F_UNLCK) return 0;   // nothing held, nothing to release
                    fd = OwnerFd(inode, owners, owner);
                    if (fd < 0) return -fd;
                }
                if (Libc.fcntl(fd, Libc.F_OFD_SETLK, &lk) == 0) return 0;
                int errno = LastErrno;
                return errno == EACCES ? EAGAIN : errno;   // both mean "held by another owner"
            }
        }
        finally
        {
            inode.Release();
        }
    }

    private int SetFlock(ulong fh, uint type)
    {
        if (!_options.Flock) return ENOSYS;
        FileHandle? handle = _handles.Acquire(fh);
        if (handle is null) return EBADF;
        try
        {
            int operation = type switch
            {
                (uint)Libc.F_RDLCK => Libc.LOCK_SH,
                (uint)Libc.F_WRLCK => Libc.LOCK_EX,
                _ => Libc.LOCK_UN,
            };
            return Libc.flock(handle.Fd, operation | Libc.LOCK_NB) == 0 ? 0 : LastErrno;   // EWOULDBLOCK == EAGAIN
        }
        finally
        {
            handle.Release();
        }
    }

    /// <summary>FLUSH and RELEASE: the guest closed a descriptor, so its process loses every POSIX lock on the file.</summary>
    private void DropLockOwner(ulong nodeId, ulong owner)
    {
        if (!_options.PosixLocks) return;
        Inode? inode = Acquire(nodeId);
        if (inode is null) return;
        try
        {
            inode.Locks?.Drop(owner);
        }
        finally
        {
            inode.Release();
        }
    }

    private LockOwners OwnersOf(Inode inode)
    {
        if (inode.Locks is { } owners) return owners;
        Interlocked.CompareExchange(ref inode.Locks, new LockOwners(_lockFds), null);
        return inode.Locks!;
    }

    /// <summary>The owner's descriptor (under owners.Gate), opening it when new; or -errno.</summary>
    private int OwnerFd(Inode inode, LockOwners owners, ulong owner)
    {
        int fd = owners.Find(owner);
        if (fd >= 0) return fd;
        if (OverFdQuota()) return -ENFILE;
        // Locks only ever on regular files and directories: never open a FIFO or device (CVE-2020-35517).
        if (inode.IsDirectory) fd = Reopen(inode, Libc.O_RDONLY | Libc.O_DIRECTORY);
        else if (!inode.IsRegular) return -EBADF;
        else
        {
            // Read-write, so both lock types work; a file we cannot open for writing still takes read locks.
            fd = Reopen(inode, Libc.O_RDWR);
            if (fd < 0) fd = Reopen(inode, Libc.O_RDONLY);
        }
        if (fd < 0) return fd;
        owners.Add(owner, fd);
        return fd;
    }

    // fuse_file_lock's end is inclusive and OFFSET_MAX means "to the end"; struct flock's l_len 0 means the same.
    // The server already checked start <= end <= OFFSET_MAX.
    private static Libc.flock_t ToFlock(in FuseFileLock request) => new()
    {
        l_type = (short)request.Type,
        l_whence = (short)Libc.SEEK_SET,
        l_start = (long)request.Start,
        l_len = request.End == FuseConstants.OffsetMax ? 0 : (long)(request.End - request.Start + 1),
        l_pid = 0,
    };

    private static FuseFileLock FromFlock(in Libc.flock_t lk)
    {
        if (lk.l_type == Libc.F_UNLCK) return new FuseFileLock { Type = (uint)Libc.F_UNLCK };
        return new FuseFileLock
        {
            Start = (ulong)lk.l_start,
            End = lk.l_len == 0 ? FuseConstants.OffsetMax : (ulong)(lk.l_start + lk.l_len - 1),
            Type = (uint)lk.l_type,
            // OFD locks have no process: the kernel reports -1. The guest cannot map that to one of its pids; 0 is
            // what it shows for "unknown".
            Pid = lk.l_pid > 0 ? (uint)lk.l_pid : 0,
        };
    }
}
