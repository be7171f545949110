using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Fuse.Abi;

/// <summary>fuse_rename_in, followed by the old and the new name.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseRenameIn
{
    public ulong NewDir;
}
