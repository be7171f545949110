using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Fuse.Abi;

/// <summary>fuse_forget_one: one entry of BATCH_FORGET.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseForgetOne
{
    public ulong NodeId;
    public ulong Nlookup;
}
