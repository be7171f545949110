using VirtioFs.Backend.Interop;

namespace VirtioFs.Backend.Passthrough;

/// <summary>
/// One host inode the guest knows. Held one of two ways:
/// <list type="bullet">
/// <item>by an O_PATH|O_NOFOLLOW descriptor for its whole life (<see cref="InodeFileHandles.Never"/>, file systems
/// without file handles, the root, O_TMPFILE files, and inodes "pinned" when the guest removes their last name);</item>
/// <item>by the file handle name_to_handle_at gave for that descriptor and an fd of its mount: the O_PATH descriptor
/// is then only cached (see <see cref="InodeStore"/>'s bounded fd cache) and reopened with open_by_handle_at when
/// needed. The handle came from a descriptor we opened ourselves under the share, never from the guest.</item>
/// </list>
/// Two counts: the guest's lookup count (changed only under the <see cref="InodeStore"/> lock, by LOOKUP and FORGET)
/// and a reference count of users, so that a FORGET racing with an operation in flight cannot close the descriptor
/// under it (the C virtiofsd's use-after-free). The table holds one reference while the node is in it, so a
/// reference count of 1 with <see cref="InTable"/> means nobody is using the descriptor: only then may the cache
/// take it away (under the store lock, which every new user takes first) and close it.
/// </summary>
internal sealed class Inode
{
    private int _references = 1;
    private int _fd;
    private readonly byte[]? _fileHandle;

    /// <summary>An inode held by its descriptor, which this object takes over.</summary>
    public Inode(ulong nodeId, int fd, InodeKey key, uint fileType, ulong mountId)
    {
        NodeId = nodeId;
        _fd = fd;
        Key = key;
        FileType = fileType;
        MountId = mountId;
    }

    /// <summary>
    /// An inode held by a file handle (struct file_handle: header then f_handle) on the mount of
    /// <paramref name="mountFd"/> (owned by the store's mount table). <paramref name="cachedFd"/> (or -1) is an O_PATH
    /// descriptor of it the caller hands over for the cache.
    /// </summary>
    public Inode(ulong nodeId, byte[] fileHandle, int mountFd, int cachedFd, InodeKey key, uint fileType, ulong mountId)
        : this(nodeId, cachedFd, key, fileType, mountId)
    {
        _fileHandle = fileHandle;
        MountFd = mountFd;
    }

    /// <summary>statx's stx_mnt_id (0 when unknown): tells a submount root from its parent directory.</summary>
    public ulong MountId { get; }

    /// <summary>POSIX-lock descriptors, one per guest lock owner (see PassthroughFileSystem.Locks.cs); lazily made.</summary>
    internal LockOwners? Locks;

    public ulong NodeId { get; }

    public InodeKey Key { get; }

    /// <summary>st_mode &amp; S_IFMT: an inode never changes type.</summary>
    public uint FileType { get; }

    /// <summary>The guest's lookup count. Guarded by the store's lock.</summary>
    internal ulong LookupCount;

    /// <summary>False once FORGET (or a reset) took it out of the table. Guarded by the store's lock.</summary>
    internal bool InTable = true;

    /// <summary>Held by a file handle and not pinned: its descriptor is only cached. Guarded by the store's lock.</summary>
    internal bool FdIsCached => _fileHandle is not null && !Pinned;

    /// <summary>A handle-held inode whose descriptor is now kept for good (see PinForRemoval). Guarded by the store's lock.</summary>
    internal bool Pinned;

    /// <summary>In the store's fd cache ring. Guarded by the store's lock.</summary>
    internal bool InCache;

    /// <summary>Used since the cache last looked (the CLOCK bit); set without the lock, a lost update only costs an eviction.</summary>
    internal bool RecentlyUsed;

    /// <summary>Holds a descriptor for as long as it lives (counted against the fd quota).</summary>
    public bool HoldsFd => _fileHandle is null || Pinned;

    /// <summary>The file handle (header and bytes), or null when the inode is held by its descriptor.</summary>
    public byte[]? FileHandle => _fileHandle;

    /// <summary>An fd on the inode's mount for open_by_handle_at (only with <see cref="FileHandle"/>).</summary>
    public int MountFd { get; } = -1;

    public bool IsDirectory => FileType == Libc.S_IFDIR;

    public bool IsRegular => FileType == Libc.S_IFREG;

    /// <summary>The O_PATH descriptor if one is open right now, else -1. Valid while the caller holds a reference.</summary>
    public int CurrentFd => Volatile.Read(ref _fd);

    /// <summary>Installs a freshly opened descriptor unless another thread got there first; returns the one in use.</summary>
    internal int InstallFd(int fd)
    {
        int existing = Interlocked.CompareExchange(ref _fd, fd, -1);
        if (existing == -1) return fd;
        Libc.close(fd);
        return existing;
    }

    /// <summary>
    /// Takes the cached descriptor away from the inode and returns it (or -1) for the caller to close. Only under the
    /// store lock, with no user (see the class comment): the next user finds -1 and reopens by handle, so the caller
    /// may close the returned descriptor after leaving the lock.
    /// </summary>
    internal int DetachCachedFd() => Interlocked.Exchange(ref _fd, -1);

    /// <summary>References right now (1: only the table). Read under the store lock.</summary>
    internal int References => Volatile.Read(ref _references);

    /// <summary>Only while the caller already holds a reference or the store lock.</summary>
    internal void AddReference() => Interlocked.Increment(ref _references);

    /// <summary>Drops one reference; the last one closes the descriptor.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _references) != 0) return;
        Locks?.CloseAll();
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0) Libc.close(fd);
    }
}
