using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Interop;

// sys/socket.h, sys/un.h, sys/uio.h: the vhost-user UNIX socket with SCM_RIGHTS fd passing.
internal static unsafe partial class Libc
{
    [StructLayout(LayoutKind.Sequential)]
    internal struct iovec
    {
        public void* iov_base;
        public nuint iov_len;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct msghdr
    {
        public void* msg_name;
        public uint msg_namelen;
        public iovec* msg_iov;
        public nuint msg_iovlen;
        public void* msg_control;
        public nuint msg_controllen;
        public int msg_flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct cmsghdr
    {
        public nuint cmsg_len;
        public int cmsg_level;
        public int cmsg_type;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct sockaddr_un
    {
        public ushort sun_family;
        public fixed byte sun_path[108];
    }

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int socket(int domain, int type, int protocol);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int socketpair(int domain, int type, int protocol, int* sv);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int bind(int fd, sockaddr_un* addr, uint addrlen);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int listen(int fd, int backlog);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int accept4(int fd, void* addr, uint* addrlen, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int connect(int fd, sockaddr_un* addr, uint addrlen);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int shutdown(int fd, int how);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial nint recvmsg(int fd, msghdr* msg, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial nint sendmsg(int fd, msghdr* msg, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int getsockopt(int fd, int level, int optname, void* optval, uint* optlen);

    internal const int AF_UNIX = 1;
    internal const int SOCK_STREAM = 1, SOCK_CLOEXEC = 0x80000, SOCK_NONBLOCK = 0x800;
    [StructLayout(LayoutKind.Sequential)]
    internal struct ucred
    {
        public int pid;
        public uint uid;
        public uint gid;
    }

    internal const int SOL_SOCKET = 1, SCM_RIGHTS = 1, SO_ACCEPTCONN = 30, SO_TYPE = 3, SO_DOMAIN = 39, SO_PEERCRED = 17;
    internal const int MSG_CTRUNC = 0x8, MSG_TRUNC = 0x20, MSG_WAITALL = 0x100, MSG_NOSIGNAL = 0x4000, MSG_CMSG_CLOEXEC = 0x40000000;
    internal const int SHUT_RD = 0, SHUT_WR = 1, SHUT_RDWR = 2;

    internal static nuint CMSG_ALIGN(nuint len) => (len + (nuint)sizeof(nuint) - 1) & ~((nuint)sizeof(nuint) - 1);
    internal static nuint CMSG_SPACE(nuint len) => CMSG_ALIGN((nuint)sizeof(cmsghdr)) + CMSG_ALIGN(len);
    internal static nuint CMSG_LEN(nuint len) => CMSG_ALIGN((nuint)sizeof(cmsghdr)) + len;
    internal static byte* CMSG_DATA(cmsghdr* c) => (byte*)c + CMSG_ALIGN((nuint)sizeof(cmsghdr));

    /// <summary>Fills a sockaddr_un; false when the path does not fit sun_path (107 bytes plus NUL).</summary>
    internal static bool TryMakeSockaddr(string path, out sockaddr_un addr, out uint length)
    {
        addr = default;
        addr.sun_family = AF_UNIX;
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(path);
        length = 0;
        if (bytes.Length == 0 || bytes.Length > 107) return false;
        fixed (byte* p = addr.sun_path)
        {
            bytes.CopyTo(new Span<byte>(p, 108));
        }
        length = (uint)(2 + bytes.Length + 1);
        return true;
    }
}
