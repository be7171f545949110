namespace VirtioFs.Backend.Qemu;

/// <summary>How the shared memory backend becomes the guest's RAM.</summary>
public enum QemuMemoryAttachment
{
    /// <summary><c>-machine memory-backend=ID</c> (QEMU 5.0 and later): no NUMA topology needed. The default.</summary>
    Machine,

    /// <summary><c>-numa node,memdev=ID</c>: one NUMA node backed by the shared memory.</summary>
    Numa,
}
