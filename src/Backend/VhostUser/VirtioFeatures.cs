namespace VirtioFs.Backend.VhostUser;

/// <summary>Virtio and vhost feature bits that a virtio-fs back-end negotiates (virtio 1.2 section 6, vhost-user.rst).</summary>
public static class VirtioFeatures
{
    /// <summary>VHOST_F_LOG_ALL: dirty-page logging for migration. Not offered: we don't support migration yet.</summary>
    public const ulong LogAll = 1UL << 26;
    /// <summary>VIRTIO_RING_F_INDIRECT_DESC.</summary>
    public const ulong RingIndirectDesc = 1UL << 28;
    /// <summary>VIRTIO_RING_F_EVENT_IDX.</summary>
    public const ulong RingEventIdx = 1UL << 29;
    /// <summary>VHOST_USER_F_PROTOCOL_FEATURES.</summary>
    public const ulong ProtocolFeatures = 1UL << 30;
    /// <summary>VIRTIO_F_VERSION_1: virtio-fs is modern-only.</summary>
    public const ulong Version1 = 1UL << 32;

    /// <summary>What we offer: virtiofsd's set without LOG_ALL (ANCHORS.md 1.2). No packed ring.</summary>
    public const ulong Offered = Version1 | RingIndirectDesc | RingEventIdx | ProtocolFeatures;
}
