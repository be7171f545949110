using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Fuse.Abi;

/// <summary>fuse_lseek_out.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseLseekOut
{
    public ulong Offset;
}
