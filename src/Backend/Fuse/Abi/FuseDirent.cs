using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Fuse.Abi;

/// <summary>fuse_dirent without its trailing name (FUSE_NAME_OFFSET = 24); records are padded to 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseDirent
{
    public ulong Ino;
    public ulong Off;
    public uint NameLen;
    public uint Type;
}
