namespace VirtioFs.Backend.Passthrough;

/// <summary>Options of <see cref="PassthroughFileSystem"/>. Every option states its default.</summary>
public sealed class PassthroughOptions
{
    /// <summary>The host directory the guest sees as its root. Required; no default.</summary>
    public required string SharedDirectory { get; init; }

    /// <summary>Guest caching policy. Default <see cref="CachePolicy.Auto"/> (1 s timeouts).</summary>
    public CachePolicy Cache { get; init; } = CachePolicy.Auto;

    /// <summary>Refuse every modification with EROFS (the host directory itself stays writable). Default false.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>Offer READDIRPLUS (with READDIRPLUS_AUTO). Default true; never with <see cref="CachePolicy.Never"/>.</summary>
    public bool ReaddirPlus { get; init; } = true;

    /// <summary>Negotiate FUSE_WRITEBACK_CACHE (write-only opens become read-write, O_APPEND is dropped). Default false.</summary>
    public bool Writeback { get; init; }

    /// <summary>Serve the extended-attribute operations. Default false: they answer ENOSYS, so the guest stops asking.</summary>
    public bool Xattr { get; init; }

    /// <summary>Honour the guest's O_DIRECT. Default false: it is stripped.</summary>
    public bool AllowDirectIo { get; init; }

    /// <summary>Most file and directory handles the guest may hold open; past it OPEN answers ENFILE. Default 65536.</summary>
    public int MaxOpenHandles { get; init; } = 65536;

    /// <summary>
    /// Entry and attribute timeout in seconds (the C virtiofsd's -o timeout=). Default null: from <see cref="Cache"/>
    /// (never 0, metadata 86400, auto 1, always 86400).
    /// </summary>
    public double? Timeout { get; init; }

    /// <summary>Serve remote POSIX record locks (GETLK/SETLK/SETLKW). Default false, as the C virtiofsd (-o no_posix_lock).</summary>
    public bool PosixLocks { get; init; }

    /// <summary>Serve BSD flock() remotely (FUSE_LK_FLOCK). Default false, as the C virtiofsd (-o no_flock).</summary>
    public bool Flock { get; init; }

    /// <summary>
    /// Flag the roots of host mounts inside the share (FUSE_ATTR_SUBMOUNT) so the guest gives each its own st_dev.
    /// Default true, as the Rust virtiofsd (--announce-submounts).
    /// </summary>
    public bool AnnounceSubmounts { get; init; } = true;

    /// <summary>Negotiate FUSE_HANDLE_KILLPRIV_V2: the daemon clears set-id bits on write/truncate. Default false.</summary>
    public bool KillprivV2 { get; init; }

    /// <summary>
    /// xattr name mapping rules in virtiofsd's --xattrmap syntax (see <see cref="XattrMap"/>). Default null: names pass
    /// unchanged. Only used with <see cref="Xattr"/>.
    /// </summary>
    public string? XattrMap { get; init; }

    /// <summary>
    /// Raise RLIMIT_NOFILE (soft, and hard when allowed) to at least this at start; never lowers it. Default null:
    /// min(1,000,000, /proc/sys/fs/nr_open), as virtiofsd's --rlimit-nofile default. 0 leaves it alone.
    /// </summary>
    public ulong? RlimitNofile { get; init; }

    /// <summary>
    /// Most descriptors the guest may make this share hold (descriptor-held inodes, open handles, lock descriptors;
    /// inodes held by file handles cost none); past it LOOKUP, CREATE, OPEN and locks answer ENFILE instead of the
    /// daemon running out of descriptors (CVE-2020-10717). Default null: RLIMIT_NOFILE after raising it minus a
    /// reserve of max(1024, 10% of it) left to the host process. Whatever this is, all shares of the process together
    /// never take that reserve (<see cref="FdBudget"/>).
    /// </summary>
    public int? FdQuota { get; init; }

    /// <summary>
    /// Hold inodes by file handles instead of O_PATH descriptors (virtiofsd's --inode-file-handles). Default
    /// <see cref="InodeFileHandles.Prefer"/>: where the daemon has CAP_DAC_READ_SEARCH and the file system makes them.
    /// </summary>
    public InodeFileHandles InodeFileHandles { get; init; } = InodeFileHandles.Prefer;

    /// <summary>O_PATH descriptors of handle-held inodes kept open between uses. Default 128.</summary>
    internal int InodeFdCacheSize { get; init; } = InodeStore.DefaultFdCacheCapacity;

    internal void Validate()
    {
        if (string.IsNullOrEmpty(SharedDirectory)) throw new ArgumentException("SharedDirectory is required.", nameof(SharedDirectory));
        if (!Enum.IsDefined(Cache)) throw new ArgumentOutOfRangeException(nameof(Cache), Cache, "Unknown cache policy.");
        if (Timeout is { } t && (double.IsNaN(t) || t < 0 || t > uint.MaxValue))
            throw new ArgumentOutOfRangeException(nameof(Timeout), Timeout, "Timeout must be between 0 and 4294967295 seconds.");
        if (FdQuota is < 1) throw new ArgumentOutOfRangeException(nameof(FdQuota), FdQuota, "FdQuota must be at least 1.");
        if (!Enum.IsDefined(InodeFileHandles)) throw new ArgumentOutOfRangeException(nameof(InodeFileHandles), InodeFileHandles, "Unknown inode file handle mode.");
        if (InodeFdCacheSize < 1) throw new ArgumentOutOfRangeException(nameof(InodeFdCacheSize), InodeFdCacheSize, "The inode fd cache needs room for at least one descriptor.");
        if (MaxOpenHandles < 1) throw new ArgumentOutOfRangeException(nameof(MaxOpenHandles), MaxOpenHandles, "MaxOpenHandles must be at least 1.");
    }
}
