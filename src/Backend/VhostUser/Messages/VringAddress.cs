using System.Runtime.InteropServices;

namespace VirtioFs.Backend.VhostUser.Messages;

/// <summary>struct vhost_vring_addr: SET_VRING_ADDR. The three ring addresses are front-end virtual addresses.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VringAddress
{
    public uint Index;
    /// <summary>VHOST_VRING_F_LOG (bit 0): log used-ring writes at LogGuestAddr.</summary>
    public uint Flags;
    public ulong DescUserAddr;
    public ulong UsedUserAddr;
    public ulong AvailUserAddr;
    public ulong LogGuestAddr;
}
