using System.Runtime.InteropServices;

namespace VirtioFs.Frontend.Interop;

// libc calls the test frontend needs beyond the Backend's Interop: signals for daemon shutdown, non-blocking peeks on
// the vhost-user socket. C names and constants verbatim, like VirtioFs.Backend.Interop.Libc.
internal static unsafe partial class FrontendLibc
{
    private const string Lib = "libc.so.6";

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int kill(int pid, int sig);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial nint recv(int fd, void* buf, nuint len, int flags);

    internal const int SIGKILL = 9, SIGTERM = 15;
    internal const int MSG_PEEK = 0x2, MSG_DONTWAIT = 0x40;
    internal const short POLLRDHUP = 0x2000;
}

// statx(2): one layout on every architecture, unlike struct stat.
internal static unsafe partial class FrontendLibc
{
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int statx(int dirfd, string path, int flags, uint mask, byte* statxbuf);

    internal const int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100;
    internal const uint STATX_BASIC_STATS = 0x7ff;
    internal const int StatxSize = 256;
}
