using System.Runtime.CompilerServices;
using VirtioFs.Backend.Fuse.Abi;

namespace VirtioFs.Backend.Fuse;

/// <summary>
/// Waits for the SETLKW requests that could not be granted at once, so that no serving thread ever blocks on a lock
/// (a queue thread blocked on a lock whose holder's unlock sits behind it in the same queue would deadlock the guest).
/// One background thread, alive only while something waits: it retries every parked request with the file system's
/// non-blocking SetLk, oldest first, backing off from 1 ms to 50 ms while nothing changes, and answers through the
/// request's transport when the lock is granted, fails, or the request is interrupted (EINTR). No signals are used,
/// so it is safe inside a process it does not own (PowerShell).
/// </summary>
internal sealed class LockWaiter
{
    private const int MaxDelayMilliseconds = 50;

    private readonly IFileSystem _fs;
    private readonly Action<Exception> _onInternalError;
    private readonly object _gate = new();
    private readonly List<PendingLock> _pending = new();
    private readonly AutoResetEvent _wake = new(false);
    private Thread? _thread;

    public LockWaiter(IFileSystem fileSystem, Action<Exception> onInternalError)
    {
        _fs = fileSystem;
        _onInternalError = onInternalError;
    }

    /// <summary>Requests parked right now.</summary>
    public int Count
    {
        get
        {
            lock (_gate) return _pending.Count;
        }
    }

    public void Add(PendingLock request)
    {
        lock (_gate)
        {
            _pending.Add(request);
            if (_thread is null)
            {
                _thread = new Thread(Run) { IsBackground = true, Name = "virtiofs lock waiter" };
                _thread.Start();
            }
        }
        _wake.Set();
    }

    /// <summary>INTERRUPT: answers the parked request <paramref name="unique"/> with EINTR. False when none waits.</summary>
    public bool Cancel(ulong unique)
    {
        lock (_gate)
        {
            PendingLock? request = _pending.Find(p => p.Unique == unique);
            if (request is null) return false;
            request.Cancelled = true;
        }
        _wake.Set();
        return true;
    }

    /// <summary>DESTROY, INIT, reset: every parked request is answered EINTR.</summary>
    public void CancelAll()
    {
        lock (_gate)
        {
            foreach (PendingLock request in _pending) request.Cancelled = true;
        }
        _wake.Set();
    }

    private void Run()
    {
        int delay = 1;
        var round = new List<PendingLock>();
        while (true)
        {
            round.Clear();
            lock (_gate)
            {
                if (_pending.Count == 0)
                {
                    _thread = null;
                    return;
                }
                round.AddRange(_pending);
            }
            bool progress = false;
            foreach (PendingLock request in round)
            {
                int errno;
                bool cancelled;
                lock (_gate) cancelled = request.Cancelled;
                if (cancelled)
                {
                    errno = FuseErrno.EINTR;
                }
                else
                {
                    errno = TrySetLock(request);
                    if (errno == FuseErrno.EAGAIN) continue;
                }
                lock (_gate) _pending.Remove(request);
                Answer(request, errno);
                progress = true;
            }
            delay = progress ? 1 : Math.Min(delay * 2, MaxDelayMilliseconds);
            _wake.WaitOne(delay);
        }
    }

    private int TrySetLock(PendingLock request)
    {
        try
        {
            FuseLkIn lk = request.Request;
            return _fs.SetLk(request.Context, request.NodeId, lk.Fh, lk.Owner, lk.Lk, request.IsFlock);
        }
        catch (Exception e)
        {
            _onInternalError(e);
            return FuseErrno.EIO;
        }
    }

    private void Answer(PendingLock request, int errno)
    {
        var header = new FuseOutHeader { Len = FuseConstants.OutHeaderSize, Error = -errno, Unique = request.Unique };
        Span<byte> reply = stackalloc byte[FuseConstants.OutHeaderSize];
        Unsafe.WriteUnaligned(ref reply[0], header);
        try
        {
            request.Transport.Complete(request.Token, reply);
        }
        catch (Exception e)
        {
            _onInternalError(e);
        }
    }
}
