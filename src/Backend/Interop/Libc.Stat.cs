using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Interop;

// sys/stat.h: statx (one layout on every architecture, unlike struct stat), the *at creators, chmod and times.
internal static unsafe partial class Libc
{
    [StructLayout(LayoutKind.Sequential)]
    internal struct statx_timestamp
    {
        public long tv_sec;
        public uint tv_nsec;
        public int __reserved;
    }

    /// <summary>struct statx, 256 bytes (linux/stat.h).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct statx_t
    {
        public uint stx_mask;
        public uint stx_blksize;
        public ulong stx_attributes;
        public uint stx_nlink;
        public uint stx_uid;
        public uint stx_gid;
        public ushort stx_mode;
        public ushort __spare0;
        public ulong stx_ino;
        public ulong stx_size;
        public ulong stx_blocks;
        public ulong stx_attributes_mask;
        public statx_timestamp stx_atime;
        public statx_timestamp stx_btime;
        public statx_timestamp stx_ctime;
        public statx_timestamp stx_mtime;
        public uint stx_rdev_major;
        public uint stx_rdev_minor;
        public uint stx_dev_major;
        public uint stx_dev_minor;
        public ulong stx_mnt_id;
        public fixed ulong __spare2[13];
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct timespec
    {
        public long tv_sec;
        public long tv_nsec;
    }

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int statx(int dirfd, byte* pathname, int flags, uint mask, statx_t* statxbuf);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int mkdirat(int dirfd, byte* pathname, uint mode);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int mknodat(int dirfd, byte* pathname, uint mode, ulong dev);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int fchmod(int fd, uint mode);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int fchmodat(int dirfd, byte* pathname, uint mode, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int utimensat(int dirfd, byte* pathname, timespec* times, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int futimens(int fd, timespec* times);

    internal const uint STATX_TYPE = 0x1, STATX_MODE = 0x2, STATX_BASIC_STATS = 0x7ff, STATX_MNT_ID = 0x1000;

    internal const uint S_IFMT = 0xF000, S_IFSOCK = 0xC000, S_IFLNK = 0xA000, S_IFREG = 0x8000, S_IFBLK = 0x6000;
    internal const uint S_IFDIR = 0x4000, S_IFCHR = 0x2000, S_IFIFO = 0x1000;
    internal const uint S_ISUID = 0x800, S_ISGID = 0x400, S_ISVTX = 0x200;

    internal const long UTIME_NOW = (1L << 30) - 1, UTIME_OMIT = (1L << 30) - 2;

    /// <summary>glibc's makedev(): the dev_t encoding mknod expects and stat reports.</summary>
    internal static ulong makedev(uint major, uint minor)
        => (minor & 0xffUL) | ((major & 0xfffUL) << 8) | ((minor & ~0xffUL) << 12) | ((major & ~0xfffUL) << 32);
}
