using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Interop;

// unistd.h, fcntl.h basics shared by every layer.
internal static unsafe partial class Libc
{
    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int close(int fd);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial nint read(int fd, void* buf, nuint count);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial nint write(int fd, void* buf, nuint count);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int dup(int fd);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int ftruncate(int fd, long length);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int fcntl(int fd, int cmd, int arg);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int getpid();

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int gettid();

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial uint geteuid();

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial uint getegid();

    internal const int F_GETFD = 1, F_SETFD = 2, F_GETFL = 3, F_SETFL = 4;
    internal const int FD_CLOEXEC = 1;
    internal const int O_CLOEXEC = 0x80000;
    internal const int O_NONBLOCK = 0x800;
}
