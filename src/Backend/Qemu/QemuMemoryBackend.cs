namespace VirtioFs.Backend.Qemu;

/// <summary>
/// Where the guest's RAM lives. vhost-user maps guest memory in the daemon through file descriptors, so RAM must be
/// fd-backed and shared (<c>share=on</c>); anonymous RAM, QEMU's default, cannot be served.
/// </summary>
public enum QemuMemoryBackend
{
    /// <summary><c>memory-backend-memfd</c>: anonymous shared memory, no file system needed. The default.</summary>
    Memfd,

    /// <summary><c>memory-backend-file</c> with a <c>mem-path</c> (for example a directory on /dev/shm).</summary>
    File,

    /// <summary><c>memory-backend-file</c> on hugetlbfs (default mem-path /dev/hugepages); size in whole 2 MiB pages.</summary>
    HugePages,
}
