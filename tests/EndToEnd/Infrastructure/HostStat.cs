using System.Runtime.InteropServices;

namespace VirtioFs.EndToEnd.Infrastructure;

/// <summary>
/// lstat(2) on the host, for what System.IO does not expose: link count and inode number. The struct is glibc's
/// x86_64 <c>struct stat</c> (the only architecture these tests run QEMU on); glibc 2.33+ exports lstat directly.
/// </summary>
internal static partial class HostStat
{
    public readonly record struct Result(ulong Device, ulong Inode, ulong LinkCount, uint Mode, long Size);

    public static Result Lstat(string path)
    {
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            throw new PlatformNotSupportedException("HostStat knows only the x86_64 struct stat layout.");
        }

        if (lstat(path, out var st) != 0)
        {
            throw new IOException($"lstat({path}) failed: errno {Marshal.GetLastPInvokeError()}");
        }

        return new Result(st.st_dev, st.st_ino, st.st_nlink, st.st_mode, st.st_size);
    }

    [LibraryImport("libc.so.6", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int lstat(string path, out StatX64 buf);

    // glibc sysdeps/unix/sysv/linux/x86_64 struct stat, 144 bytes.
    [StructLayout(LayoutKind.Sequential)]
    private struct StatX64
    {
        public ulong st_dev;
        public ulong st_ino;
        public ulong st_nlink;
        public uint st_mode;
        public uint st_uid;
        public uint st_gid;
        public int pad0;
        public ulong st_rdev;
        public long st_size;
        public long st_blksize;
        public long st_blocks;
        public long st_atime, st_atime_nsec;
        public long st_mtime, st_mtime_nsec;
        public long st_ctime, st_ctime_nsec;
        public long reserved0, reserved1, reserved2;
    }
}
