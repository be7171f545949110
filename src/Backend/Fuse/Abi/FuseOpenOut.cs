using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Fuse.Abi;

/// <summary>fuse_open_out.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseOpenOut
{
    public ulong Fh;
    public uint OpenFlags;
    public uint Padding;
}
