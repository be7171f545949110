using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Interop;

// sys/uio.h: vectored positional I/O, so file data moves straight between the file and guest buffers.
// struct iovec itself is declared in Libc.Socket.cs.
internal static unsafe partial class Libc
{
    [LibraryImport(Lib, SetLastError = true)]
    internal static partial nint preadv(int fd, iovec* iov, int iovcnt, long offset);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial nint pwritev(int fd, iovec* iov, int iovcnt, long offset);

    /// <summary>The kernel's limit on iovcnt (UIO_MAXIOV).</summary>
    internal const int IOV_MAX = 1024;
}
