namespace VirtioFs.Backend.Passthrough;

/// <summary>Options of <see cref="PassthroughFileSystem"/>. Every option states its default.</summary>
public sealed class PassthroughOptions
{
    /// <summary>The host directory the guest sees as its root. Required; no default.</summary>
    public required string SharedDirectory { get; init; }

    /// <summary>Guest caching policy. Default <see cref="CachePolicy.Auto"/> (1 s timeouts).</summary>
    public CachePolicy Cache { get; init; } = CachePolicy.Auto;

    /// <summary>Refuse every modification with EROFS (the host directory itself stays writable). Default false.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>Offer READDIRPLUS (with READDIRPLUS_AUTO). Default true; never with <see cref="CachePolicy.Never"/>.</summary>
    public bool ReaddirPlus { get; init; } = true;

    /// <summary>Negotiate FUSE_WRITEBACK_CACHE (write-only opens become read-write, O_APPEND is dropped). Default false.</summary>
    public bool Writeback { get; init; }

    /// <summary>Serve the extended-attribute operations. Default false: they answer ENOSYS, so the guest stops asking.</summary>
    public bool Xattr { get; init; }

    /// <summary>Honour the guest's O_DIRECT. Default false: it is stripped.</summary>
    public bool AllowDirectIo { get; init; }

    /// <summary>Most file and directory handles the guest may hold open; past it OPEN answers ENFILE. Default 65536.</summary>
    public int MaxOpenHandles { get; init; } = 65536;

    internal void Validate()
    {
        if (string.IsNullOrEmpty(SharedDirectory)) throw new ArgumentException("SharedDirectory is required.", nameof(SharedDirectory));
        if (!Enum.IsDefined(Cache)) throw new ArgumentOutOfRangeException(nameof(Cache), Cache, "Unknown cache policy.");
        if (MaxOpenHandles < 1) throw new ArgumentOutOfRangeException(nameof(MaxOpenHandles), MaxOpenHandles, "MaxOpenHandles must be at least 1.");
    }
}
