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
            Libc.statfs_t st;
            if (Libc.fstatfs(inode.Fd, &st) != 0) return LastErrno;
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
            int errno = Statx(inode.Fd, out Libc.statx_t st);
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

    public int GetXattr(in FuseContext context, ulong nodeId, FuseName name, Span<byte> value, out int length)
    {
        length = 0;
        if (!_options.Xattr) return ENOSYS;
        Inode? inode = Acquire(nodeId);
        if (inode is null) return EBADF;
        try
        {
            byte* path = stackalloc byte[ProcFdPath.BufferSize];
            ProcFdPath.FormatAbsolute(inode.Fd, new Span<byte>(path, ProcFdPath.BufferSize));
            fixed (byte* n = name.NulTerminated)
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

    public int ListXattr(in FuseContext context, ulong nodeId, Span<byte> list, out int length)
    {
        length = 0;
        if (!_options.Xattr) return ENOSYS;
        Inode? inode = Acquire(nodeId);
        if (inode is null) return EBADF;
        try
        {
            byte* path = stackalloc byte[ProcFdPath.BufferSize];
            ProcFdPath.FormatAbsolute(inode.Fd, new Span<byte>(path, ProcFdPath.BufferSize));
            fixed (byte* l = list)
            {
                nint result = Libc.listxattr(path, l, (nuint)list.Length);
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

    public int SetXattr(in FuseContext context, ulong nodeId, FuseName name, ReadOnlySpan<byte> value, uint flags)
    {
        if (!_options.Xattr) return ENOSYS;
        if (_options.ReadOnly) return EROFS;
        Inode? inode = Acquire(nodeId);
        if (inode is null) return EBADF;
        try
        {
            byte* path = stackalloc byte[ProcFdPath.BufferSize];
            ProcFdPath.FormatAbsolute(inode.Fd, new Span<byte>(path, ProcFdPath.BufferSize));
            fixed (byte* n = name.NulTerminated)
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
        Inode? inode = Acquire(nodeId);
        if (inode is null) return EBADF;
        try
        {
            byte* path = stackalloc byte[ProcFdPath.BufferSize];
            ProcFdPath.FormatAbsolute(inode.Fd, new Span<byte>(path, ProcFdPath.BufferSize));
            fixed (byte* n = name.NulTerminated)
            {
                return Libc.removexattr(path, n) == 0 ? 0 : LastErrno;
            }
        }
        finally
        {
            inode.Release();
        }
    }
}
