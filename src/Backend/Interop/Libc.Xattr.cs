using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Interop;

// sys/xattr.h: descriptor-based extended attributes (used on reopened regular files and directories).
internal static unsafe partial class Libc
{
    [LibraryImport(Lib, SetLastError = true)]
    internal static partial nint fgetxattr(int fd, byte* name, void* value, nuint size);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int fsetxattr(int fd, byte* name, void* value, nuint size, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial nint flistxattr(int fd, byte* list, nuint size);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int fremovexattr(int fd, byte* name);
}
