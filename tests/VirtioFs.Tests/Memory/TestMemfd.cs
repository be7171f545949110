using VirtioFs.Backend.Interop;
using VirtioFs.Backend.Memory;

namespace VirtioFs.Tests.Memory;

/// <summary>memfd-backed "guest RAM" for tests, the same kind of fd QEMU sends with memory-backend-memfd.</summary>
internal static unsafe class TestMemfd
{
    public static SafeFd Create(ulong size, string name = "virtiofs-test")
    {
        SafeFd fd = SafeFd.Check(Libc.memfd_create(name, Libc.MFD_CLOEXEC), "memfd_create", name);
        if (Libc.ftruncate(fd.Value, checked((long)size)) != 0)
        {
            var error = new ErrnoException("ftruncate", Libc.LastErrno, name);
            fd.Dispose();
            throw error;
        }
        return fd;
    }

    /// <summary>Maps a fresh memfd just large enough for <paramref name="info"/>; the fd is closed again right away.</summary>
    public static MemoryRegion MapNew(MemoryRegionInfo info, string name = "virtiofs-test")
    {
        using SafeFd fd = Create(info.MmapOffset + info.Size, name);
        return MemoryRegion.Map(info, fd);
    }

    /// <summary>Lines of /proc/self/maps that mention <paramref name="text"/> (e.g. a unique memfd name).</summary>
    public static int CountMapsLinesContaining(string text)
        => File.ReadAllLines("/proc/self/maps").Count(line => line.Contains(text, StringComparison.Ordinal));

    /// <summary>True if some mapping in /proc/self/maps covers <paramref name="address"/>.</summary>
    public static bool IsAddressMapped(void* address)
    {
        ulong a = (ulong)address;
        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            int dash = line.IndexOf('-');
            int space = line.IndexOf(' ');
            ulong start = Convert.ToUInt64(line[..dash], 16);
            ulong end = Convert.ToUInt64(line[(dash + 1)..space], 16);
            if (a >= start && a < end) return true;
        }
        return false;
    }
}
