using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Fuse.Abi;

/// <summary>fuse_setxattr_in (16 bytes with FUSE_SETXATTR_EXT, else the first 8), followed by name and value.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseSetxattrIn
{
    public uint Size;
    public uint Flags;
    public uint SetxattrFlags;
    public uint Padding;
}
