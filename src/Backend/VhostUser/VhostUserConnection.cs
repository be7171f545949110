using System.Runtime.InteropServices;
using VirtioFs.Backend.Interop;

namespace VirtioFs.Backend.VhostUser;

/// <summary>
/// The byte and descriptor transport of one accepted vhost-user connection: blocking recvmsg/sendmsg on a UNIX stream
/// socket, descriptors as SCM_RIGHTS. Another thread ends a blocked <see cref="TryReceive"/> with <see cref="Shutdown"/>.
/// </summary>
public sealed unsafe class VhostUserConnection : IDisposable
{
    private readonly SafeFd _socket;
    private int _shutdown;

    public VhostUserConnection(SafeFd socket) => _socket = socket;

    public int Fd => _socket.Value;

    /// <summary>"pid 1234 (qemu-system-x86), uid 0": who connected, from SO_PEERCRED, for logs and the share object.</summary>
    public string DescribePeer()
    {
        Libc.ucred cred;
        uint length = (uint)sizeof(Libc.ucred);
        if (Libc.getsockopt(_socket.Value, Libc.SOL_SOCKET, Libc.SO_PEERCRED, &cred, &length) != 0) return "unknown peer";
        string command;
        try
        {
            command = File.ReadAllText($"/proc/{cred.pid}/comm").Trim();
        }
        catch (IOException)
        {
            command = "?";
        }
        return $"pid {cred.pid} ({command}), uid {cred.uid}";
    }

    /// <summary>
    /// Receives the next message. False when the front-end closed the connection cleanly between messages.
    /// Throws <see cref="VhostUserProtocolException"/> for a truncated or oversized message or too many fds.
    /// </summary>
    public bool TryReceive(VhostUserMessage message)
    {
        message.CloseUntakenFds();
        VhostUserHeader header;
        nint got = ReceiveHeaderWithFds(&header, message);
        if (got == 0) return false;
        if (got != VhostUserHeader.Size)
            throw new VhostUserProtocolException($"connection closed inside a message header ({got} of {VhostUserHeader.Size} bytes)");
        if ((header.Flags & VhostUserHeader.VersionMask) != VhostUserHeader.Version)
            throw new VhostUserProtocolException($"message {header.Request} has protocol version {header.Flags & VhostUserHeader.VersionMask}; only version 1 exists");
        if (header.PayloadSize > VhostUserHeader.MaxPayload)
            throw new VhostUserProtocolException($"message {header.Request} announces {header.PayloadSize} payload bytes; at most {VhostUserHeader.MaxPayload} are accepted");
        message.Header = header;
        if (header.PayloadSize > 0)
        {
            fixed (byte* p = message.Payload)
            {
                ReceiveExactly(p, (int)header.PayloadSize, header.Request);
            }
        }
        return true;
    }

    private nint ReceiveHeaderWithFds(VhostUserHeader* header, VhostUserMessage message)
    {
        // Room for the most descriptors one message may carry; more than that truncates (MSG_CTRUNC) and is an error.
        nuint controlSize = Libc.CMSG_SPACE((nuint)(sizeof(int) * VhostUserHeader.MaxFds));
        byte* control = stackalloc byte[(int)controlSize];
        int total = 0;
        while (total < VhostUserHeader.Size)
        {
            var iov = new Libc.iovec { iov_base = (byte*)header + total, iov_len = (nuint)(VhostUserHeader.Size - total) };
            var msg = new Libc.msghdr { msg_iov = &iov, msg_iovlen = 1, msg_control = control, msg_controllen = controlSize };
            nint n = Libc.recvmsg(_socket.Value, &msg, Libc.MSG_CMSG_CLOEXEC);
            if (n < 0)
            {
                Errno errno = Libc.LastErrno;
                if (errno == Errno.EINTR) continue;
                if (Volatile.Read(ref _shutdown) != 0 || errno == Errno.ECONNRESET) return total;
                throw new ErrnoException("recvmsg", errno, "the vhost-user socket");
            }
            CollectFds(&msg, message);
            if ((msg.msg_flags & Libc.MSG_CTRUNC) != 0)
                throw new VhostUserProtocolException($"a message carried more than {VhostUserHeader.MaxFds} file descriptors");
            if (n == 0) return total;
            total += (int)n;
        }
        return total;
    }

