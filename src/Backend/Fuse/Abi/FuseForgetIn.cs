using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Fuse.Abi;

/// <summary>fuse_forget_in.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseForgetIn
{
    public ulong Nlookup;
}
