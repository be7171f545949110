using System.Runtime.InteropServices;

namespace VirtioFs.Backend.VhostUser.Messages;

/// <summary>One region of SET_MEM_TABLE (and, after 8 bytes of padding, of ADD_MEM_REG / REM_MEM_REG).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct MemoryRegionPayload
{
    public const int Size = 32;

    public ulong GuestPhysAddr;
    public ulong MemorySize;
    public ulong UserAddr;
    public ulong MmapOffset;
}
