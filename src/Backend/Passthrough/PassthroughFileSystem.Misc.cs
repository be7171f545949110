using VirtioFs.Backend.Fuse;
using VirtioFs.Backend.Fuse.Abi;
using VirtioFs.Backend.Interop;

namespace VirtioFs.Backend.Passthrough;

// STATFS, ACCESS and extended attributes.
public sealed unsafe partial class PassthroughFileSystem
{
    public int StatFs(in FuseContext context, ulong nodeId, out FuseKstatfs statfs)
    {
        statfs = default;
        Inode? inode = Acquire(nodeId);
        if (inode is null) return EBADF;
        try
        {
            int fd = PathFd(inode);
            if (fd < 0) return -fd;
            Libc.statfs_t st;
            if (Libc.fstatfs(fd, &st) != 0) return LastErrno;
            statfs = new FuseKstatfs
            {
                Blocks = st.f_blocks,
                Bfree = st.f_bfree,
                Bavail = st.f_bavail,
                Files = st.f_files,
                Ffree = st.f_ffree,
                Bsize = unchecked((uint)st.f_bsize),
                NameLen = unchecked((uint)st.f_namelen),
                Frsize = unchecked((uint)st.f_frsize),
            };
            return 0;
        }
        finally
        {
            inode.Release();
        }
    }

    /// <summary>
    /// ACCESS, answered from the attributes for the guest's uid/gid (faccessat would check our own ids, and we run
    /// as root). Supplementary groups are not known to us; the guest kernel checks those itself.
    /// </summary>
    public int Access(in FuseContext context, ulong nodeId, uint mask)
    {
        Inode? inode = Acquire(nodeId);
        if (inode is null) return EBADF;
        try
        {
            int fd = PathFd(inode);
            if (fd < 0) return -fd;
            int errno = Statx(fd, out Libc.statx_t st);
            if (errno != 0) return errno;
            mask &= Libc.R_OK | Libc.W_OK | Libc.X_OK;
            if ((mask & Libc.W_OK) != 0 && _options.ReadOnly) return EROFS;
            if (mask == 0) return 0;
            uint mode = st.stx_mode;
            if (context.Uid == 0)
            {
                // root may do anything, except execute a file nobody may execute.
                bool anyExecute = (mode & 0x49) != 0 || (mode & Libc.S_IFMT) == Libc.S_IFDIR;
                return (mask & Libc.X_OK) != 0 && !anyExecute ? EACCES : 0;
            }
            uint granted = context.Uid == st.stx_uid ? (mode >> 6) & 7
                : context.Gid == st.stx_gid ? (mode >> 3) & 7
                : mode & 7;
            return (mask & ~granted) != 0 ? EACCES : 0;
        }
        finally
        {
            inode.Release();
        }
    }

    private const int ENODATA = 61, ERANGE = 34, XattrListMax = 65536;

    /// <summary>A guest xattr name as the host name, NUL-terminated in <paramref name="hostName"/> (or an errno).</summary>
    private int HostXattrName(FuseName name, Span<byte> hostName, out int length)
    {
        ReadOnlySpan<byte> guest = name.NulTerminated[..^1];
        if (_xattrMap is null)
        {
            guest.CopyTo(hostName);
            hostName[guest.Length] = 0;
            length = guest.Length;
            return 0;
        }
        return _xattrMap.MapToHost(guest, hostName, out length);
    }

    public int GetXattr(in FuseContext context, ulong nodeId, FuseName name, Span<byte> value, out int length)
    {
        length = 0;
        if (!_options.Xattr) return ENOSYS;
        Span<byte> hostName = stackalloc byte[XattrNameBuffer];
        int errno = HostXattrName(name, hostName, out _);
        if (errno != 0) return errno == EPERM ? ENODATA : errno;   // a refused name simply has no value
        Inode? inode = Acquire(nodeId);
        if (inode is null) return EBADF;
        try
        {
            int fd = PathFd(inode);
            if (fd < 0) return -fd;
            byte* path = stackalloc byte[ProcFdPath.BufferSize];
            ProcFdPath.FormatAbsolute(fd, new Span<byte>(path, ProcFdPath.BufferSize));
            fixed (byte* n = hostName)
            fixed (byte* v = value)
            {
                nint result = Libc.getxattr(path, n, v, (nuint)value.Length);
                if (result < 0) return LastErrno;
                length = checked((int)result);
                return 0;
            }
        }
        finally
        {
            inode.Release();
        }
    }

    /// <summary>Room for a mapped name: 255 bytes of guest name plus a prefix, and the terminator.</summary>
    private const int XattrNameBuffer = 512;

    private const int EPERM = 1;

