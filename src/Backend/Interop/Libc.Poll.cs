using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Interop;

// poll.h
internal static unsafe partial class Libc
{
    [StructLayout(LayoutKind.Sequential)]
    internal struct pollfd
    {
        public int fd;
        public short events;
        public short revents;
    }

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int poll(pollfd* fds, nuint nfds, int timeout);

    internal const short POLLIN = 0x001, POLLOUT = 0x004, POLLERR = 0x008, POLLHUP = 0x010, POLLNVAL = 0x020;
}
