namespace VirtioFs.Backend.Qemu;

/// <summary>What is wrong with a requested QEMU or libvirt configuration; the cmdlets use the name as the ErrorId.</summary>
public enum QemuConfigurationProblem
{
    /// <summary>No device was given.</summary>
    NoDevice,
    /// <summary>The tag is empty, longer than 36 UTF-8 bytes, or contains a newline or NUL.</summary>
    InvalidTag,
    /// <summary>Two devices have the same tag: the guest refuses the second one (EEXIST).</summary>
    DuplicateTag,
    /// <summary>The socket path is empty, relative, or longer than a UNIX socket address holds.</summary>
    InvalidSocketPath,
    /// <summary>The queue size is not a power of two between 1 and 1024.</summary>
    InvalidQueueSize,
    /// <summary>The queue size is larger than the share accepts.</summary>
    QueueSizeNotServed,
    /// <summary>The number of request queues is below 1.</summary>
    InvalidRequestQueues,
    /// <summary>1 + num-request-queues is more than the share serves: QEMU would refuse to start.</summary>
    RequestQueuesNotServed,
    /// <summary>The memory size does not parse, is zero, is not whole MiB, or does not fit the backend's page size.</summary>
    InvalidMemorySize,
    /// <summary>The file backend needs a path; the memfd backend takes none.</summary>
    InvalidMemoryPath,
    /// <summary>An object or device id QEMU would reject.</summary>
    InvalidId,
}
