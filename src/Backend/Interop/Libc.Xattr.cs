using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Interop;

// sys/xattr.h: path-based calls, used on "/proc/self/fd/N" so that every inode type (even FIFOs and devices, which
// must never be opened) can be reached without opening it.
internal static unsafe partial class Libc
{
    [LibraryImport(Lib, SetLastError = true)]
    internal static partial nint getxattr(byte* path, byte* name, void* value, nuint size);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int setxattr(byte* path, byte* name, void* value, nuint size, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial nint listxattr(byte* path, byte* list, nuint size);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int removexattr(byte* path, byte* name);
}
