using VirtioFs.Backend.Interop;

namespace VirtioFs.Backend.Passthrough;

/// <summary>
/// One host inode the guest knows, held by an O_PATH|O_NOFOLLOW descriptor. Two counts: the guest's lookup count
/// (changed only under the <see cref="InodeStore"/> lock, by LOOKUP and FORGET) and a reference count of users, so
/// that a FORGET racing with an operation in flight cannot close the descriptor under it (the C virtiofsd's
/// use-after-free). The table holds one reference while the node is in it.
/// </summary>
internal sealed class Inode
{
    private int _references = 1;

    public Inode(ulong nodeId, int fd, InodeKey key, uint fileType, ulong mountId)
    {
        NodeId = nodeId;
        Fd = fd;
        Key = key;
        FileType = fileType;
        MountId = mountId;
    }

    /// <summary>statx's stx_mnt_id (0 when unknown): tells a submount root from its parent directory.</summary>
    public ulong MountId { get; }

    /// <summary>POSIX-lock descriptors, one per guest lock owner (see PassthroughFileSystem.Locks.cs); lazily made.</summary>
    internal LockOwners? Locks;

    public ulong NodeId { get; }

    /// <summary>The O_PATH descriptor; valid while the caller holds a reference.</summary>
    public int Fd { get; }

    public InodeKey Key { get; }

    /// <summary>st_mode &amp; S_IFMT: an inode never changes type.</summary>
    public uint FileType { get; }

    /// <summary>The guest's lookup count. Guarded by the store's lock.</summary>
    internal ulong LookupCount;

    public bool IsDirectory => FileType == Libc.S_IFDIR;

    public bool IsRegular => FileType == Libc.S_IFREG;

    /// <summary>Only while the caller already holds a reference or the store lock.</summary>
    internal void AddReference() => Interlocked.Increment(ref _references);

    /// <summary>Drops one reference; the last one closes the descriptor.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _references) != 0) return;
        Locks?.CloseAll();
        Libc.close(Fd);
    }
}