    public int ListXattr(in FuseContext context, ulong nodeId, Span<byte> list, out int length)
    {
        length = 0;
        if (!_options.Xattr) return ENOSYS;
        Inode? inode = Acquire(nodeId);
        if (inode is null) return EBADF;
        byte[]? hostList = null;
        try
        {
            int fd = PathFd(inode);
            if (fd < 0) return -fd;
            byte* path = stackalloc byte[ProcFdPath.BufferSize];
            ProcFdPath.FormatAbsolute(fd, new Span<byte>(path, ProcFdPath.BufferSize));
            if (_xattrMap is null)
            {
                fixed (byte* l = list)
                {
                    nint result = Libc.listxattr(path, l, (nuint)list.Length);
                    if (result < 0) return LastErrno;
                    length = checked((int)result);
                    return 0;
                }
            }
            // With a mapping, even the size probe needs the real list: names are renamed and hidden.
            hostList = System.Buffers.ArrayPool<byte>.Shared.Rent(XattrListMax);
            nint hostLength;
            fixed (byte* l = hostList)
            {
                hostLength = Libc.listxattr(path, l, XattrListMax);
            }
            if (hostLength < 0) return LastErrno;
            return MapXattrList(hostList.AsSpan(0, (int)hostLength), list, out length);
        }
        finally
        {
            if (hostList is not null) System.Buffers.ArrayPool<byte>.Shared.Return(hostList);
            inode.Release();
        }
    }

    private int MapXattrList(ReadOnlySpan<byte> hostList, Span<byte> list, out int length)
    {
        length = 0;
        int total = 0;
        while (!hostList.IsEmpty)
        {
            int nul = hostList.IndexOf((byte)0);
            ReadOnlySpan<byte> hostName = nul < 0 ? hostList : hostList[..nul];
            hostList = nul < 0 ? default : hostList[(nul + 1)..];
            if (hostName.IsEmpty || !_xattrMap!.MapToGuest(hostName, out ReadOnlySpan<byte> guestName)) continue;
            if (!list.IsEmpty)
            {
                if (total + guestName.Length + 1 > list.Length) return ERANGE;
                guestName.CopyTo(list[total..]);
                list[total + guestName.Length] = 0;
            }
            total += guestName.Length + 1;
        }
        length = total;
        return 0;
    }

    public int SetXattr(in FuseContext context, ulong nodeId, FuseName name, ReadOnlySpan<byte> value, uint flags)
    {
        if (!_options.Xattr) return ENOSYS;
        if (_options.ReadOnly) return EROFS;
        Span<byte> hostName = stackalloc byte[XattrNameBuffer];
        int errno = HostXattrName(name, hostName, out _);
        if (errno != 0) return errno;
        Inode? inode = Acquire(nodeId);
        if (inode is null) return EBADF;
        try
        {
            int fd = PathFd(inode);
            if (fd < 0) return -fd;
            byte* path = stackalloc byte[ProcFdPath.BufferSize];
            ProcFdPath.FormatAbsolute(fd, new Span<byte>(path, ProcFdPath.BufferSize));
            fixed (byte* n = hostName)
            fixed (byte* v = value)
            {
                return Libc.setxattr(path, n, v, (nuint)value.Length, unchecked((int)flags)) == 0 ? 0 : LastErrno;
            }
        }
        finally
        {
            inode.Release();
        }
    }

    public int RemoveXattr(in FuseContext context, ulong nodeId, FuseName name)
    {
        if (!_options.Xattr) return ENOSYS;
        if (_options.ReadOnly) return EROFS;
        Span<byte> hostName = stackalloc byte[XattrNameBuffer];
        int errno = HostXattrName(name, hostName, out _);
        if (errno != 0) return errno;
        Inode? inode = Acquire(nodeId);
        if (inode is null) return EBADF;
        try
        {
            int fd = PathFd(inode);
            if (fd < 0) return -fd;
            byte* path = stackalloc byte[ProcFdPath.BufferSize];
            ProcFdPath.FormatAbsolute(fd, new Span<byte>(path, ProcFdPath.BufferSize));
            fixed (byte* n = hostName)
            {
                return Libc.removexattr(path, n) == 0 ? 0 : LastErrno;
            }
        }
        finally
        {
            inode.Release();
        }
    }

    /// <summary>Removes the host name of the guest's security.capability from an inode (see KillPrivileges).</summary>
    private void RemoveMappedCapability(int fd)
    {
        if (_xattrMap?.CapabilityHostName is not { } hostName) return;
        Span<byte> name = stackalloc byte[hostName.Length + 1];
        hostName.CopyTo(name);
        name[^1] = 0;
        byte* path = stackalloc byte[ProcFdPath.BufferSize];
        ProcFdPath.FormatAbsolute(fd, new Span<byte>(path, ProcFdPath.BufferSize));
        fixed (byte* n = name)
        {
            Libc.removexattr(path, n);   // ENODATA when there is none: nothing to do
        }
    }

    public int SyncFs(in FuseContext context, ulong nodeId)
    {
        Inode? inode = Acquire(nodeId);
        if (inode is null) return EBADF;
        try
        {
            // syncfs refuses O_PATH descriptors; a directory or regular file is opened read-only for it (nothing else).
            if (!inode.IsDirectory && !inode.IsRegular) return EBADF;
            int fd = Reopen(inode, Libc.O_RDONLY | (inode.IsDirectory ? Libc.O_DIRECTORY : 0));
            if (fd < 0) return -fd;
            int errno = Libc.syncfs(fd) == 0 ? 0 : LastErrno;
            Libc.close(fd);
            return errno;
        }
        finally
        {
            inode.Release();
        }
    }
}
