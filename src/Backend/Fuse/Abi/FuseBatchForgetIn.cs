using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Fuse.Abi;

/// <summary>fuse_batch_forget_in, followed by Count fuse_forget_one.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseBatchForgetIn
{
    public uint Count;
    public uint Dummy;
}
