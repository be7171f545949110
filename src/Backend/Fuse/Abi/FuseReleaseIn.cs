using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Fuse.Abi;

/// <summary>fuse_release_in (RELEASE and RELEASEDIR).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseReleaseIn
{
    public ulong Fh;
    public uint Flags;
    public uint ReleaseFlags;
    public ulong LockOwner;
}
