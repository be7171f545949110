using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Interop;

// dirent.h: getdents64 (glibc >= 2.30) reads raw directory records, so directory offsets stay the file system's own.
internal static unsafe partial class Libc
{
    /// <summary>struct linux_dirent64 without its trailing name.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct linux_dirent64
    {
        public ulong d_ino;
        public long d_off;
        public ushort d_reclen;
        public byte d_type;
    }

    /// <summary>Offset of d_name inside a linux_dirent64 record.</summary>
    internal const int DIRENT64_NAME_OFFSET = 19;

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial nint getdents64(int fd, void* dirp, nuint count);

    internal const byte DT_UNKNOWN = 0, DT_FIFO = 1, DT_CHR = 2, DT_DIR = 4, DT_BLK = 6, DT_REG = 8, DT_LNK = 10, DT_SOCK = 12;
}
