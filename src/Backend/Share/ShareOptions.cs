using System.Text;
using VirtioFs.Backend.Passthrough;

namespace VirtioFs.Backend.Share;

/// <summary>
/// Everything that defines one share. Names follow virtiofsd's options; each documents its default.
/// </summary>
public sealed class ShareOptions
{
    /// <summary>Longest tag the virtio-fs config space holds, in UTF-8 bytes (virtio_fs.h).</summary>
    public const int MaxTagBytes = 36;

    /// <summary>The host directory to share (virtiofsd --shared-dir / -o source=). Required.</summary>
    public required string SharedDirectory { get; init; }

    /// <summary>The UNIX socket to create and listen on (--socket-path). Exactly one of this and <see cref="ListenFd"/>.</summary>
    public string? SocketPath { get; init; }

    /// <summary>An inherited, already listening socket (--fd), as libvirt passes it.</summary>
    public int? ListenFd { get; init; }

    /// <summary>A name for logs, thread names and cmdlets. Default: the tag, else the directory's name.</summary>
    public string? Name { get; init; }

    /// <summary>
    /// The mount tag. QEMU's vhost-user-fs-pci sets the tag itself (its tag= property); when this is set AND
    /// <see cref="AdvertiseConfig"/> is true, the device also answers GET_CONFIG with it. Default: none.
    /// </summary>
    public string? Tag { get; init; }

    /// <summary>Offer VHOST_USER_PROTOCOL_F_CONFIG with the tag (virtiofsd --tag). Default false: QEMU 7.1-8.0 crash on it.</summary>
    public bool AdvertiseConfig { get; init; }

    /// <summary>Request queues served, each by its own thread. Default 1 (virtiofsd serves exactly 1).</summary>
    public int RequestQueues { get; init; } = 1;

    /// <summary>Largest queue size accepted. Default 32768, as virtiofsd.</summary>
    public ushort MaxQueueSize { get; init; } = 32768;

    /// <summary>Cache policy (--cache). Default auto.</summary>
    public CachePolicy Cache { get; init; } = CachePolicy.Auto;

    /// <summary>Refuse every change with EROFS (--readonly). Default false.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>Serve extended attributes (--xattr). Default false: the xattr operations answer ENOSYS.</summary>
    public bool Xattr { get; init; }

    /// <summary>Offer READDIRPLUS (--no-readdirplus turns it off). Default true.</summary>
    public bool ReaddirPlus { get; init; } = true;

    /// <summary>Negotiate the writeback cache (--writeback). Default false.</summary>
    public bool Writeback { get; init; }

    /// <summary>Worker threads per request queue (--thread-pool-size). Default 0: requests are served on the queue's thread.</summary>
    public int ThreadPoolSize { get; init; }

    /// <summary>After a front-end disconnects, wait for the next one (default) rather than stop the share.</summary>
    public bool Relisten { get; init; } = true;

    /// <summary>
    /// Entry/attribute timeout in seconds (the C virtiofsd's -o timeout=). Default null: from <see cref="Cache"/>
    /// (never 0, metadata 86400, auto 1, always 86400).
    /// </summary>
    public double? Timeout { get; init; }

    /// <summary>Remote POSIX record locks (-o posix_lock). Default false, as the C virtiofsd (-o no_posix_lock).</summary>
    public bool PosixLocks { get; init; }

    /// <summary>Remote BSD flock (-o flock). Default false, as the C virtiofsd (-o no_flock).</summary>
    public bool Flock { get; init; }

    /// <summary>Flag host mounts inside the share as guest submounts (--announce-submounts). Default true, as the Rust virtiofsd.</summary>
    public bool AnnounceSubmounts { get; init; } = true;

    /// <summary>FUSE_HANDLE_KILLPRIV_V2 (--killpriv-v2). Default false, as virtiofsd.</summary>
    public bool KillprivV2 { get; init; }

    /// <summary>Honour the guest's O_DIRECT (--allow-direct-io). Default false: it is stripped.</summary>
    public bool AllowDirectIo { get; init; }

    /// <summary>xattr name mapping rules in virtiofsd's syntax (--xattrmap). Default null: names unchanged.</summary>
    public string? XattrMap { get; init; }

    /// <summary>
    /// RLIMIT_NOFILE to raise the process to at start (--rlimit-nofile), never lowered. Default null:
    /// min(1,000,000, fs.nr_open), as virtiofsd; 0 leaves it alone.
    /// </summary>
    public ulong? RlimitNofile { get; init; }

    /// <summary>
    /// Hold inodes by file handles rather than O_PATH descriptors (--inode-file-handles). Default prefer, as virtiofsd:
    /// file handles where the daemon has CAP_DAC_READ_SEARCH and the file system makes them.
    /// </summary>
    public InodeFileHandles InodeFileHandles { get; init; } = InodeFileHandles.Prefer;

    public string DisplayName => Name ?? Tag ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(SharedDirectory));

    /// <summary>Checks the options and says what to change; the share calls this before it touches anything.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(SharedDirectory))
            throw new ArgumentException("No shared directory was given. Pass the host directory to share.", nameof(SharedDirectory));
        if (!Directory.Exists(SharedDirectory))
            throw new DirectoryNotFoundException($"The shared directory '{SharedDirectory}' does not exist. Create it or pass an existing directory.");
        if ((SocketPath is null) == (ListenFd is null))
            throw new ArgumentException("Give exactly one of a socket path (--socket-path) and a listening fd (--fd).");
        if (Tag is not null) ValidateTag(Tag);
        if (AdvertiseConfig && Tag is null)
            throw new ArgumentException("Advertising the config space needs a tag.", nameof(Tag));
        if (RequestQueues is < 1 or > 255)
            throw new ArgumentOutOfRangeException(nameof(RequestQueues), RequestQueues, "Request queues must be between 1 and 255 (ring indices are 8 bits in vhost-user).");
        if (MaxQueueSize == 0 || (MaxQueueSize & (MaxQueueSize - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(MaxQueueSize), MaxQueueSize, "The maximum queue size must be a power of two.");
        if (ThreadPoolSize is < 0 or > 1024)
            throw new ArgumentOutOfRangeException(nameof(ThreadPoolSize), ThreadPoolSize, "The thread pool size must be between 0 and 1024.");
    }

    /// <summary>A tag is 1 to 36 UTF-8 bytes without NUL or newline (the guest rejects those; virtio_fs.c).</summary>
    public static void ValidateTag(string tag)
    {
        int bytes = Encoding.UTF8.GetByteCount(tag);
        if (bytes == 0 || bytes > MaxTagBytes)
            throw new ArgumentException($"The tag '{tag}' is {bytes} UTF-8 bytes long; a virtio-fs tag must be 1 to {MaxTagBytes} bytes.", nameof(tag));
        if (tag.Contains('\n') || tag.Contains('\0'))
            throw new ArgumentException("A virtio-fs tag must not contain a newline or NUL; the guest kernel rejects it.", nameof(tag));
    }
}
