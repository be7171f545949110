using System.Runtime.InteropServices;

namespace VirtioFs.Backend.VhostUser.Messages;

/// <summary>struct vhost_vring_state: SET_VRING_NUM/BASE/ENABLE and the GET_VRING_BASE reply.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct VringState
{
    public uint Index;
    public uint Num;
}
