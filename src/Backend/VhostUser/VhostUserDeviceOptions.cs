namespace VirtioFs.Backend.VhostUser;

/// <summary>What the device offers the front-end.</summary>
public sealed class VhostUserDeviceOptions
{
    /// <summary>Request queues served (queue 0 is hiprio, 1..N carry requests). Default 1, like virtiofsd.</summary>
    public int RequestQueues { get; init; } = 1;

    /// <summary>Largest queue size accepted in SET_VRING_NUM. Default 32768, virtiofsd's maximum.</summary>
    public ushort MaxQueueSize { get; init; } = 32768;

    /// <summary>
    /// When set, VHOST_USER_PROTOCOL_F_CONFIG is offered and GET_CONFIG answers with this tag. Default null: QEMU
    /// 7.1 to 8.0 crash when a vhost-user-fs back-end offers CONFIG, and QEMU builds the config space itself.
    /// </summary>
    public string? ConfigTag { get; init; }

    /// <summary>Memory slots reported by GET_MAX_MEM_SLOTS. Default 509, as virtiofsd.</summary>
    public int MaxMemSlots { get; init; } = 509;

    public int QueueCount => 1 + RequestQueues;
}
