using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Fuse.Abi;

/// <summary>fuse_lk_in (GETLK, SETLK, SETLKW): the handle, the guest's lock owner, the lock, FUSE_LK_FLOCK.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseLkIn
{
    public ulong Fh;
    public ulong Owner;
    public FuseFileLock Lk;
    public uint LkFlags;
    public uint Padding;
}
