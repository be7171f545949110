using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Fuse.Abi;

/// <summary>fuse_access_in.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseAccessIn
{
    public uint Mask;
    public uint Padding;
}
