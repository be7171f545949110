using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Fuse.Abi;

/// <summary>fuse_fsync_in (FSYNC and FSYNCDIR).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseFsyncIn
{
    public ulong Fh;
    public uint FsyncFlags;
    public uint Padding;
}
