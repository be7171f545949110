using System.Runtime.InteropServices;

namespace VirtioFs.Tests.Hostile;

// libc calls the hostile-guest tests need beyond the Backend's Interop: inotify to watch what must stay untouched,
// and the fd rlimit to run the share out of descriptors. C names and constants verbatim.
internal static unsafe partial class HostileLibc
{
    private const string Lib = "libc.so.6";

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int inotify_init1(int flags);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int inotify_add_watch(int fd, string pathname, uint mask);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int getrlimit(int resource, rlimit* rlim);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int setrlimit(int resource, rlimit* rlim);

#pragma warning disable CS8981 // C struct names verbatim
    [StructLayout(LayoutKind.Sequential)]
    internal struct rlimit
    {
        public ulong rlim_cur;
        public ulong rlim_max;
    }
#pragma warning restore CS8981

    internal const int IN_NONBLOCK = 0x800, IN_CLOEXEC = 0x80000;
    internal const uint IN_ACCESS = 0x1, IN_MODIFY = 0x2, IN_ATTRIB = 0x4, IN_CLOSE_WRITE = 0x8, IN_CLOSE_NOWRITE = 0x10,
        IN_OPEN = 0x20, IN_MOVED_FROM = 0x40, IN_MOVED_TO = 0x80, IN_CREATE = 0x100, IN_DELETE = 0x200,
        IN_DELETE_SELF = 0x400, IN_MOVE_SELF = 0x800, IN_ALL_EVENTS = 0xFFF, IN_ISDIR = 0x40000000, IN_Q_OVERFLOW = 0x4000;
    internal const int RLIMIT_NOFILE = 7;
}
