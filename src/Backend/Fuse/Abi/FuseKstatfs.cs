using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Fuse.Abi;

/// <summary>fuse_kstatfs, the body of fuse_statfs_out.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct FuseKstatfs
{
    public ulong Blocks;
    public ulong Bfree;
    public ulong Bavail;
    public ulong Files;
    public ulong Ffree;
    public uint Bsize;
    public uint NameLen;
    public uint Frsize;
    public uint Padding;
    public fixed uint Spare[6];
}
