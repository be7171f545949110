namespace VirtioFs.Backend.Qemu;

/// <summary>One <c>vhost-user-fs-pci</c> device: the socket QEMU connects to, the guest's mount tag, and its queues.</summary>
public sealed record QemuVirtioFsDevice
{
    /// <summary>QEMU's own limit on a virtqueue (VIRTQUEUE_MAX_SIZE).</summary>
    public const int MaxQueueSize = 1024;

    /// <summary>The share's vhost-user socket (QEMU is the client).</summary>
    public required string SocketPath { get; init; }

    /// <summary>The tag the guest mounts: <c>mount -t virtiofs TAG /mnt</c>.</summary>
    public required string Tag { get; init; }

    /// <summary>
    /// Descriptors per queue, a power of two up to 1024. Default 1024: the guest caps one request at queue-size minus
    /// 4 pages, so QEMU's own default of 128 limits reads and writes to about 496 KiB each.
    /// </summary>
    public int QueueSize { get; init; } = MaxQueueSize;

    /// <summary>Request queues (QEMU's num-request-queues). Default 1.</summary>
    public int RequestQueues { get; init; } = 1;

    /// <summary>
    /// Request queues the share serves (its GET_QUEUE_NUM answer minus the hiprio queue), when known: QEMU refuses to
    /// start when 1 + num-request-queues exceeds GET_QUEUE_NUM, so we refuse earlier, with a better message.
    /// </summary>
    public int? ServedRequestQueues { get; init; }

    /// <summary>The largest queue size the share accepts, when known.</summary>
    public int? ServedMaxQueueSize { get; init; }
}
