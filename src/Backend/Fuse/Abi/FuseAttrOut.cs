using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Fuse.Abi;

/// <summary>fuse_attr_out: the reply to GETATTR and SETATTR.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseAttrOut
{
    public ulong AttrValid;
    public uint AttrValidNsec;
    public uint Dummy;
    public FuseAttr Attr;
}
