using VirtioFs.Backend.Fuse.Abi;
using VirtioFs.Backend.Memory;

namespace VirtioFs.Backend.Fuse;

/// <summary>
/// The file system behind a <see cref="FuseServer"/>: one method per FUSE operation. Every method returns 0 or a
/// positive errno and never throws for anything a guest can send; the defaults answer ENOSYS, which tells the guest
/// kernel the operation is not supported (for some operations it then stops asking).
/// Node ids and handles are the file system's own numbers, passed back by the guest unchecked: implementations
/// must treat unknown or stale values as errors (EBADF/ENOENT), never trust them.
/// </summary>
/// <remarks>
/// Lookup count: each successful Lookup, Mknod, Mkdir, Symlink, Link, Create, and each ReadDirPlus entry with a
/// non-zero node id adds one to the node's lookup count; Forget subtracts. A node may be dropped when the count
/// reaches zero. The root (node id 1) is never forgotten.
/// </remarks>
public interface IFileSystem
{
    /// <summary>errno for "not implemented".</summary>
    public const int ENOSYS = 38;

    /// <summary>
    /// INIT: the guest offers <paramref name="capable"/>; returns the optional capabilities this file system wants
    /// (for example READDIRPLUS, WRITEBACK_CACHE). The server adds its own always-offered set.
    /// Called after <see cref="Destroy"/>, so earlier state is already gone.
    /// </summary>
    FuseInitFlags Init(FuseInitFlags capable) => FuseInitFlags.None;

    /// <summary>DESTROY, a new INIT, or a device reset: forget every node but the root and close every handle.</summary>
    void Destroy() { }

    int Lookup(in FuseContext context, ulong parent, FuseName name, out FuseEntryOut entry)
    {
        entry = default;
        return ENOSYS;
    }

    /// <summary>FORGET / BATCH_FORGET: no reply. Counts larger than the lookup count clamp to zero.</summary>
    void Forget(ulong nodeId, ulong count) { }

    /// <summary>GETATTR; <paramref name="fh"/> is meaningful only when <paramref name="useHandle"/>.</summary>
    int GetAttr(in FuseContext context, ulong nodeId, ulong fh, bool useHandle, out FuseAttrOut attr)
    {
        attr = default;
        return ENOSYS;
    }

    int SetAttr(in FuseContext context, ulong nodeId, in FuseSetAttrIn change, out FuseAttrOut attr)
    {
        attr = default;
        return ENOSYS;
    }

    /// <summary>READLINK: writes the target (no terminator) into <paramref name="target"/>.</summary>
    int ReadLink(in FuseContext context, ulong nodeId, Span<byte> target, out int length)
    {
        length = 0;
        return ENOSYS;
    }

    /// <summary>SYMLINK: <paramref name="nulTerminatedTarget"/> is the link's content (any bytes but NUL, then NUL).</summary>
    int Symlink(in FuseContext context, ulong parent, FuseName name, ReadOnlySpan<byte> nulTerminatedTarget, out FuseEntryOut entry)
    {
        entry = default;
        return ENOSYS;
    }

    int Mknod(in FuseContext context, ulong parent, FuseName name, uint mode, uint rdev, uint umask, out FuseEntryOut entry)
    {
        entry = default;
        return ENOSYS;
    }

    int Mkdir(in FuseContext context, ulong parent, FuseName name, uint mode, uint umask, out FuseEntryOut entry)
    {
        entry = default;
        return ENOSYS;
    }

    int Unlink(in FuseContext context, ulong parent, FuseName name) => ENOSYS;

    int Rmdir(in FuseContext context, ulong parent, FuseName name) => ENOSYS;

    /// <summary>RENAME (flags 0) and RENAME2 (RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT as renameat2).</summary>
    int Rename(in FuseContext context, ulong parent, FuseName name, ulong newParent, FuseName newName, uint flags) => ENOSYS;

    int Link(in FuseContext context, ulong nodeId, ulong newParent, FuseName newName, out FuseEntryOut entry)
    {
        entry = default;
        return ENOSYS;
    }

    /// <summary>OPEN; <paramref name="openInFlags"/> is fuse_open_in.open_flags (FUSE_OPEN_KILL_SUIDGID).</summary>
    int Open(in FuseContext context, ulong nodeId, uint flags, uint openInFlags, out ulong fh, out FuseOpenOutFlags openFlags)
    {
        fh = 0;
        openFlags = FuseOpenOutFlags.None;
        return ENOSYS;
    }

    int Create(in FuseContext context, ulong parent, FuseName name, uint mode, uint flags, uint umask, uint openInFlags,
        out FuseEntryOut entry, out ulong fh, out FuseOpenOutFlags openFlags)
    {
        entry = default;
        fh = 0;
        openFlags = FuseOpenOutFlags.None;
        return ENOSYS;
    }

    /// <summary>READ straight into <paramref name="destination"/> (the reply's data segments, already sized to the request).</summary>
    int Read(in FuseContext context, ulong nodeId, ulong fh, ulong offset, ReadOnlySpan<IoSegment> destination, out int bytesRead)
    {
        bytesRead = 0;
        return ENOSYS;
    }

