using VirtioFs.Backend.Interop;
using VirtioFs.Backend.Virtqueue;

namespace VirtioFs.Backend.VhostUser;

/// <summary>
/// The vhost-user view of one virtqueue: the split ring plus the eventfds and the enable state the front-end set.
/// Changed only by the connection thread, and only while no worker runs on it (the device stops the worker first),
/// except <see cref="Call"/>, which the front-end may replace while the ring runs (QEMU does when MSI-X vectors move).
/// </summary>
public sealed class Vring : IDisposable
{
    private SafeFd? _call;

    public Vring(int index, ushort maxSize) => Queue = new SplitQueue(index, maxSize);

    public int Index => Queue.Index;

    public SplitQueue Queue { get; }

    public SafeFd? Kick { get; set; }

    public SafeFd? Err { get; set; }

    /// <summary>The call eventfd; a worker reads it once per notification and holds a reference while writing.</summary>
    public SafeFd? Call => Volatile.Read(ref _call);

    public bool Enabled { get; set; }

    public bool SizeSet { get; set; }

    public bool AddressesSet { get; set; }

    public void ReplaceCall(SafeFd? fd) => Interlocked.Exchange(ref _call, fd)?.Dispose();

    public void ReplaceKick(SafeFd? fd)
    {
        Kick?.Dispose();
        Kick = fd;
    }

    public void ReplaceErr(SafeFd? fd)
    {
        Err?.Dispose();
        Err = fd;
    }

    /// <summary>Signals the driver through the call eventfd, if there is one. Safe against a concurrent ReplaceCall.</summary>
    public void Notify()
    {
        SafeFd? call = Call;
        if (call is null) return;
        bool added = false;
        try
        {
            call.DangerousAddRef(ref added);
            Libc.EventfdSignal(call.Value);
        }
        catch (ObjectDisposedException)
        {
            // Replaced and closed between the read and the AddRef: the new fd gets the next notification.
        }
        finally
        {
            if (added) call.DangerousRelease();
        }
    }

    /// <summary>Forgets the ring's fds and state: after GET_VRING_BASE, RESET_OWNER or a disconnect.</summary>
    public void Reset(bool keepConfiguration)
    {
        ReplaceKick(null);
        ReplaceCall(null);
        ReplaceErr(null);
        Queue.Detach();
        if (!keepConfiguration)
        {
            Enabled = false;
            SizeSet = false;
            AddressesSet = false;
            Queue.NextAvail = 0;
        }
    }

    public void Dispose() => Reset(keepConfiguration: false);
}
