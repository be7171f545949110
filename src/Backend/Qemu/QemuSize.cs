namespace VirtioFs.Backend.Qemu;

/// <summary>
/// Memory sizes as QEMU spells them. The trap this avoids: a bare number means MiB to <c>-m</c> but bytes to a
/// memory backend's <c>size=</c>. We always write a binary suffix (K, M, G, T = powers of 1024), which both read alike.
/// </summary>
public static class QemuSize
{
    public const ulong MiB = 1UL << 20;

    /// <summary>The largest whole unit: 4294967296 -> "4G", 1610612736 -> "1536M", 1536 -> "1536" (bytes, not a suffix-able size).</summary>
    public static string Format(ulong bytes)
    {
        if (bytes == 0) return "0";
        foreach ((char suffix, int shift) in new[] { ('T', 40), ('G', 30), ('M', 20), ('K', 10) })
        {
            ulong unit = 1UL << shift;
            if (bytes % unit == 0) return $"{bytes / unit}{suffix}";
        }
        return bytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