    /// <summary>WRITE straight from <paramref name="source"/> (the request's payload segments; the guest may change them meanwhile).</summary>
    int Write(in FuseContext context, ulong nodeId, ulong fh, ulong offset, ReadOnlySpan<IoSegment> source, uint writeFlags, out int bytesWritten)
    {
        bytesWritten = 0;
        return ENOSYS;
    }

    int Flush(in FuseContext context, ulong nodeId, ulong fh, ulong lockOwner) => ENOSYS;

    int Release(in FuseContext context, ulong nodeId, ulong fh, uint flags, uint releaseFlags, ulong lockOwner) => ENOSYS;

    int Fsync(in FuseContext context, ulong nodeId, ulong fh, bool dataSync) => ENOSYS;

    int OpenDir(in FuseContext context, ulong nodeId, uint flags, out ulong fh, out FuseOpenOutFlags openFlags)
    {
        fh = 0;
        openFlags = FuseOpenOutFlags.None;
        return ENOSYS;
    }

    /// <summary>
    /// READDIR / READDIRPLUS from <paramref name="offset"/>: add entries to <paramref name="entries"/> until one does not
    /// fit (stop before it; for READDIRPLUS decide before looking the entry up, so no lookup count leaks).
    /// <paramref name="scratch"/> is the worker's memory for the file system's own staging.
    /// </summary>
    int ReadDir(in FuseContext context, ulong nodeId, ulong fh, ulong offset, bool plus, ref FuseDirentWriter entries, Span<byte> scratch) => ENOSYS;

    int ReleaseDir(in FuseContext context, ulong nodeId, ulong fh, uint flags) => ENOSYS;

    int FsyncDir(in FuseContext context, ulong nodeId, ulong fh, bool dataSync) => ENOSYS;

    int StatFs(in FuseContext context, ulong nodeId, out FuseKstatfs statfs)
    {
        statfs = default;
        return ENOSYS;
    }

    int Access(in FuseContext context, ulong nodeId, uint mask) => ENOSYS;

    int Lseek(in FuseContext context, ulong nodeId, ulong fh, ulong offset, uint whence, out ulong result)
    {
        result = 0;
        return ENOSYS;
    }

    int Fallocate(in FuseContext context, ulong nodeId, ulong fh, uint mode, ulong offset, ulong length) => ENOSYS;

    /// <summary>GETXATTR: with an empty <paramref name="value"/> report the size only; ERANGE when it does not fit.</summary>
    int GetXattr(in FuseContext context, ulong nodeId, FuseName name, Span<byte> value, out int length)
    {
        length = 0;
        return ENOSYS;
    }

    /// <summary>LISTXATTR: with an empty <paramref name="list"/> report the size only; ERANGE when it does not fit.</summary>
    int ListXattr(in FuseContext context, ulong nodeId, Span<byte> list, out int length)
    {
        length = 0;
        return ENOSYS;
    }

    int SetXattr(in FuseContext context, ulong nodeId, FuseName name, ReadOnlySpan<byte> value, uint flags) => ENOSYS;

    int RemoveXattr(in FuseContext context, ulong nodeId, FuseName name) => ENOSYS;

    /// <summary>
    /// GETLK: the first lock that would conflict with <paramref name="request"/> for <paramref name="owner"/>, or
    /// Type = F_UNLCK when there is none.
    /// </summary>
    int GetLk(in FuseContext context, ulong nodeId, ulong fh, ulong owner, in FuseFileLock request, out FuseFileLock conflict)
    {
        conflict = default;
        return ENOSYS;
    }

    /// <summary>
    /// SETLK / SETLKW: take or release a POSIX record lock for <paramref name="owner"/> (or, with
    /// <paramref name="flock"/>, a BSD flock on the handle). Never blocks: answers EAGAIN when another owner holds a
    /// conflicting lock; the server turns that into a wait for SETLKW.
    /// </summary>
    int SetLk(in FuseContext context, ulong nodeId, ulong fh, ulong owner, in FuseFileLock request, bool flock) => ENOSYS;

    /// <summary>COPY_FILE_RANGE between two open handles; <paramref name="copied"/> may be short.</summary>
    int CopyFileRange(in FuseContext context, ulong nodeIn, ulong fhIn, ulong offsetIn, ulong nodeOut, ulong fhOut, ulong offsetOut,
        ulong length, ulong flags, out ulong copied)
    {
        copied = 0;
        return ENOSYS;
    }

    /// <summary>SYNCFS: flush the file system that holds <paramref name="nodeId"/>.</summary>
    int SyncFs(in FuseContext context, ulong nodeId) => ENOSYS;

    /// <summary>TMPFILE: an unnamed regular file in <paramref name="parent"/> (open(O_TMPFILE)), opened, with one lookup.</summary>
    int TmpFile(in FuseContext context, ulong parent, uint mode, uint flags, uint umask,
        out FuseEntryOut entry, out ulong fh, out FuseOpenOutFlags openFlags)
    {
        entry = default;
        fh = 0;
        openFlags = FuseOpenOutFlags.None;
        return ENOSYS;
    }
}
