using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Fuse.Abi;

/// <summary>fuse_init_in (64 bytes since 7.36; older kernels send the first 16).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct FuseInitIn
{
    public uint Major;
    public uint Minor;
    public uint MaxReadahead;
    public uint Flags;
    public uint Flags2;
    public fixed uint Unused[11];
}
