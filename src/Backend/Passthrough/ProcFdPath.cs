namespace VirtioFs.Backend.Passthrough;

/// <summary>
/// Names an O_PATH descriptor through procfs, for the calls that cannot take one directly (reopening for I/O,
/// chmod, utimes, link, xattr). Relative form "N" is used with a descriptor of /proc/self/fd; the absolute form
/// "/proc/self/fd/N" with the path-only xattr calls. Written into caller-provided stack memory.
/// </summary>
internal static class ProcFdPath
{
    /// <summary>Bytes needed for either form, with the terminator.</summary>
    public const int BufferSize = 32;

    private static ReadOnlySpan<byte> Prefix => "/proc/self/fd/"u8;

    /// <summary>Writes "N\0"; returns the length without the terminator.</summary>
    public static int FormatRelative(int fd, Span<byte> buffer)
    {
        if (!fd.TryFormat(buffer, out int written, default, System.Globalization.CultureInfo.InvariantCulture))
            throw new ArgumentException("Buffer too small.", nameof(buffer));
        buffer[written] = 0;
        return written;
    }

    /// <summary>Writes "/proc/self/fd/N\0"; returns the length without the terminator.</summary>
    public static int FormatAbsolute(int fd, Span<byte> buffer)
    {
        Prefix.CopyTo(buffer);
        return Prefix.Length + FormatRelative(fd, buffer[Prefix.Length..]);
    }
}
