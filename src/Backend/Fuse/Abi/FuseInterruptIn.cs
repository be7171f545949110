using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Fuse.Abi;

/// <summary>fuse_interrupt_in.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseInterruptIn
{
    public ulong Unique;
}
