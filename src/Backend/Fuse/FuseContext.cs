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

    public uint Uid { get; }
    public uint Gid { get; }
    public uint Pid { get; }
    public ulong Unique { get; }
}
