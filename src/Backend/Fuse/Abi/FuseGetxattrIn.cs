using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Fuse.Abi;

/// <summary>fuse_getxattr_in (GETXATTR, followed by the name; LISTXATTR).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseGetxattrIn
{
    public uint Size;
    public uint Padding;
}
