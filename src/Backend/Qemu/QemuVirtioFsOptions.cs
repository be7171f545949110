namespace VirtioFs.Backend.Qemu;

/// <summary>Everything <see cref="QemuArgumentBuilder"/> needs: the devices and the guest's (shared) RAM.</summary>
public sealed class QemuVirtioFsOptions
{
    /// <summary>The virtio-fs devices, one per share. Their ids are fs0, fs1, ... and their chardevs char-fs0, ...</summary>
    public required IReadOnlyList<QemuVirtioFsDevice> Devices { get; init; }

    /// <summary>Guest RAM in bytes; written as <c>-m</c> and as the backend's <c>size=</c>, so they cannot differ.</summary>
    public required ulong MemorySize { get; init; }

    /// <summary>Default <see cref="QemuMemoryBackend.Memfd"/>.</summary>
    public QemuMemoryBackend MemoryBackend { get; init; } = QemuMemoryBackend.Memfd;

    /// <summary>mem-path of a File backend (required) or a HugePages backend (default /dev/hugepages); none for Memfd.</summary>
    public string? MemoryPath { get; init; }

    /// <summary>Default <see cref="QemuMemoryAttachment.Machine"/>.</summary>
    public QemuMemoryAttachment Attachment { get; init; } = QemuMemoryAttachment.Machine;

    /// <summary>The memory backend's object id. Default "mem".</summary>
    public string MemoryId { get; init; } = "mem";
}
