using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Interop;

// sys/eventfd.h: kick and call notifications.
internal static unsafe partial class Libc
{
    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int eventfd(uint initval, int flags);

    internal const int EFD_CLOEXEC = 0x80000, EFD_NONBLOCK = 0x800, EFD_SEMAPHORE = 1;

    /// <summary>Adds 1 to an eventfd. Returns false with errno set on failure.</summary>
    internal static bool EventfdSignal(int fd)
    {
        ulong one = 1;
        return write(fd, &one, 8) == 8;
    }

    /// <summary>Reads (and so resets) an eventfd counter; returns -1 on failure (EAGAIN when non-blocking and zero).</summary>
    internal static long EventfdRead(int fd)
    {
        ulong value;
        return read(fd, &value, 8) == 8 ? (long)value : -1;
    }
}
