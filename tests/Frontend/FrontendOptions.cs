namespace VirtioFs.Frontend;

/// <summary>How the test frontend sets up a device; the defaults match `-device vhost-user-fs-pci,queue-size=1024`.</summary>
public sealed class FrontendOptions
{
    /// <summary>Size of the memfd guest RAM.</summary>
    public ulong MemorySize { get; set; } = 64UL << 20;

    /// <summary>Memory table entries the memfd is split into (1..8), each at its own guest-physical address.</summary>
    public int MemoryRegions { get; set; } = 1;

    /// <summary>Guest-physical address of the first region (QEMU puts RAM at 0).</summary>
    public ulong GuestPhysicalBase { get; set; }

    /// <summary>Hole between regions in guest-physical space, so a buffer running off a region hits unmapped space.</summary>
    public ulong RegionGap { get; set; } = 0x4000_0000;

    /// <summary>num-request-queues: rings 1..RequestQueues carry FUSE requests, ring 0 is hiprio.</summary>
    public int RequestQueues { get; set; } = 1;

    /// <summary>queue-size, the same for every ring (QEMU uses one size for hiprio and request queues).</summary>
    public ushort QueueSize { get; set; } = 1024;

    /// <summary>Negotiate VIRTIO_RING_F_EVENT_IDX when offered.</summary>
    public bool EventIdx { get; set; } = true;

    /// <summary>Negotiate VIRTIO_RING_F_INDIRECT_DESC when offered.</summary>
    public bool IndirectDesc { get; set; } = true;

    /// <summary>Negotiate VHOST_USER_PROTOCOL_F_REPLY_ACK when offered and ask for acks where QEMU does.</summary>
    public bool ReplyAck { get; set; } = true;

    /// <summary>Negotiate VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS when offered.</summary>
    public bool ConfigureMemSlots { get; set; } = true;

    /// <summary>
    /// With CONFIGURE_MEM_SLOTS negotiated, QEMU 7.2 sends the memory table as one ADD_MEM_REG per region (hw/virtio/
    /// vhost-user.c, vhost_user_set_mem_table → vhost_user_add_remove_regions). True does the same; false always sends
    /// SET_MEM_TABLE.
    /// </summary>
    public bool AddMemRegWhenConfigurable { get; set; } = true;

    /// <summary>QEMU ≥ 8.1 waits for an ack of SET_VRING_ENABLE; 7.2 does not. Off by default (7.2).</summary>
    public bool AckVringEnable { get; set; }

    /// <summary>Deadline for every handshake reply.</summary>
    public TimeSpan ReplyTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
