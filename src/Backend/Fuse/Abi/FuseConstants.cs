namespace VirtioFs.Backend.Fuse.Abi;

/// <summary>Protocol constants from include/uapi/linux/fuse.h.</summary>
public static class FuseConstants
{
    /// <summary>FUSE_KERNEL_VERSION.</summary>
    public const uint KernelVersion = 7;

    /// <summary>FUSE_KERNEL_MINOR_VERSION we speak (virtiofsd's value).</summary>
    public const uint KernelMinorVersion = 38;

    /// <summary>The oldest guest minor we accept (virtiofsd's MIN_KERNEL_MINOR_VERSION).</summary>
    public const uint MinKernelMinorVersion = 27;

    /// <summary>FUSE_ROOT_ID: the node id of the shared directory.</summary>
    public const ulong RootId = 1;

    /// <summary>FUSE_NAME_OFFSET: offsetof(struct fuse_dirent, name).</summary>
    public const int DirentNameOffset = 24;

    /// <summary>FUSE_NAME_OFFSET_DIRENTPLUS: offsetof(struct fuse_direntplus, dirent.name).</summary>
    public const int DirentPlusNameOffset = 152;

    /// <summary>FUSE_GETATTR_FH: fuse_getattr_in.fh is valid.</summary>
    public const uint GetAttrFh = 1;

    /// <summary>FUSE_FSYNC_FDATASYNC: sync data only.</summary>
    public const uint FsyncFdatasync = 1;

    /// <summary>FUSE_RELEASE_FLUSH: flush before release.</summary>
    public const uint ReleaseFlush = 1;

    /// <summary>FUSE_WRITE_KILL_SUIDGID.</summary>
    public const uint WriteKillSuidgid = 4;

    /// <summary>FUSE_EXT_GROUPS: the request extension carrying supplementary groups (fuse_supp_groups).</summary>
    public const uint ExtGroups = 32;

    /// <summary>FUSE_LK_FLOCK in fuse_lk_in.lk_flags: a BSD flock() rather than a POSIX record lock.</summary>
    public const uint LkFlock = 1;

    /// <summary>FUSE_RELEASE_FLOCK_UNLOCK in fuse_release_in.release_flags: drop the handle's flock.</summary>
    public const uint ReleaseFlockUnlock = 2;

    /// <summary>OFFSET_MAX: fuse_file_lock.end meaning "to the end of the file".</summary>
    public const ulong OffsetMax = long.MaxValue;

    /// <summary>Size of fuse_in_header.</summary>
    public const int InHeaderSize = 40;

    /// <summary>Size of fuse_out_header.</summary>
    public const int OutHeaderSize = 16;
}
