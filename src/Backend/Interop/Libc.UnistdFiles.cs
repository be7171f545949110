using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Interop;

// unistd.h, the file-system half: *at() calls relative to directory descriptors, sync, seek.
internal static unsafe partial class Libc
{
    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int unlinkat(int dirfd, byte* pathname, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int linkat(int olddirfd, byte* oldpath, int newdirfd, byte* newpath, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int symlinkat(byte* target, int newdirfd, byte* linkpath);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial nint readlinkat(int dirfd, byte* pathname, byte* buf, nuint bufsiz);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int fchownat(int dirfd, byte* pathname, uint owner, uint group, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int fsync(int fd);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int fdatasync(int fd);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial long lseek(int fd, long offset, int whence);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial nint pread(int fd, void* buf, nuint count, long offset);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial nint pwrite(int fd, void* buf, nuint count, long offset);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial nint copy_file_range(int fd_in, long* off_in, int fd_out, long* off_out, nuint len, uint flags);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int syncfs(int fd);

    internal const int SEEK_SET = 0, SEEK_CUR = 1, SEEK_END = 2, SEEK_DATA = 3, SEEK_HOLE = 4;
    internal const int F_OK = 0, X_OK = 1, W_OK = 2, R_OK = 4;

    /// <summary>"unchanged" for chown's owner and group.</summary>
    internal const uint NoId = uint.MaxValue;
}
