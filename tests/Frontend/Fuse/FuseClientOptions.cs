namespace VirtioFs.Frontend.Fuse;

/// <summary>How <see cref="FuseClient"/> frames requests.</summary>
public sealed class FuseClientOptions
{
    /// <summary>Descriptor layout of each request.</summary>
    public RequestShape Shape { get; set; } = RequestShape.Linux;

    /// <summary>Put multi-descriptor chains in an indirect table. Null = like Linux: whenever INDIRECT_DESC was negotiated.</summary>
    public bool? Indirect { get; set; }

    /// <summary>Largest write payload / read or readdir reply per request (guest buffers are sized from it).</summary>
    public int MaxPayload { get; set; } = 1 << 20;

    /// <summary>Requests that may be in flight at once through the Submit*/TryReap API (one guest buffer pair each).</summary>
    public int MaxInFlight { get; set; } = 16;

    public uint Uid { get; set; }
    public uint Gid { get; set; }
    public uint Pid { get; set; } = 1;

    /// <summary>How long a synchronous call waits for its reply before failing the test.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}
