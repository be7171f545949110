using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Fuse.Abi;

/// <summary>fuse_getattr_in.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseGetAttrIn
{
    public uint GetAttrFlags;
    public uint Dummy;
    public ulong Fh;
}
