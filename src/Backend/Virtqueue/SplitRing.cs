namespace VirtioFs.Backend.Virtqueue;

/// <summary>
/// Layout of a split virtqueue (virtio 1.x, 2.7), names as in linux/virtio_ring.h.
/// <code>
/// desc  (align 16): struct virtq_desc { le64 addr; le32 len; le16 flags; le16 next; } [N]
/// avail (align 2):  le16 flags; le16 idx; le16 ring[N]; le16 used_event;
/// used  (align 4):  le16 flags; le16 idx; struct { le32 id; le32 len; } ring[N]; le16 avail_event;
/// </code>
/// </summary>
internal static class SplitRing
{
    internal const ushort VRING_DESC_F_NEXT = 1;
    internal const ushort VRING_DESC_F_WRITE = 2;
    internal const ushort VRING_DESC_F_INDIRECT = 4;

    /// <summary>In used->flags: the device asks the driver not to kick (without EVENT_IDX).</summary>
    internal const ushort VRING_USED_F_NO_NOTIFY = 1;

    /// <summary>In avail->flags: the driver asks the device not to interrupt (without EVENT_IDX).</summary>
    internal const ushort VRING_AVAIL_F_NO_INTERRUPT = 1;

    /// <summary>vhost_vring_addr.flags bit: log used-ring writes for migration.</summary>
    internal const uint VHOST_VRING_F_LOG = 1;

    internal const int DescSize = 16;
    internal const int DescAlign = 16;
    internal const int AvailAlign = 2;
    internal const int UsedAlign = 4;

    internal const int AvailFlagsOffset = 0;
    internal const int AvailIdxOffset = 2;
    internal const int AvailRingOffset = 4;
    internal const int UsedFlagsOffset = 0;
    internal const int UsedIdxOffset = 2;
    internal const int UsedRingOffset = 4;
    internal const int UsedElemSize = 8;

    internal static ulong DescTableBytes(uint size) => (ulong)DescSize * size;

    internal static ulong AvailRingBytes(uint size) => 6 + 2 * (ulong)size;

    internal static ulong UsedRingBytes(uint size) => 6 + (ulong)UsedElemSize * size;

    /// <summary>Offset of used_event (driver-written, at the end of the avail ring).</summary>
    internal static int UsedEventOffset(ushort size) => AvailRingOffset + 2 * size;

    /// <summary>Offset of avail_event (device-written, at the end of the used ring).</summary>
    internal static int AvailEventOffset(ushort size) => UsedRingOffset + UsedElemSize * size;

    /// <summary>
    /// vring_need_event from virtio_ring.h: notify if the driver's event index lies in (old, new], counted with 16-bit
    /// wrap-around. The driver chooses eventIdx freely; any value gives a defined answer.
    /// </summary>
    internal static bool NeedEvent(ushort eventIdx, ushort newIdx, ushort oldIdx)
        => unchecked((ushort)(newIdx - eventIdx - 1) < (ushort)(newIdx - oldIdx));
}
