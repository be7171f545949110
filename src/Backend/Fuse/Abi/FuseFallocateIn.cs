using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Fuse.Abi;

/// <summary>fuse_fallocate_in.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseFallocateIn
{
    public ulong Fh;
    public ulong Offset;
    public ulong Length;
    public uint Mode;
    public uint Padding;
}
