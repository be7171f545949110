using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Fuse.Abi;

/// <summary>fuse_rename2_in, followed by the old and the new name.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseRename2In
{
    public ulong NewDir;
    public uint Flags;
    public uint Padding;
}
