using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Fuse.Abi;

/// <summary>fuse_mknod_in, followed by the name.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseMknodIn
{
    public uint Mode;
    public uint Rdev;
    public uint Umask;
    public uint Padding;
}
