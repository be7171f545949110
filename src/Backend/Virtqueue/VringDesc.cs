using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Virtqueue;

/// <summary>struct virtq_desc (virtio 1.x, 2.7.5): one buffer descriptor, little-endian, 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential, Size = 16)]
internal struct VringDesc
{
    /// <summary>Guest-physical address of the buffer (or of an indirect table).</summary>
    public ulong Addr;

    /// <summary>Length in bytes.</summary>
    public uint Len;

    /// <summary><see cref="SplitRing.VRING_DESC_F_NEXT"/>, <see cref="SplitRing.VRING_DESC_F_WRITE"/>, <see cref="SplitRing.VRING_DESC_F_INDIRECT"/>.</summary>
    public ushort Flags;

    /// <summary>Index of the next descriptor when NEXT is set.</summary>
    public ushort Next;
}
