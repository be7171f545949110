using System.Runtime.CompilerServices;
using VirtioFs.Backend.Interop;

namespace VirtioFs.Backend.Passthrough;

/// <summary>
/// The POSIX record locks of one inode, as the C virtiofsd kept them: one open file description per guest lock
/// owner (a guest process's files table), reopened from the inode, and OFD locks on it. Locks of different guest
/// processes then conflict with each other exactly as process-owned locks do, and dropping an owner (FLUSH, which
/// the guest sends on every close) closes its descriptor, which releases all its locks on the file: POSIX's
/// "closing any descriptor releases the process's locks". Thread-safe under its own lock.
/// </summary>
internal sealed class LockOwners
{
    private readonly Dictionary<ulong, int> _fds = new();
    private readonly StrongBox<int> _openCount;

    /// <param name="openCount">The file system's count of lock descriptors, kept up to date here (it counts against the fd quota).</param>
    public LockOwners(StrongBox<int> openCount) => _openCount = openCount;

    /// <summary>Held while a descriptor of this table is in use, so that a concurrent Drop cannot close it under the call.</summary>
    public object Gate => _fds;

    /// <summary>The owner's descriptor, or -1 when it holds nothing here. Only under <see cref="Gate"/>.</summary>
    public int Find(ulong owner) => _fds.TryGetValue(owner, out int fd) ? fd : -1;

    /// <summary>Records the owner's new descriptor (the table takes it over). Only under <see cref="Gate"/>.</summary>
    public void Add(ulong owner, int fd)
    {
        _fds.Add(owner, fd);
        Interlocked.Increment(ref _openCount.Value);
    }

    /// <summary>Closes the owner's descriptor, releasing its locks. False when it had none.</summary>
    public bool Drop(ulong owner)
    {
        lock (_fds)
        {
            if (!_fds.Remove(owner, out int fd)) return false;
            Libc.close(fd);
            Interlocked.Decrement(ref _openCount.Value);
            return true;
        }
    }

    public int Count
    {
        get
        {
            lock (_fds) return _fds.Count;
        }
    }

    public void CloseAll()
    {
        lock (_fds)
        {
            foreach (int fd in _fds.Values) Libc.close(fd);
            Interlocked.Add(ref _openCount.Value, -_fds.Count);
            _fds.Clear();
        }
    }
}
