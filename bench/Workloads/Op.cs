using VirtioFs.Bench.Driver;

namespace VirtioFs.Bench.Workloads;

/// <summary>One operation in flight: its request slot and the small state a multi-request operation needs.</summary>
internal sealed class Op(RequestSlot slot)
{
    public readonly RequestSlot Slot = slot;
    public readonly byte[] Name = new byte[40];
    public int NameLength;
    public int Step;
    public long StartTicks;
    public ulong NodeId;
    public ulong Fh;
    public ulong Offset;
    public bool Failed;
}
