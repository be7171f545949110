using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Fuse.Abi;

/// <summary>fuse_lk_out (GETLK): the conflicting lock, or Type = F_UNLCK when there is none.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseLkOut
{
    public FuseFileLock Lk;
}
