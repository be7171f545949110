using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Interop;

// fcntl.h: openat and the O_/AT_ flags used by the passthrough file system.
internal static unsafe partial class Libc
{
    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int openat(int dirfd, byte* pathname, int flags, uint mode);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int fallocate(int fd, int mode, long offset, long len);

    internal const int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_ACCMODE = 3;
    internal const int O_CREAT = 0x40, O_EXCL = 0x80, O_NOCTTY = 0x100, O_TRUNC = 0x200, O_APPEND = 0x400;
    internal const int O_DSYNC = 0x1000, O_SYNC = 0x101000, O_NOATIME = 0x40000, O_PATH = 0x200000;

    // These four differ between x86_64 (asm-generic) and aarch64 (arch/arm64/include/uapi/asm/fcntl.h).
    // Properties, not static fields: a static field would run Libc's static constructor, which currently throws
    // (MAP_FAILED in Libc.Mman.cs converts -1 to a pointer under CheckForOverflowUnderflow).
    internal static int O_DIRECTORY => IsArm64 ? 0x4000 : 0x10000;
    internal static int O_NOFOLLOW => IsArm64 ? 0x8000 : 0x20000;
    internal static int O_DIRECT => IsArm64 ? 0x10000 : 0x4000;
    internal static int O_LARGEFILE => IsArm64 ? 0x20000 : 0x8000;

    private static bool IsArm64 => RuntimeInformation.ProcessArchitecture == Architecture.Arm64;

    internal const int AT_FDCWD = -100;
    internal const int AT_SYMLINK_NOFOLLOW = 0x100, AT_REMOVEDIR = 0x200, AT_EACCESS = 0x200;
    internal const int AT_SYMLINK_FOLLOW = 0x400, AT_EMPTY_PATH = 0x1000;

    internal const int F_DUPFD_CLOEXEC = 1030;
}
