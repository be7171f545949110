using Xunit;
using System.Runtime.InteropServices;
using VirtioFs.Backend.Interop;
using VirtioFs.Backend.VhostUser;

namespace VirtioFs.Tests.VhostUser;

/// <summary>
/// A connected socketpair: one end is a real <see cref="VhostUserConnection"/>, the other end sends hand-made
/// messages (any header, any payload, any fds) the way a broken or hostile front-end would.
/// </summary>
internal sealed unsafe class RawVhostUserPeer : IDisposable
{
    private readonly SafeFd _peer;

    public RawVhostUserPeer()
    {
        int* sv = stackalloc int[2];
        if (Libc.socketpair(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0, sv) != 0)
            throw ErrnoException.FromLast("socketpair");
        Connection = new VhostUserConnection(new SafeFd(sv[0]));
        _peer = new SafeFd(sv[1]);
    }

    public VhostUserConnection Connection { get; }

    public void Send(VhostUserRequest request, ReadOnlySpan<byte> payload, ReadOnlySpan<int> fds = default, uint flags = VhostUserHeader.Version, uint? sizeOverride = null)
    {
        var header = new VhostUserHeader { Request = request, Flags = flags, PayloadSize = sizeOverride ?? (uint)payload.Length };
        byte[] bytes = new byte[VhostUserHeader.Size + payload.Length];
        MemoryMarshal.Write(bytes, in header);
        payload.CopyTo(bytes.AsSpan(VhostUserHeader.Size));
        SendBytes(bytes, fds);
    }

    public void Send<T>(VhostUserRequest request, T payload, ReadOnlySpan<int> fds = default, uint flags = VhostUserHeader.Version) where T : unmanaged
        => Send(request, MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in payload)), fds, flags);

    public void SendBytes(ReadOnlySpan<byte> bytes, ReadOnlySpan<int> fds = default)
    {
        nuint controlSize = fds.Length == 0 ? 0 : Libc.CMSG_SPACE((nuint)(fds.Length * sizeof(int)));
        byte* control = stackalloc byte[(int)Math.Max(controlSize, 1)];
        fixed (byte* p = bytes)
        {
            var iov = new Libc.iovec { iov_base = p, iov_len = (nuint)bytes.Length };
            var msg = new Libc.msghdr { msg_iov = &iov, msg_iovlen = 1 };
            if (fds.Length > 0)
            {
                new Span<byte>(control, (int)controlSize).Clear();
                var c = (Libc.cmsghdr*)control;
                c->cmsg_len = Libc.CMSG_LEN((nuint)(fds.Length * sizeof(int)));
                c->cmsg_level = Libc.SOL_SOCKET;
                c->cmsg_type = Libc.SCM_RIGHTS;
                fds.CopyTo(new Span<int>(Libc.CMSG_DATA(c), fds.Length));
                msg.msg_control = control;
                msg.msg_controllen = controlSize;
            }
            if (Libc.sendmsg(_peer.Value, &msg, Libc.MSG_NOSIGNAL) != bytes.Length) throw ErrnoException.FromLast("sendmsg");
        }
    }

    /// <summary>Reads one reply: header then payload.</summary>
    public (VhostUserHeader Header, byte[] Payload) ReadReply()
    {
        byte[] head = ReadExactly(VhostUserHeader.Size);
        var header = MemoryMarshal.Read<VhostUserHeader>(head);
        return (header, ReadExactly((int)header.PayloadSize));
    }

    public ulong ReadU64Reply(VhostUserRequest expected)
    {
        var (header, payload) = ReadReply();
        Assert.Equal(expected, header.Request);
        Assert.Equal(VhostUserHeader.Version | VhostUserHeader.ReplyFlag, header.Flags);
        Assert.Equal(8, payload.Length);
        return BitConverter.ToUInt64(payload);
    }

    /// <summary>True when nothing is waiting to be read (no unsolicited reply was sent).</summary>
    public bool NothingPending()
    {
        var fd = new Libc.pollfd { fd = _peer.Value, events = Libc.POLLIN };
        return Libc.poll(&fd, 1, 50) == 0;
    }

    private byte[] ReadExactly(int length)
    {
        byte[] buffer = new byte[length];
        int got = 0;
        fixed (byte* p = buffer)
        {
            while (got < length)
            {
                nint n = Libc.read(_peer.Value, p + got, (nuint)(length - got));
                if (n <= 0) throw new IOException("the device side closed or failed while a reply was expected");
                got += (int)n;
            }
        }
        return buffer;
    }

    public void CloseSendSide() => Libc.shutdown(_peer.Value, Libc.SHUT_WR);

    public void Dispose()
    {
        Connection.Dispose();
        _peer.Dispose();
    }
}
