using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Fuse.Abi;

/// <summary>fuse_file_lock: a byte range [Start, End] (End inclusive, OFFSET_MAX = to the end), F_RDLCK/F_WRLCK/F_UNLCK.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseFileLock
{
    public ulong Start;
    public ulong End;
    public uint Type;
    public uint Pid;
}
