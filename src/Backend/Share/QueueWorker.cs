using System.Diagnostics;
using VirtioFs.Backend.Fuse;
using VirtioFs.Backend.Interop;
using VirtioFs.Backend.Memory;
using VirtioFs.Backend.VhostUser;
using VirtioFs.Backend.Virtqueue;

namespace VirtioFs.Backend.Share;

/// <summary>
/// The thread that owns one started virtqueue: it sleeps on the kick eventfd, pops every available chain, hands it to
/// the FUSE server in place (the segments point into guest memory), marks it used, and notifies once per batch. It is
/// the only thread touching the ring, its segment lists and its FUSE scratch, so none of them needs a lock.
/// </summary>
internal sealed unsafe class QueueWorker : IRingWorker
{
    /// <summary>Publish the used index at least this often inside one long batch, so the guest sees early completions.</summary>
    private const int PublishEvery = 32;

    private readonly Vring _ring;
    private readonly VhostUserDevice _device;
    private readonly FuseServer _server;
    private readonly QueueStatistics _stats;
    private readonly ShareLog _log;
    private readonly SafeFd _stopEvent;
    private readonly Thread _thread;
    private readonly SegmentList _readable;
    private readonly SegmentList _writable;
    private bool _broken;

    public QueueWorker(string shareName, Vring ring, VhostUserDevice device, FuseServer server, QueueStatistics stats, ShareLog log)
    {
        _ring = ring;
        _device = device;
        _server = server;
        _stats = stats;
        _log = log;
        // A chain has at most Size descriptors (checked by the queue), so lists of that capacity never overflow.
        _readable = new SegmentList(ring.Queue.Size);
        _writable = new SegmentList(ring.Queue.Size);
        _stopEvent = SafeFd.Check(Libc.eventfd(0, Libc.EFD_CLOEXEC), "eventfd");
        _thread = new Thread(Run) { IsBackground = true, Name = $"virtiofs {shareName} queue {ring.Index}" };
        _thread.Start();
    }

    public void Stop()
    {
        Libc.EventfdSignal(_stopEvent.Value);
        _thread.Join();
        _stopEvent.Dispose();
    }

    private void Run()
    {
        using var fuse = new FuseWorker();
        try
        {
            int kick = _ring.Kick!.Value;
            Libc.pollfd* fds = stackalloc Libc.pollfd[2];
            fds[0] = new Libc.pollfd { fd = kick, events = Libc.POLLIN };
            fds[1] = new Libc.pollfd { fd = _stopEvent.Value, events = Libc.POLLIN };
            // Buffers may have been queued before the kick fd arrived (e.g. after a reconnect): look once first.
            Process(fuse);
            while (true)
            {
                fds[0].revents = fds[1].revents = 0;
                if (Libc.poll(fds, 2, -1) < 0)
                {
                    if (Libc.LastErrno == Errno.EINTR) continue;
                    _log.Error($"queue {_ring.Index}: poll failed: {Libc.LastErrno.Describe()}; the queue stops");
                    return;
                }
                if (fds[1].revents != 0) return;
                if ((fds[0].revents & (Libc.POLLERR | Libc.POLLNVAL)) != 0)
                {
                    _log.Error($"queue {_ring.Index}: the kick eventfd is broken; the queue stops");
                    return;
                }
                Libc.EventfdRead(kick);
                _stats.Kicked();
                if (!_broken) Process(fuse);
            }
        }
        catch (Exception e)
        {
            // Nothing may escape a thread of ours: in PowerShell that would take the whole session down.
            _log.Error($"queue {_ring.Index}: stopped by an internal error: {e}");
        }
    }

    private void Process(FuseWorker fuse)
    {
        GuestMemory? memory = _device.AcquireMemory();
        if (memory is null) return;
        try
        {
            if (!ReferenceEquals(memory, _ring.Queue.Memory))
            {
                // The memory table changed since the last batch: translate the ring addresses again.
                _ring.Queue.UpdateMemory(memory);
            }
            ProcessAvailable(fuse);
        }
        catch (VirtqueueException e)
        {
            _broken = true;
            _log.Error($"queue {_ring.Index}: {e.Message}; the queue stops until the front-end resets it");
        }
        finally
        {
            memory.Release();
        }
    }

    private void ProcessAvailable(FuseWorker fuse)
    {
        SplitQueue queue = _ring.Queue;
        while (true)
        {
            queue.DisableNotifications();
            int sincePublish = 0;
            while (true)
            {
                PopResult result = queue.TryPop(_readable, _writable, out ushort head);
                if (result == PopResult.Empty) break;
                if (result == PopResult.BrokenRing)
                {
                    _broken = true;
                    PublishAndNotify();
                    _log.Error($"queue {_ring.Index}: {queue.LastChainError}; the queue stops until the front-end resets it");
                    return;
                }
                if (result == PopResult.BadChain)
                {
                    _stats.DroppedChain();
                    _log.GuestError((_ring.Index, head, queue.LastChainError),
                        s => $"queue {s.Index}: dropped descriptor chain {s.head}: {s.LastChainError}");
                    queue.AddUsed(head, 0);
                }
                else
                {
                    queue.AddUsed(head, (uint)Serve(fuse));
                }
                if (++sincePublish == PublishEvery)
                {
                    PublishAndNotify();
                    sincePublish = 0;
                }
            }
            PublishAndNotify();
            // Re-arm notifications, then look again: a buffer added in between would otherwise wait for the next kick.
            if (!queue.EnableNotifications()) return;
        }
    }

    private int Serve(FuseWorker fuse)
    {
        _stats.BeginRequest();
        long start = Stopwatch.GetTimestamp();
        int written;
        try
        {
            written = _server.HandleRequest(fuse, _readable, _writable);
        }
        catch (Exception e)
        {
            // A bug of ours, not the guest's fault: answer nothing for this chain, log it, keep serving.
            _log.Error($"queue {_ring.Index}: request failed with an internal error: {e}");
            written = 0;
        }
        _stats.EndRequest(fuse.LastOpcode, fuse.LastError, fuse.LastDataRead, fuse.LastDataWritten, Stopwatch.GetTimestamp() - start);
        if (_log.IsEnabled(ShareLogLevel.Debug))
        {
            _log.Debug($"queue {_ring.Index}: {FuseOpcodeNames.Of(fuse.LastOpcode)} -> errno {fuse.LastError}, {written} reply bytes " +
                $"(request {_readable.TotalLength} bytes in {_readable.Count} segments, reply room {_writable.TotalLength} in {_writable.Count})");
        }
        return written;
    }

    private void PublishAndNotify()
    {
        if (_ring.Queue.PublishUsed())
        {
            _ring.Notify();
            _stats.Notified();
        }
    }
}
