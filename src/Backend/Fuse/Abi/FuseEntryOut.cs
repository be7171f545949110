using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Fuse.Abi;

/// <summary>fuse_entry_out: the reply to LOOKUP, MKNOD, MKDIR, SYMLINK, LINK and the first part of CREATE's.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseEntryOut
{
    public ulong NodeId;
    public ulong Generation;
    public ulong EntryValid;
    public ulong AttrValid;
    public uint EntryValidNsec;
    public uint AttrValidNsec;
    public FuseAttr Attr;
}
