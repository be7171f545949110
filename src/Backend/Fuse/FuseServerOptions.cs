namespace VirtioFs.Backend.Fuse;

/// <summary>What INIT negotiates. The defaults are virtiofsd's.</summary>
public sealed class FuseServerOptions
{
    /// <summary>Largest WRITE (and READ) payload, in bytes. Default 1 MiB; at most 1 MiB (the worker's buffers are sized for it).</summary>
    public uint MaxWrite { get; init; } = 1 << 20;

    /// <summary>Largest request in pages. Default 256 (1 MiB of 4 KiB pages).</summary>
    public ushort MaxPages { get; init; } = 256;

    /// <summary>Background requests the guest may queue. Default 65535.</summary>
    public ushort MaxBackground { get; init; } = ushort.MaxValue;

    /// <summary>Background requests before the guest calls the queue congested. Default 49149 (3/4 of 65535).</summary>
    public ushort CongestionThreshold { get; init; } = 49149;

    /// <summary>Timestamp granularity in nanoseconds. Default 1.</summary>
    public uint TimeGran { get; init; } = 1;

    internal void Validate()
    {
        if (MaxWrite < 4096 || MaxWrite > 1 << 20)
            throw new ArgumentOutOfRangeException(nameof(MaxWrite), MaxWrite, "MaxWrite must be between 4096 and 1048576 bytes.");
        if (MaxPages == 0) throw new ArgumentOutOfRangeException(nameof(MaxPages), MaxPages, "MaxPages must be at least 1.");
        if (TimeGran == 0 || TimeGran > 1_000_000_000)
            throw new ArgumentOutOfRangeException(nameof(TimeGran), TimeGran, "TimeGran must be between 1 and 1e9 ns.");
    }
}
