namespace VirtioFs.Backend.Fuse;

/// <summary>Who asked: the caller's ids from fuse_in_header (guest-side ids; the guest may lie about them).</summary>
public readonly struct FuseContext
{
    public FuseContext(uint uid, uint gid, uint pid, ulong unique)
    {
        Uid = uid;
        Gid = gid;
        Pid = pid;
        Unique = unique;
    }

    /// <summary>With the supplementary group the guest sent (FUSE_CREATE_SUPP_GROUP) for a creating request.</summary>
    public FuseContext(uint uid, uint gid, uint pid, ulong unique, uint supplementaryGroup)
        : this(uid, gid, pid, unique)
    {
        SupplementaryGroup = supplementaryGroup;
        HasSupplementaryGroup = true;
    }

    public uint Uid { get; }
    public uint Gid { get; }
    public uint Pid { get; }
    public ulong Unique { get; }

    /// <summary>
    /// The parent directory's group when the caller is a member of it but it is not the caller's gid: the kernel sends
    /// it with creating requests (FUSE_EXT_GROUPS) so that the new node's group is what a local file system gives.
    /// </summary>
    public uint SupplementaryGroup { get; }

    public bool HasSupplementaryGroup { get; }
}
