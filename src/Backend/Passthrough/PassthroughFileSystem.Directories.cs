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
                return ReadDirLocked(handle.Directory ?? _inodes.Root, handle.Fd, handle.Stream!, offset, plus, ref entries);
            }
        }
        finally
        {
            handle.Release();
        }
    }

    // The guest's offset is a d_off we handed out earlier (or 0). When it is where the stream stands, the listing
    // continues from the records already read; otherwise the descriptor is moved there first. A reply cut short leaves
    // the first record that did not fit pending, so the next READDIR starts exactly there.
    private int ReadDirLocked(Inode directory, int fd, DirectoryStream stream, ulong offset, bool plus, ref FuseDirentWriter entries)
    {
        if (!stream.PositionKnown || offset != stream.Position)
        {
            if (Libc.lseek(fd, unchecked((long)offset), Libc.SEEK_SET) < 0)
            {
                stream.PositionKnown = false;
                return LastErrno;
            }
            stream.SeekedTo(offset);
        }
        byte[] records = stream.Buffer;
        fixed (byte* buffer = records)
        {
            while (true)
            {
                if (stream.Pending == 0)
                {
                    nint n = Libc.getdents64(fd, buffer, DirectoryStream.BufferSize);
                    if (n < 0)
                    {
                        int errno = LastErrno;
                        stream.PositionKnown = false;
                        return entries.BytesWritten > 0 ? 0 : errno;
                    }
                    if (n == 0)
                    {
                        stream.Release();   // the end: the position stays, the buffer goes back
                        return 0;
                    }
                    stream.Start = 0;
                    stream.End = (int)n;
                }
                int position = stream.Start;
                var record = (Libc.linux_dirent64*)(buffer + position);
                int length = record->d_reclen;
                if (length <= Libc.DIRENT64_NAME_OFFSET || position + length > stream.End)
                {
                    stream.SeekedTo(0);
                    stream.PositionKnown = false;
                    return EIO;
                }
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
                stream.Start = position + length;
                stream.Position = next;
            }
        }
    }

    private const int EIO = 5;

    public int ReleaseDir(in FuseContext context, ulong nodeId, ulong fh, uint flags) => ReleaseHandle(fh);

    public int FsyncDir(in FuseContext context, ulong nodeId, ulong fh, bool dataSync) => SyncHandle(fh, dataSync);
}
