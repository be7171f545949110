using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Fuse.Abi;

/// <summary>fuse_in_header: starts every request; len covers the header, the arguments and any payload.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseInHeader
{
    public uint Len;
    public uint Opcode;
    public ulong Unique;
    public ulong NodeId;
    public uint Uid;
    public uint Gid;
    public uint Pid;
    /// <summary>length of request extensions in 8-byte units</summary>
    public ushort TotalExtLen;
    public ushort Padding;
}
