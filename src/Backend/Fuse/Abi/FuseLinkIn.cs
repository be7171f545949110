using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Fuse.Abi;

/// <summary>fuse_link_in, followed by the new name.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseLinkIn
{
    public ulong OldNodeId;
}
