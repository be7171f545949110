using VirtioFs.Backend.Interop;

namespace VirtioFs.Backend.VhostUser;

/// <summary>
/// The listening UNIX socket a front-end (QEMU's <c>-chardev socket,path=...</c>, a client) connects to. Either we
/// create it at a path (made private to our user, 0600, like virtiofsd) or we are handed an fd that already listens
/// (virtiofsd's <c>--fd</c>, how libvirt passes a pre-opened socket).
/// </summary>
public sealed unsafe class VhostUserListener : IDisposable
{
    private readonly SafeFd _socket;
    private readonly string? _createdPath;
    private int _shutdown;

    private VhostUserListener(SafeFd socket, string? createdPath)
    {
        _socket = socket;
        _createdPath = createdPath;
    }

    /// <summary>The socket path we created, or null when listening on an inherited fd.</summary>
    public string? SocketPath => _createdPath;

    /// <summary>
    /// Creates and listens on <paramref name="path"/>. A stale socket file nobody listens on is replaced; a live one is
    /// a <see cref="SocketPathInUseException"/>, any other kind of file at that path a
    /// <see cref="SocketPathNotASocketException"/>.
    /// </summary>
    public static VhostUserListener Create(string path, int mode = 0x180 /* 0600 */)
    {
        if (!Libc.TryMakeSockaddr(path, out var addr, out uint addrLength))
            throw new ArgumentException($"The socket path '{path}' is empty or longer than the 107 bytes a UNIX socket address can hold. Choose a shorter path.", nameof(path));
        RemoveStaleSocket(path);
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);

        var socket = SafeFd.Check(Libc.socket(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0), "socket");
        try
        {
            if (Libc.bind(socket.Value, &addr, addrLength) != 0)
                throw ErrnoException.FromLast("bind", $"socket path '{path}'");
            // bind() created the file with the process umask; tighten it before listen() so nobody can connect early.
            File.SetUnixFileMode(path, (UnixFileMode)mode);
            if (Libc.listen(socket.Value, 1) != 0)
                throw ErrnoException.FromLast("listen", $"socket path '{path}'");
            return new VhostUserListener(socket, path);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Adopts an inherited descriptor that must already be a listening UNIX stream socket.</summary>
    public static VhostUserListener FromFd(int fd)
    {
        int accepting = 0, domain = 0;
        uint length = sizeof(int);
        if (Libc.getsockopt(fd, Libc.SOL_SOCKET, Libc.SO_ACCEPTCONN, &accepting, &length) != 0)
            throw ErrnoException.FromLast("getsockopt(SO_ACCEPTCONN)", $"--fd {fd}");
        length = sizeof(int);
        if (Libc.getsockopt(fd, Libc.SOL_SOCKET, Libc.SO_DOMAIN, &domain, &length) != 0)
            throw ErrnoException.FromLast("getsockopt(SO_DOMAIN)", $"--fd {fd}");
        if (accepting == 0 || domain != Libc.AF_UNIX)
            throw new ArgumentException($"File descriptor {fd} is not a listening UNIX socket. Pass a socket on which listen() was called.", nameof(fd));
        Libc.fcntl(fd, Libc.F_SETFD, Libc.FD_CLOEXEC);
        return new VhostUserListener(new SafeFd(fd), null);
    }

    private static void RemoveStaleSocket(string path)
    {
        int type = Libc.FileTypeOf(path);
        if (type < 0)
        {
            if (Libc.LastErrno == Errno.ENOENT) return;
            throw ErrnoException.FromLast("statx", $"socket path '{path}'");
        }
        if (type != (int)Libc.S_IFSOCK)
            throw new SocketPathNotASocketException(path);
        if (!Libc.TryMakeSockaddr(path, out var addr, out uint addrLength)) return;
        using var probe = SafeFd.Check(Libc.socket(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0), "socket");
        if (Libc.connect(probe.Value, &addr, addrLength) == 0)
            throw new SocketPathInUseException(path);
        File.Delete(path);   // a socket file nobody listens on: left behind by a daemon that died
    }

    /// <summary>
    /// Waits for the next front-end. Null when <see cref="Shutdown"/> was called.
    /// </summary>
    public VhostUserConnection? Accept()
    {
        while (true)
        {
            int fd = Libc.accept4(_socket.Value, null, null, Libc.SOCK_CLOEXEC);
            if (fd >= 0)
            {
                if (Volatile.Read(ref _shutdown) != 0)
                {
                    Libc.close(fd);
                    return null;
                }
                return new VhostUserConnection(new SafeFd(fd));
            }
            Errno errno = Libc.LastErrno;
            if (Volatile.Read(ref _shutdown) != 0) return null;
            if (errno is Errno.EINTR or Errno.ECONNABORTED) continue;
            throw new ErrnoException("accept4", errno, _createdPath ?? "the listening socket");
        }
    }

    /// <summary>Wakes a thread blocked in <see cref="Accept"/>; Linux returns EINVAL from accept on a shut-down socket.</summary>
    public void Shutdown()
    {
        if (Interlocked.Exchange(ref _shutdown, 1) == 0) _socket.ShutdownSocket();
    }

    public void Dispose()
    {
        Shutdown();
        _socket.Dispose();
        if (_createdPath is not null)
        {
            try { File.Delete(_createdPath); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
