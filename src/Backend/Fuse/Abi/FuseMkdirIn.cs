using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Fuse.Abi;

/// <summary>fuse_mkdir_in, followed by the name.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseMkdirIn
{
    public uint Mode;
    public uint Umask;
}
