using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Interop;

// sys/mount.h: mounting a /dev/fuse channel for host-side tests.
internal static unsafe partial class Libc
{
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int mount(string source, string target, string filesystemtype, ulong mountflags, string data);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int umount2(string target, int flags);

    internal const ulong MS_RDONLY = 1, MS_NOSUID = 2, MS_NODEV = 4, MS_NOEXEC = 8;
    internal const int MNT_FORCE = 1, MNT_DETACH = 2;
}
