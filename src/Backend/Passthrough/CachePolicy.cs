namespace VirtioFs.Backend.Passthrough;

/// <summary>How long the guest may cache names, attributes and data (virtiofsd's --cache).</summary>
public enum CachePolicy
{
    /// <summary>No caching: entry/attr timeouts 0 s, files opened with FOPEN_DIRECT_IO, no READDIRPLUS.</summary>
    Never,

    /// <summary>Metadata only: timeouts 86400 s, files FOPEN_DIRECT_IO, directories FOPEN_CACHE_DIR.</summary>
    Metadata,

    /// <summary>The default: timeouts 1 s; the guest page cache is revalidated on open (AUTO_INVAL_DATA).</summary>
    Auto,

    /// <summary>Everything: timeouts 86400 s, files FOPEN_KEEP_CACHE, directories FOPEN_CACHE_DIR.</summary>
    Always,
}
