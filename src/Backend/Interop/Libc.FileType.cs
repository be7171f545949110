using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Interop;

// The file type of a path without following a final symlink: .NET's FileSystemInfo cannot tell a socket from a file.
internal static unsafe partial class Libc
{
    [LibraryImport(Lib, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int statx_path(int dirfd, string path, int flags, uint mask, byte* buffer);

    private const int AT_FDCWD_ = -100, AT_SYMLINK_NOFOLLOW_ = 0x100;
    private const uint STATX_TYPE_ = 1;
    internal const int S_IFMT = 0xF000, S_IFSOCK = 0xC000, S_IFLNK = 0xA000, S_IFREG = 0x8000, S_IFBLK = 0x6000,
        S_IFDIR = 0x4000, S_IFCHR = 0x2000, S_IFIFO = 0x1000;

    /// <summary>S_IFMT bits of <paramref name="path"/> (lstat semantics), or -1 with errno set.</summary>
    internal static int FileTypeOf(string path)
    {
        byte* buffer = stackalloc byte[256];   // struct statx is 256 bytes; stx_mode is the u16 at offset 28.
        if (statx_path(AT_FDCWD_, path, AT_SYMLINK_NOFOLLOW_, STATX_TYPE_, buffer) != 0) return -1;
        return *(ushort*)(buffer + 28) & S_IFMT;
    }
}
