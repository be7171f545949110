using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Fuse.Abi;

/// <summary>fuse_getxattr_out: the size reply when the request's Size is 0.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseGetxattrOut
{
    public uint Size;
    public uint Padding;
}
