using Microsoft.Win32.SafeHandles;

namespace VirtioFs.Backend.Interop;

/// <summary>An owned file descriptor, closed exactly once.</summary>
public sealed class SafeFd : SafeHandleZeroOrMinusOneIsInvalid
{
    public SafeFd() : base(ownsHandle: true) { }

    public SafeFd(int fd, bool ownsHandle = true) : base(ownsHandle) => SetHandle(fd);

    /// <summary>The raw descriptor, for calls whose caller keeps this object alive.</summary>
    public int Value => (int)handle;

    /// <summary>Takes the descriptor out of this owner without closing it.</summary>
    public int Release()
    {
        int fd = (int)handle;
        SetHandleAsInvalid();
        return fd;
    }

    /// <summary>
    /// shutdown(SHUT_RDWR) on a socket that another thread may be closing: the reference taken here keeps the fd
    /// number from being closed (and reused by someone else) under the call. Wakes threads blocked in accept/recvmsg.
    /// </summary>
    internal void ShutdownSocket()
    {
        bool added = false;
        try
        {
            DangerousAddRef(ref added);
            Libc.shutdown((int)handle, Libc.SHUT_RDWR);
        }
        catch (ObjectDisposedException)
        {
            // Already closed: nothing is blocked on it any more.
        }
        finally
        {
            if (added) DangerousRelease();
        }
    }

    // fd 0 is a valid descriptor, so override the "zero is invalid" rule.
    public override bool IsInvalid => handle.ToInt64() < 0;

    protected override bool ReleaseHandle() => Libc.close((int)handle) == 0;

    /// <summary>Wraps the result of a call that returns an fd or -1, throwing with errno on failure.</summary>
    internal static SafeFd Check(int fd, string call, string? detail = null)
        => fd < 0 ? throw ErrnoException.FromLast(call, detail) : new SafeFd(fd);
}
