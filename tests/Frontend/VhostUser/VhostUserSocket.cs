using System.Buffers.Binary;
using VirtioFs.Backend.Interop;
using VirtioFs.Frontend.Interop;

namespace VirtioFs.Frontend.VhostUser;

/// <summary>
/// The front-end end of the vhost-user UNIX stream socket: framed messages (12-byte header + payload) with file
/// descriptors as SCM_RIGHTS on the first byte, and replies read with a deadline.
/// </summary>
public sealed unsafe class VhostUserSocket : IDisposable
{
    private readonly SafeFd _fd;

    private VhostUserSocket(SafeFd fd) => _fd = fd;

    public int Fd => _fd.Value;

    /// <summary>Connects, retrying while the socket does not exist or refuses, until <paramref name="timeout"/>.</summary>
    public static VhostUserSocket Connect(string path, TimeSpan timeout)
    {
        if (!Libc.TryMakeSockaddr(path, out Libc.sockaddr_un addr, out uint addrLength))
            throw new ArgumentException($"socket path does not fit sockaddr_un (max 107 bytes): {path}", nameof(path));
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            var fd = SafeFd.Check(Libc.socket(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0), "socket");
            if (Libc.connect(fd.Value, &addr, addrLength) == 0) return new VhostUserSocket(fd);
            Errno errno = Libc.LastErrno;
            fd.Dispose();
            if ((errno != Errno.ENOENT && errno != Errno.ECONNREFUSED) || Environment.TickCount64 >= deadline)
                throw new ErrnoException("connect", errno, path);
            Thread.Sleep(20);
        }
    }

    /// <summary>Sends one message; <paramref name="size"/> overrides the header's size field (hostile tests lie with it).</summary>
    public void Send(uint request, uint flags, ReadOnlySpan<byte> payload, ReadOnlySpan<int> fds, uint? size = null)
    {
        if (fds.Length > 253) throw new ArgumentOutOfRangeException(nameof(fds));
        byte[] message = new byte[VhostUserRequest.HeaderSize + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(message, request);
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(4), flags);
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(8), size ?? (uint)payload.Length);
        payload.CopyTo(message.AsSpan(VhostUserRequest.HeaderSize));

        nuint controlLength = fds.Length == 0 ? 0 : Libc.CMSG_SPACE((nuint)(fds.Length * sizeof(int)));
        byte* control = stackalloc byte[(int)Math.Max(controlLength, 1)];
        new Span<byte>(control, (int)Math.Max(controlLength, 1)).Clear();
        int sent = 0;
        fixed (byte* data = message)
        {
            while (sent < message.Length)
            {
                Libc.iovec iov = new() { iov_base = data + sent, iov_len = (nuint)(message.Length - sent) };
                Libc.msghdr msg = new() { msg_iov = &iov, msg_iovlen = 1 };
                if (sent == 0 && fds.Length > 0)
                {
                    var cmsg = (Libc.cmsghdr*)control;
                    cmsg->cmsg_len = Libc.CMSG_LEN((nuint)(fds.Length * sizeof(int)));
                    cmsg->cmsg_level = Libc.SOL_SOCKET;
                    cmsg->cmsg_type = Libc.SCM_RIGHTS;
                    fds.CopyTo(new Span<int>(Libc.CMSG_DATA(cmsg), fds.Length));
                    msg.msg_control = control;
                    msg.msg_controllen = controlLength;
                }
                nint n = Libc.sendmsg(_fd.Value, &msg, Libc.MSG_NOSIGNAL);
                if (n < 0)
                {
                    if (Libc.LastErrno == Errno.EINTR) continue;
                    throw new ErrnoException("sendmsg", Libc.LastErrno, $"vhost-user {VhostUserRequest.Name(request)}");
                }
                sent += (int)n;
            }
        }
    }

    /// <summary>
    /// Reads one message (header, then <c>size</c> payload bytes) before the deadline. Returns false on timeout or when
    /// the backend closed the socket (see <see cref="IsPeerConnected"/>). File descriptors received are closed.
    /// </summary>
    public bool TryReceive(TimeSpan timeout, out uint request, out uint flags, out byte[] payload)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        request = flags = 0;
        payload = [];
        Span<byte> header = stackalloc byte[VhostUserRequest.HeaderSize];
        if (!ReadExactly(header, deadline)) return false;
        request = BinaryPrimitives.ReadUInt32LittleEndian(header);
        flags = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
        uint size = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        if (size > 1 << 20) throw new VhostUserProtocolException($"backend sent {VhostUserRequest.Name(request)} with payload size {size}");
        payload = new byte[size];
        return ReadExactly(payload, deadline);
    }

    private bool ReadExactly(Span<byte> buffer, long deadline)
    {
        int got = 0;
        byte* control = stackalloc byte[256];
        while (got < buffer.Length)
        {
            long remaining = deadline - Environment.TickCount64;
            if (remaining <= 0) return false;
            Libc.pollfd pfd = new() { fd = _fd.Value, events = Libc.POLLIN };
            int r = Libc.poll(&pfd, 1, (int)Math.Min(remaining, int.MaxValue));
            if (r < 0 && Libc.LastErrno == Errno.EINTR) continue;
            if (r < 0) throw new ErrnoException("poll", Libc.LastErrno, "vhost-user socket");
            if (r == 0) return false;
            fixed (byte* p = buffer)
            {
                Libc.iovec iov = new() { iov_base = p + got, iov_len = (nuint)(buffer.Length - got) };
                Libc.msghdr msg = new() { msg_iov = &iov, msg_iovlen = 1, msg_control = control, msg_controllen = 256 };
                nint n = Libc.recvmsg(_fd.Value, &msg, Libc.MSG_CMSG_CLOEXEC);
                if (n < 0 && (Libc.LastErrno == Errno.EINTR || Libc.LastErrno == Errno.EAGAIN)) continue;
                if (n < 0 && Libc.LastErrno == Errno.ECONNRESET) return false;
                if (n < 0) throw new ErrnoException("recvmsg", Libc.LastErrno, "vhost-user socket");
                CloseReceivedFds(&msg);
                if (n == 0) return false; // orderly shutdown by the backend
                got += (int)n;
            }
        }
        return true;
    }

    private static void CloseReceivedFds(Libc.msghdr* msg)
    {
        if (msg->msg_controllen < (nuint)sizeof(Libc.cmsghdr)) return;
        var cmsg = (Libc.cmsghdr*)msg->msg_control;
        if (cmsg->cmsg_level != Libc.SOL_SOCKET || cmsg->cmsg_type != Libc.SCM_RIGHTS) return;
        int count = (int)((cmsg->cmsg_len - Libc.CMSG_LEN(0)) / sizeof(int));
        int* fds = (int*)Libc.CMSG_DATA(cmsg);
        for (int i = 0; i < count; i++) Libc.close(fds[i]);
    }

    /// <summary>False once the backend has closed its end (EOF or hang-up); pending unread data counts as connected.</summary>
    public bool IsPeerConnected()
    {
        if (_fd.IsClosed) return false;
        Libc.pollfd pfd = new() { fd = _fd.Value, events = (short)(Libc.POLLIN | FrontendLibc.POLLRDHUP) };
        int r = Libc.poll(&pfd, 1, 0);
        if (r <= 0) return true;
        if ((pfd.revents & (Libc.POLLHUP | Libc.POLLERR | Libc.POLLNVAL)) != 0) return false;
        byte b;
        nint n = FrontendLibc.recv(_fd.Value, &b, 1, FrontendLibc.MSG_PEEK | FrontendLibc.MSG_DONTWAIT);
        return n > 0 || (n < 0 && Libc.LastErrno == Errno.EAGAIN);
    }

    public void Dispose() => _fd.Dispose();
}
