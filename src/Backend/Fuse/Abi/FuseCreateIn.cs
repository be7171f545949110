using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Fuse.Abi;

/// <summary>fuse_create_in, followed by the name.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseCreateIn
{
    public uint Flags;
    public uint Mode;
    public uint Umask;
    public uint OpenFlags;
}
