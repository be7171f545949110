namespace VirtioFs.Frontend.Fuse;

/// <summary>How a FUSE request is laid out in descriptors.</summary>
public enum RequestShape
{
    /// <summary>Like the Linux driver: in_header, each argument and each data page in its own descriptor; out_header,
    /// each reply argument and each data page likewise.</summary>
    Linux,
    /// <summary>One readable descriptor (header + args + data) and one writable descriptor.</summary>
    Compact,
}