    private static void CollectFds(Libc.msghdr* msg, VhostUserMessage message)
    {
        if (msg->msg_controllen < (nuint)sizeof(Libc.cmsghdr)) return;
        byte* end = (byte*)msg->msg_control + msg->msg_controllen;
        for (var c = (Libc.cmsghdr*)msg->msg_control; (byte*)c + sizeof(Libc.cmsghdr) <= end;)
        {
            if (c->cmsg_len < (nuint)sizeof(Libc.cmsghdr)) break;
            if (c->cmsg_level == Libc.SOL_SOCKET && c->cmsg_type == Libc.SCM_RIGHTS)
            {
                int count = (int)((c->cmsg_len - Libc.CMSG_LEN(0)) / sizeof(int));
                int* fds = (int*)Libc.CMSG_DATA(c);
                for (int i = 0; i < count; i++)
                {
                    Span<int> slots = message.FdSlots;
                    if (message.FdCount < slots.Length)
                    {
                        slots[message.FdCount] = fds[i];
                        message.SetFdCount(message.FdCount + 1);
                    }
                    else
                    {
                        Libc.close(fds[i]);
                    }
                }
            }
            c = (Libc.cmsghdr*)((byte*)c + Libc.CMSG_ALIGN(c->cmsg_len));
        }
    }

    private void ReceiveExactly(byte* buffer, int length, VhostUserRequest request)
    {
        int total = 0;
        while (total < length)
        {
            var iov = new Libc.iovec { iov_base = buffer + total, iov_len = (nuint)(length - total) };
            var msg = new Libc.msghdr { msg_iov = &iov, msg_iovlen = 1 };
            nint n = Libc.recvmsg(_socket.Value, &msg, Libc.MSG_CMSG_CLOEXEC);
            if (n < 0)
            {
                Errno errno = Libc.LastErrno;
                if (errno == Errno.EINTR) continue;
                throw new VhostUserProtocolException($"reading the payload of {request} failed: {errno.Describe()}");
            }
            if (n == 0)
                throw new VhostUserProtocolException($"connection closed inside the payload of {request} ({total} of {length} bytes)");
            total += (int)n;
        }
    }

    /// <summary>Sends a reply: the request's code with the reply flag, and <paramref name="payload"/>.</summary>
    public void SendReply(VhostUserRequest request, ReadOnlySpan<byte> payload)
    {
        var header = new VhostUserHeader
        {
            Request = request,
            Flags = VhostUserHeader.Version | VhostUserHeader.ReplyFlag,
            PayloadSize = (uint)payload.Length,
        };
        fixed (byte* p = payload)
        {
            var iov = stackalloc Libc.iovec[2];
            iov[0] = new Libc.iovec { iov_base = &header, iov_len = VhostUserHeader.Size };
            iov[1] = new Libc.iovec { iov_base = p, iov_len = (nuint)payload.Length };
            SendAll(iov, payload.Length == 0 ? 1 : 2, VhostUserHeader.Size + payload.Length);
        }
    }

    /// <summary>Sends a u64 reply (GET_FEATURES, GET_QUEUE_NUM, REPLY_ACK status...).</summary>
    public void SendReply(VhostUserRequest request, ulong value)
        => SendReply(request, MemoryMarshal.AsBytes(new ReadOnlySpan<ulong>(in value)));

    private void SendAll(Libc.iovec* iov, int count, int length)
    {
        int sent = 0;
        while (sent < length)
        {
            var msg = new Libc.msghdr { msg_iov = iov, msg_iovlen = (nuint)count };
            nint n = Libc.sendmsg(_socket.Value, &msg, Libc.MSG_NOSIGNAL);
            if (n < 0)
            {
                if (Libc.LastErrno == Errno.EINTR) continue;
                throw new ErrnoException("sendmsg", Libc.LastErrno, "a vhost-user reply");
            }
            sent += (int)n;
            // Advance the iovecs past what the kernel took (a short send is rare on a UNIX socket, but legal).
            long left = n;
            while (count > 0 && left >= (long)iov->iov_len)
            {
                left -= (long)iov->iov_len;
                iov++;
                count--;
            }
            if (count > 0 && left > 0)
            {
                iov->iov_base = (byte*)iov->iov_base + left;
                iov->iov_len -= (nuint)left;
            }
        }
    }

    /// <summary>Unblocks a thread in <see cref="TryReceive"/>; safe to call from any thread, any number of times.</summary>
    public void Shutdown()
    {
        if (Interlocked.Exchange(ref _shutdown, 1) == 0) _socket.ShutdownSocket();
    }

    public void Dispose()
    {
        Shutdown();
        _socket.Dispose();
    }
}
