using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Interop;

// sys/mman.h and memfd: guest memory regions are mmap()ed from the frontend's fds.
internal static unsafe partial class Libc
{
    [LibraryImport(Lib, SetLastError = true)]
    internal static partial void* mmap(void* addr, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int munmap(void* addr, nuint length);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int memfd_create(string name, uint flags);

    internal static readonly void* MAP_FAILED = unchecked((void*)-1);
    internal const int PROT_NONE = 0, PROT_READ = 1, PROT_WRITE = 2;
    internal const int MAP_SHARED = 0x01, MAP_PRIVATE = 0x02, MAP_NORESERVE = 0x4000, MAP_POPULATE = 0x8000;
    internal const uint MFD_CLOEXEC = 1, MFD_ALLOW_SEALING = 2;
}
