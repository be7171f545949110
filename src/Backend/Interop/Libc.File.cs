using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Interop;

// sys/file.h: BSD flock, per open file description.
internal static unsafe partial class Libc
{
    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int flock(int fd, int operation);

    internal const int LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;
}
