using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Fuse.Abi;

/// <summary>fuse_open_in (OPEN and OPENDIR).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseOpenIn
{
    public uint Flags;
    public uint OpenFlags;
}
