using VirtioFs.Backend.Fuse;
using VirtioFs.Backend.Fuse.Abi;
using VirtioFs.Backend.Interop;

namespace VirtioFs.Backend.Passthrough;

// Directories: OPENDIR, READDIR, READDIRPLUS, RELEASEDIR, FSYNCDIR.
public sealed unsafe partial class PassthroughFileSystem
{
    public int OpenDir(in FuseContext context, ulong nodeId, uint flags, out ulong fh, out FuseOpenOutFlags openFlags)
    {
        fh = 0;
        openFlags = FuseOpenOutFlags.None;
        Inode? inode = Acquire(nodeId);
        if (inode is null) return EBADF;
        try
        {
            if (!inode.IsDirectory) return ENOTDIR;
            int fd = Reopen(inode, Libc.O_RDONLY | Libc.O_DIRECTORY);
            if (fd < 0) return -fd;
            return AddHandle(fd, isDirectory: true, out fh, out openFlags, inode);
        }
        finally
        {
            inode.Release();
        }
    }

    public int ReadDir(in FuseContext context, ulong nodeId, ulong fh, ulong offset, bool plus, ref FuseDirentWriter entries, Span<byte> scratch)
    {
        FileHandle? handle = _handles.Acquire(fh);
        if (handle is null) return EBADF;
        try
        {
            if (!handle.IsDirectory) return ENOTDIR;
            lock (handle.DirectoryLock)
            {
                return ReadDirLocked(handle.Directory ?? _inodes.Root, handle.Fd, offset, plus, ref entries, scratch);
            }
        }
        finally
        {
            handle.Release();
        }
    }

    // The guest's offset is a d_off we handed out earlier (or 0); lseek to it and read from there, so a reply cut
    // short resumes exactly at the first entry that did not fit.
    private int ReadDirLocked(Inode directory, int fd, ulong offset, bool plus, ref FuseDirentWriter entries, Span<byte> scratch)
    {
        if (Libc.lseek(fd, unchecked((long)offset), Libc.SEEK_SET) < 0) return LastErrno;
        fixed (byte* buffer = scratch)
        {
            while (true)
            {
                // Read about as much as fits the reply: linux_dirent64 records are a little smaller than fuse_dirent.
                int want = Math.Min(scratch.Length, Math.Max(4096, entries.Capacity - entries.BytesWritten));
                nint n = Libc.getdents64(fd, buffer, (nuint)want);
                if (n < 0) return entries.BytesWritten > 0 ? 0 : LastErrno;
                if (n == 0) return 0;
                for (int position = 0; position < n;)
                {
                    var record = (Libc.linux_dirent64*)(buffer + position);
                    int length = record->d_reclen;
                    if (length <= Libc.DIRENT64_NAME_OFFSET || position + length > n) return EIO;
                    byte* namePointer = buffer + position + Libc.DIRENT64_NAME_OFFSET;
                    var name = new ReadOnlySpan<byte>(namePointer, length - Libc.DIRENT64_NAME_OFFSET);
                    int nul = name.IndexOf((byte)0);
                    if (nul >= 0) name = name[..nul];
                    ulong next = unchecked((ulong)record->d_off);
                    if (!plus)
                    {
                        if (!entries.TryAdd(record->d_ino, next, record->d_type, name)) return 0;
                    }
                    else
                    {
                        // Decide before the lookup: an entry we look up but cannot send would leak a lookup count.
                        if (!entries.Fits(FuseDirentWriter.DirentPlusSize(name.Length))) return 0;
                        FuseEntryOut entry = default;
                        bool dots = name.SequenceEqual("."u8) || name.SequenceEqual(".."u8);
                        // "." and ".." go out with node id 0: the guest then takes nothing from them (no lookup count).
                        int errno = dots ? 0 : LookupAt(directory, fd, namePointer, out entry);
                        if (errno == 0)
                        {
                            entries.TryAddPlus(entry, record->d_ino, next, record->d_type, name);
                        }
                        else if (errno != ENOENT)
                        {
                            // Out of descriptors or similar: stop here; the guest resumes at this entry later.
                            return entries.BytesWritten > 0 ? 0 : errno;
                        }
                        // An entry that vanished since getdents (ENOENT) is skipped.
                    }
                    position += length;
                }
            }
        }
    }

    private const int EIO = 5;

    public int ReleaseDir(in FuseContext context, ulong nodeId, ulong fh, uint flags) => ReleaseHandle(fh);

    public int FsyncDir(in FuseContext context, ulong nodeId, ulong fh, bool dataSync) => SyncHandle(fh, dataSync);
}
