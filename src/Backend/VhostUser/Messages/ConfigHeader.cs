using System.Runtime.InteropServices;

namespace VirtioFs.Backend.VhostUser.Messages;

/// <summary>The head of GET_CONFIG / SET_CONFIG: offset and size into the device config space, then the bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct ConfigHeader
{
    public const int Size = 12;

    public uint Offset;
    public uint PayloadSize;
    public uint Flags;
}
