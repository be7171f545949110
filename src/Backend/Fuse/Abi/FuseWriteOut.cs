using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Fuse.Abi;

/// <summary>fuse_write_out.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseWriteOut
{
    public uint Size;
    public uint Padding;
}
