using System.Runtime.InteropServices;
using VirtioFs.Backend.Interop;
using VirtioFs.Backend.Memory;

namespace VirtioFs.Backend.Fuse;

/// <summary>
/// Serves a <see cref="FuseServer"/> through the host kernel's /dev/fuse: mount(2) type "fuse" on a directory and
/// answer the kernel's requests with <paramref name="threads"/> threads. Used by host-side tests and as a fast
/// conformance path (no guest needed). Needs CAP_SYS_ADMIN.
/// </summary>
public sealed unsafe class DevFuseMount : IDisposable, IFuseDeferredReplies
{
    private readonly FuseServer _server;
    private readonly int _fuseFd;
    private readonly int _stopFd;
    private readonly Thread[] _threads;
    private readonly int _bufferSize;
    private int _disposed;
    private long _requests;

    private DevFuseMount(string mountPoint, FuseServer server, int fuseFd, int stopFd, int threads)
    {
        MountPoint = mountPoint;
        _server = server;
        _fuseFd = fuseFd;
        _stopFd = stopFd;
        // The kernel refuses reads into buffers smaller than in_header + write_in + max_write.
        _bufferSize = checked((int)server.Options.MaxWrite + 64 * 1024);
        _threads = new Thread[threads];
    }

    public string MountPoint { get; }

    /// <summary>Requests served so far.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>The first unexpected error of a serving thread (null while all is well).</summary>
    public Exception? Fault { get; private set; }

    /// <summary>
    /// Opens /dev/fuse, mounts it on <paramref name="mountPoint"/> (allow_other, default_permissions: the kernel checks
    /// permissions from our attributes, as a virtio-fs guest does) and starts serving.
    /// </summary>
    public static DevFuseMount Mount(string mountPoint, FuseServer server, int threads = 1)
    {
        ArgumentException.ThrowIfNullOrEmpty(mountPoint);
        ArgumentNullException.ThrowIfNull(server);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);

        int fuseFd;
        fixed (byte* path = "/dev/fuse\0"u8)
        {
            // Non-blocking, so that a serving thread waits in poll() and can also see the stop event.
            fuseFd = Libc.openat(Libc.AT_FDCWD, path, Libc.O_RDWR | Libc.O_CLOEXEC | Libc.O_NONBLOCK, 0);
        }
        if (fuseFd < 0) throw ErrnoException.FromLast("open", "/dev/fuse");
        int stopFd = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        if (stopFd < 0)
        {
            var error = ErrnoException.FromLast("eventfd");
            Libc.close(fuseFd);
            throw error;
        }
        string data = $"fd={fuseFd},rootmode=40000,user_id={Libc.geteuid()},group_id={Libc.getegid()},allow_other,default_permissions";
        if (Libc.mount("VirtioFs", mountPoint, "fuse", Libc.MS_NOSUID | Libc.MS_NODEV, data) != 0)
        {
            var error = ErrnoException.FromLast("mount", mountPoint);
            Libc.close(stopFd);
            Libc.close(fuseFd);
            throw error;
        }

        var mount = new DevFuseMount(mountPoint, server, fuseFd, stopFd, threads);
        for (int i = 0; i < threads; i++)
        {
            var thread = new Thread(mount.Serve) { IsBackground = true, Name = $"fuse-dev-{i}" };
            mount._threads[i] = thread;
            thread.Start();
        }
        return mount;
    }

    private void Serve()
    {
        // Our own thread for its whole life: private umask 0 and no inherited groups, as a queue thread.
        using var worker = new FuseWorker(dedicatedThread: true) { DeferredReplies = this };
        byte* requestBuffer = (byte*)NativeMemory.AlignedAlloc((nuint)_bufferSize, 4096);
        byte* replyBuffer = (byte*)NativeMemory.AlignedAlloc((nuint)_bufferSize, 4096);
        var request = new SegmentList(1);
        var reply = new SegmentList(1);
        Libc.pollfd* fds = stackalloc Libc.pollfd[2];
        try
        {
            while (true)
            {
                fds[0] = new Libc.pollfd { fd = _fuseFd, events = Libc.POLLIN };
                fds[1] = new Libc.pollfd { fd = _stopFd, events = Libc.POLLIN };
                if (Libc.poll(fds, 2, -1) < 0)
                {
                    if (Libc.LastErrno == Errno.EINTR) continue;
                    throw ErrnoException.FromLast("poll", "/dev/fuse");
                }
                if (fds[1].revents != 0) return;

                // One read() returns exactly one request.
                nint n = Libc.read(_fuseFd, requestBuffer, (nuint)_bufferSize);
                if (n < 0)
                {
                    Errno errno = Libc.LastErrno;
                    // EAGAIN: another thread took it. ENOENT: the request was interrupted before we got it.
                    if (errno is Errno.EAGAIN or Errno.EINTR or Errno.ENOENT) continue;
                    if (errno == Errno.ENODEV) return;   // unmounted: the connection is gone
                    throw new ErrnoException("read", errno, "/dev/fuse");
                }
                if (n == 0) return;

                request.Clear();
                request.TryAdd(requestBuffer, (uint)n);
                reply.Clear();
                reply.TryAdd(replyBuffer, (uint)_bufferSize);
                int length = _server.HandleRequest(worker, request, reply);
                Interlocked.Increment(ref _requests);
                if (length == FuseServer.DeferredReply) continue;   // answered later through Complete
                if (length > 0 && Libc.write(_fuseFd, replyBuffer, (nuint)length) < 0)
                {
                    Errno errno = Libc.LastErrno;
                    // ENOENT: the kernel gave up on that request (interrupted); ENODEV: unmounted meanwhile.
                    if (errno == Errno.ENODEV) return;
                    if (errno != Errno.ENOENT) throw new ErrnoException("write", errno, "/dev/fuse");
                }
            }
        }
        catch (Exception exception)
        {
            Fault ??= exception;
        }
        finally
        {
            NativeMemory.AlignedFree(requestBuffer);
            NativeMemory.AlignedFree(replyBuffer);
        }
    }

    /// <summary>/dev/fuse takes a reply from any thread, by its unique: nothing to keep.</summary>
    object IFuseDeferredReplies.Defer() => this;

    void IFuseDeferredReplies.Complete(object token, ReadOnlySpan<byte> reply)
    {
        // Under the gate, so the descriptor cannot be closed (and its number reused) under the write.
        lock (_completionGate)
        {
            if (_closed) return;
            fixed (byte* bytes = reply)
            {
                // ENOENT: the kernel gave up on the request (interrupted); ENODEV: unmounted meanwhile. Both are fine.
                Libc.write(_fuseFd, bytes, (nuint)reply.Length);
            }
        }
    }

    private readonly object _completionGate = new();
    private bool _closed;

    /// <summary>Lazily unmounts (MNT_DETACH), stops and joins the threads, and closes /dev/fuse.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Libc.umount2(MountPoint, Libc.MNT_DETACH);
        Libc.EventfdSignal(_stopFd);
        foreach (Thread thread in _threads) thread?.Join();
        // Closing the channel aborts the connection: anything still using the detached mount gets ENOTCONN.
        lock (_completionGate)
        {
            _closed = true;
            Libc.close(_fuseFd);
        }
        Libc.close(_stopFd);
    }
}
