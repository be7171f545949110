using System.Text;

namespace VirtioFs.Backend.Interop;

// The file type of a path without following a final symlink: .NET's FileSystemInfo cannot tell a socket from a file.
internal static unsafe partial class Libc
{
    /// <summary>S_IFMT bits of <paramref name="path"/> (lstat semantics), or -1 with errno set.</summary>
    internal static int FileTypeOf(string path)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(path + "\0");
        statx_t buffer;
        fixed (byte* p = bytes)
        {
            if (statx(AT_FDCWD, p, AT_SYMLINK_NOFOLLOW, STATX_TYPE, &buffer) != 0) return -1;
        }
        return (int)(buffer.stx_mode & S_IFMT);
    }
}
