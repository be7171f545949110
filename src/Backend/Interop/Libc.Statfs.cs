using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Interop;

// sys/vfs.h: fstatfs works on O_PATH descriptors (Linux >= 3.12) and, unlike glibc's fstatvfs, never reads
// /proc/mounts to fill in mount flags.
internal static unsafe partial class Libc
{
    /// <summary>struct statfs for LP64 (x86_64 and aarch64 agree), 120 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct statfs_t
    {
        public long f_type;
        public long f_bsize;
        public ulong f_blocks;
        public ulong f_bfree;
        public ulong f_bavail;
        public ulong f_files;
        public ulong f_ffree;
        public ulong f_fsid;
        public long f_namelen;
        public long f_frsize;
        public long f_flags;
        public fixed long f_spare[4];
    }

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int fstatfs(int fd, statfs_t* buf);
}
