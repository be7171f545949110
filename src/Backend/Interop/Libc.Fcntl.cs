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
    internal const int AT_SYMLINK_FOLLOW = 0x400, AT_NO_AUTOMOUNT = 0x800, AT_EMPTY_PATH = 0x1000;

    internal const int F_DUPFD_CLOEXEC = 1030;

    /// <summary>struct flock (LP64: 32 bytes). l_pid must be 0 for the open-file-description commands.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct flock_t
    {
        public short l_type;
        public short l_whence;
        public long l_start;
        public long l_len;
        public int l_pid;
    }

    /// <summary>fcntl with a struct flock argument (F_OFD_GETLK / F_OFD_SETLK).</summary>
    [LibraryImport(Lib, EntryPoint = "fcntl", SetLastError = true)]
    internal static partial int fcntl(int fd, int cmd, flock_t* flock);

    /// <summary>Open-file-description locks: owned by the open file, not the process (so threads don't matter).</summary>
    internal const int F_OFD_GETLK = 36, F_OFD_SETLK = 37, F_OFD_SETLKW = 38;
    internal const short F_RDLCK = 0, F_WRLCK = 1, F_UNLCK = 2;

    /// <summary>__O_TMPFILE | O_DIRECTORY, as glibc's O_TMPFILE.</summary>
    internal static int O_TMPFILE => 0x400000 | O_DIRECTORY;

    [StructLayout(LayoutKind.Sequential)]
    internal struct file_handle_header
    {
        public uint handle_bytes;
        public int handle_type;
    }

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int name_to_handle_at(int dirfd, byte* pathname, file_handle_header* handle, int* mount_id, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int open_by_handle_at(int mount_fd, file_handle_header* handle, int flags);

    /// <summary>MAX_HANDLE_SZ: the largest file handle any file system produces.</summary>
    internal const int MAX_HANDLE_SZ = 128;
}
