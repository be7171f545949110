using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Fuse.Abi;

/// <summary>fuse_out_header: starts every reply; Len must equal the bytes written, Error is -errno.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseOutHeader
{
    public uint Len;
    public int Error;
    public ulong Unique;
}
