using System.Diagnostics;
using VirtioFs.Backend.Fuse;
using VirtioFs.Backend.Interop;
using VirtioFs.Backend.Memory;
using VirtioFs.Backend.VhostUser;
using VirtioFs.Backend.Virtqueue;

namespace VirtioFs.Backend.Share;

/// <summary>
/// The thread that owns one started virtqueue: it sleeps on the kick eventfd, pops every available chain, serves it in
/// place (the segments point into guest memory), marks it used, and notifies once per batch. It is the only thread
/// touching the ring, so the ring needs no lock.
/// <para>
/// With a thread pool (--thread-pool-size &gt; 0) the choice is made per chain: while the queue is shallow (at most
/// <see cref="InlineDepth"/> requests available or in the pool) the chain is served right here, which is fastest
/// because nothing changes threads; when it is deeper, the chain goes to the pool so that several blocking syscalls
/// can run at once. Pool threads hand finished requests back through a concurrent queue; only this thread writes the
/// used ring (shared/ANCHORS.md 5.3: inline at depth ≤ 3, pool beyond, beat both fixed choices).
/// </para>
/// </summary>
internal sealed unsafe class QueueWorker : IRingWorker
{
    /// <summary>
    /// Inside one batch the used index is published after the first reply, then after every this many: a driver asleep
    /// on its interrupt wakes up while we serve the rest and refills the ring meanwhile, instead of finding the whole
    /// batch at once and leaving us idle while it catches up (measured with bench/: 1.5-2x at depth 16 over publishing
    /// every 32). EVENT_IDX keeps the interrupts to about one per batch: the driver asks again only when it sleeps.
    /// </summary>
    private const int PublishEvery = 8;

    /// <summary>Requests in the queue (available plus in the pool) up to which a chain is served inline.</summary>
    internal const int InlineDepth = 3;

    /// <summary>
    /// The hiprio queue carries FORGETs, which nobody waits for: while they keep coming, it asks for a kick only every
    /// this many (at most a quarter of the ring) and otherwise looks every <see cref="ForgetDelayMillis"/>. A guest
    /// dropping inodes in bulk then pays one kick, and we one wake-up, per batch instead of per FORGET.
    /// </summary>
    internal const int ForgetBatch = 32;

    /// <summary>How long a FORGET may wait for its batch: what an inode the guest dropped keeps its descriptor longer.</summary>
    internal const int ForgetDelayMillis = 1;

    private readonly Vring _ring;
    private readonly VhostUserDevice _device;
    private readonly FuseServer _server;
    private readonly QueueStatistics _stats;
    private readonly ShareLog _log;
    private readonly SafeFd _stopEvent;
    private readonly Thread _thread;
    private readonly SegmentList _readable;
    private readonly SegmentList _writable;
    private readonly WorkerPool? _pool;
    private readonly DeferredReplyQueue _deferred;
    private ushort _currentHead;
    private SegmentList? _currentReply;
    private bool _broken;
    private int _sincePublish;
    private bool _publishedInBatch;
    private bool _spinWorthIt;
    private bool _batchingForgets;
    private int _stopRequested;

    /// <summary>
    /// How long a queue thread that just finished a batch waits for the next request before it sleeps (0: never).
    /// About one driver turnaround (wake-up, reap, submit) on a fast host; bounded, and adaptive (SpinForMore).
    /// </summary>
    internal static long SpinMicros = 30;

    public QueueWorker(string shareName, Vring ring, VhostUserDevice device, FuseServer server, QueueStatistics stats, ShareLog log,
        int threadPoolSize = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threadPoolSize);
        _ring = ring;
        _device = device;
        _server = server;
        _stats = stats;
        _log = log;
        // A chain has at most Size descriptors (checked by the queue), so lists of that capacity never overflow.
        _readable = new SegmentList(ring.Queue.Size);
        _writable = new SegmentList(ring.Queue.Size);
        _stopEvent = SafeFd.Check(Libc.eventfd(0, Libc.EFD_CLOEXEC), "eventfd");
        // Replies that come later (a SETLKW waiting for a lock): the waiter thread hands them back through this queue.
        _deferred = new DeferredReplyQueue(DeferCurrentChain, token => ((DeferredChain)token).Memory.Release());
        // The hiprio queue carries only FORGET (no reply, no blocking I/O): a pool would only add hand-offs there.
        if (threadPoolSize > 0 && ring.Index != 0)
        {
            // Two requests per thread keeps every thread busy while the queue thread drains completions.
            int slots = Math.Min(ring.Queue.Size, 2 * threadPoolSize);
            _pool = new WorkerPool(shareName, ring.Index, server, log, stats, threadPoolSize, slots, ring.Queue.Size);
        }
        _thread = new Thread(Run) { IsBackground = true, Name = $"virtiofs {shareName} queue {ring.Index}" };
        _thread.Start();
    }

    /// <summary>Pool threads of this queue (0: everything is served inline).</summary>
    public int PoolThreads => _pool?.ThreadCount ?? 0;

    public void Stop()
    {
        Volatile.Write(ref _stopRequested, 1);
        Libc.EventfdSignal(_stopEvent.Value);
        _thread.Join();
        _stopEvent.Dispose();
        // Deferred requests not answered yet go with the queue (the FUSE reset answers their waiters EINTR, into nothing).
        _deferred.Dispose();
    }

    /// <summary>A chain whose reply comes later: its head, its reply segments, and the guest memory they lie in.</summary>
    private sealed record DeferredChain(ushort Head, IoSegment[] Reply, GuestMemory Memory);

    // On this thread, inside HandleRequest: keep the chain's reply buffers (and their mapping) until the reply comes.
    private object DeferCurrentChain()
        => new DeferredChain(_currentHead, _currentReply!.AsSpan().ToArray(),
            _device.AcquireMemory() ?? throw new InvalidOperationException("no guest memory while serving a request"));

    /// <summary>Copies every reply that came back from a waiter into its chain and marks the chain used.</summary>
    private void CompleteDeferred()
    {
        _deferred.ClearSignal();
        GuestMemory? memory = _device.AcquireMemory();
        try
        {
            // The ring's addresses must match the current memory table, as in Process.
            if (memory is not null && !ReferenceEquals(memory, _ring.Queue.Memory)) _ring.Queue.UpdateMemory(memory);
            while (_deferred.TryTake(out object token, out byte[] reply))
            {
                var chain = (DeferredChain)token;
                if (memory is not null && !_broken && DeferredReplyQueue.CopyReply(chain.Reply, reply))
                {
                    AddUsed(chain.Head, (uint)reply.Length);
                }
                chain.Memory.Release();
            }
            if (memory is not null && !_broken) PublishAndNotify();
        }
        catch (VirtqueueException e)
        {
            _broken = true;
            _log.Error($"queue {_ring.Index}: {e.Message}; the queue stops until the front-end resets it");
        }
        finally
        {
            memory?.Release();
        }
    }

    private void Run()
    {
        using var fuse = new FuseWorker(dedicatedThread: true) { DeferredReplies = _deferred };
        _stats.AttachCurrentThread();
        try
        {
            int kick = _ring.Kick!.Value;
            Libc.pollfd* fds = stackalloc Libc.pollfd[4];
            fds[0] = new Libc.pollfd { fd = kick, events = Libc.POLLIN };
            fds[1] = new Libc.pollfd { fd = _stopEvent.Value, events = Libc.POLLIN };
            fds[2] = new Libc.pollfd { fd = _deferred.EventFd, events = Libc.POLLIN };
            fds[3] = new Libc.pollfd { fd = _pool?.CompletionEventFd ?? -1, events = Libc.POLLIN };
            nuint nfds = _pool is null ? 3u : 4u;
            // Buffers may have been queued before the kick fd arrived (e.g. after a reconnect): look once first.
            Process(fuse, popAvailable: true);
            while (true)
            {
                fds[0].revents = fds[1].revents = fds[2].revents = fds[3].revents = 0;
                if (_pool is not null && !_pool.PrepareToSleep())
                {
                    // A completion arrived after the last drain: publish it before sleeping.
                    Process(fuse, popAvailable: false);
                    continue;
                }
                long sleptAt = Stopwatch.GetTimestamp();
                int ready = Libc.poll(fds, nfds, _batchingForgets ? ForgetDelayMillis : -1);
                _pool?.Woke();
                if (ready < 0)
                {
                    if (Libc.LastErrno == Errno.EINTR) continue;
                    _log.Error($"queue {_ring.Index}: poll failed: {Libc.LastErrno.Describe()}; the queue stops");
                    return;
                }
                if (fds[1].revents != 0) return;
                if (fds[2].revents != 0) CompleteDeferred();
                if ((fds[0].revents & (Libc.POLLERR | Libc.POLLNVAL)) != 0)
                {
                    _log.Error($"queue {_ring.Index}: the kick eventfd is broken; the queue stops");
                    return;
                }
                // A timeout only happens while FORGETs are batched: serve what came without a kick.
                bool lookAtRing = fds[0].revents != 0 || ready == 0;
                if (fds[0].revents != 0)
                {
                    Libc.EventfdRead(kick);
                    _stats.Kicked();
                    // A kick soon after we went to sleep: the driver is fast, spinning would have caught it.
                    _spinWorthIt = Stopwatch.GetTimestamp() - sleptAt < SpinMicros * Stopwatch.Frequency / 1_000_000;
                }
                if (_broken) _batchingForgets = false;
                Process(fuse, popAvailable: lookAtRing && !_broken);
            }
        }
        catch (Exception e)
        {
            // Nothing may escape a thread of ours: in PowerShell that would take the whole session down.
            _log.Error($"queue {_ring.Index}: stopped by an internal error: {e}");
        }
        finally
        {
            DrainPool(fuse);
            _stats.DetachCurrentThread();
        }
    }

    /// <summary>
    /// On the way out: waits for every request in the pool, publishes its reply, then stops the pool threads, so that
    /// Stop returns only when everything consumed from the ring is in the used ring (what GET_VRING_BASE expects).
    /// </summary>
    private void DrainPool(FuseWorker fuse)
    {
        if (_pool is null) return;
        try
        {
            int completion = _pool.CompletionEventFd;
            while (_pool.InFlight > 0)
            {
                if (_pool.PrepareToSleep())
                {
                    var pfd = new Libc.pollfd { fd = completion, events = Libc.POLLIN };
                    // Pool requests are plain syscalls on regular files and directories: they finish.
                    Libc.poll(&pfd, 1, 100);
                    _pool.Woke();
                }
                Process(fuse, popAvailable: false);
                if (_device.AcquireMemory() is not { } probe) break; // no memory table left: nothing can be published
                probe.Release();
            }
        }
        catch (Exception e)
        {
            _log.Error($"queue {_ring.Index}: draining the worker pool failed: {e}");
        }
        finally
        {
            // Requests still in the pool here can no longer be published; their memory references go with them.
            _pool.Dispose();
            while (_pool.TryTakeCompleted(out PooledRequest request)) ReleaseRequest(request);
        }
    }

    private void Process(FuseWorker fuse, bool popAvailable)
    {
        GuestMemory? memory = _device.AcquireMemory();
        if (memory is null)
        {
            _batchingForgets = false;   // no ring to look at until the next kick
            return;
        }
        try
        {
            if (!ReferenceEquals(memory, _ring.Queue.Memory))
            {
                // The memory table changed since the last batch: translate the ring addresses again.
                _ring.Queue.UpdateMemory(memory);
            }
            _sincePublish = 0;
            _publishedInBatch = false;
            if (popAvailable) ProcessAvailable(fuse, memory);
            else DrainCompletions();
            PublishAndNotify();
        }
        catch (VirtqueueException e)
        {
            _broken = true;
            _log.Error($"queue {_ring.Index}: {e.Message}; the queue stops until the front-end resets it");
            // The ring may not be inside the new table: completions can no longer be published.
            if (_pool is not null)
            {
                while (_pool.TryTakeCompleted(out PooledRequest request)) ReleaseRequest(request);
            }
        }
        finally
        {
            memory.Release();
        }
    }

    private void ProcessAvailable(FuseWorker fuse, GuestMemory memory)
    {
        SplitQueue queue = _ring.Queue;
        int served = 0;
        while (true)
        {
            queue.DisableNotifications();
            while (true)
            {
                DrainCompletions();
                PopResult result;
                ushort head;
                if (_pool is not null && queue.PeekAvailable() + _pool.InFlight > InlineDepth && _pool.TryRent(out PooledRequest request))
                {
                    result = queue.TryPop(request.Readable, request.Writable, out head);
                    if (result == PopResult.Chain && memory.TryAcquire())
                    {
                        request.Head = head;
                        request.Memory = memory;
                        _stats.BeginRequest();
                        _pool.Submit(request);
                        continue;
                    }
                    if (result == PopResult.Chain)
                    {
                        // Cannot happen while we hold the batch's own reference; serve it here rather than lose it.
                        ServeInline(fuse, head, request.Readable, request.Writable);
                        _pool.Return(request);
                        continue;
                    }
                    _pool.Return(request);
                }
                else
                {
                    result = queue.TryPop(_readable, _writable, out head);
                    if (result == PopResult.Chain)
                    {
                        ServeInline(fuse, head, _readable, _writable);
                        served++;
                        continue;
                    }
                }

                if (result == PopResult.Empty) break;
                if (result == PopResult.BrokenRing)
                {
                    _broken = true;
                    _log.Error($"queue {_ring.Index}: {queue.LastChainError}; the queue stops until the front-end resets it");
                    return;
                }
                // BadChain
                _stats.DroppedChain();
                _log.GuestError((_ring.Index, head, queue.LastChainError),
                    s => $"queue {s.Index}: dropped descriptor chain {s.head}: {s.LastChainError}");
                AddUsed(head, 0);
            }
            PublishAndNotify();
            // A driver that answers fast (a frontend with requests one after the other) puts its next request in the
            // ring a few microseconds after our notification: wait for it briefly with kicks still suppressed, which
            // saves its kick and our wake-up. Worth it only while such requests keep coming (see SpinWorthIt).
            if (SpinForMore(queue)) continue;
            // FORGETs came: more will follow (a guest drops inodes in bulk); collect them in batches until a look finds none.
            _batchingForgets = _ring.Index == 0 && served > 0 && queue.EventIdx;
            ushort batch = _batchingForgets ? (ushort)Math.Min(ForgetBatch, Math.Max(1, queue.Size / 4)) : (ushort)1;
            // Re-arm notifications, then look again: a buffer added in between would otherwise wait for the next kick.
            if (!queue.EnableNotifications(batch)) return;
        }
    }

    /// <summary>
    /// Busy-waits up to <see cref="SpinMicros"/> for the driver's next chain while notifications stay off (with
    /// EVENT_IDX avail_event still points at the last chain taken, so the driver does not kick). Spins only while
    /// the last spin found work or the last sleep was short; a spin that times out switches spinning off until a
    /// short sleep shows the driver is fast again, so an idle or slow guest costs no CPU.
    /// </summary>
    private bool SpinForMore(SplitQueue queue)
    {
        // Never on the hiprio queue: FORGETs get no reply, so no driver waits on us there.
        if (!_spinWorthIt || SpinMicros <= 0 || _ring.Index == 0 || (_pool is not null && _pool.InFlight > 0)) return false;
        long deadline = Stopwatch.GetTimestamp() + SpinMicros * Stopwatch.Frequency / 1_000_000;
        do
        {
            Thread.SpinWait(8);
            if (queue.PeekAvailable() > 0) return true;
        }
        while (Stopwatch.GetTimestamp() < deadline && Volatile.Read(ref _stopRequested) == 0);
        _spinWorthIt = false;
        return false;
    }

    /// <summary>Puts every request the pool has finished into the used ring (publication is batched by the caller).</summary>
    private void DrainCompletions()
    {
        if (_pool is null) return;
        while (_pool.TryTakeCompleted(out PooledRequest request))
        {
            _stats.EndRequest(request.Opcode, request.Error, request.DataRead, request.DataWritten, request.ElapsedTicks);
            if (_log.IsEnabled(ShareLogLevel.Debug)) LogRequest(request.Opcode, request.Error, request.ReplyLength, request.Readable, request.Writable, pooled: true);
            AddUsed(request.Head, (uint)request.ReplyLength);
            ReleaseRequest(request);
        }
    }

    private void ReleaseRequest(PooledRequest request)
    {
        request.Memory?.Release();
        request.Memory = null;
        _pool!.Return(request);
    }

    private void AddUsed(ushort head, uint length)
    {
        _ring.Queue.AddUsed(head, length);
        if (++_sincePublish >= PublishEvery || !_publishedInBatch) PublishAndNotify();
    }

    /// <summary>Serves a chain on this thread; its reply goes in the used ring now, or later when it was deferred.</summary>
    private void ServeInline(FuseWorker fuse, ushort head, SegmentList readable, SegmentList writable)
    {
        _currentHead = head;
        _currentReply = writable;
        int written = Serve(fuse, readable, writable);
        if (written != FuseServer.DeferredReply) AddUsed(head, (uint)written);
    }

    private int Serve(FuseWorker fuse, SegmentList readable, SegmentList writable)
    {
        _stats.BeginRequest();
        int written = GuardedRequest.Serve(_server, fuse, readable, writable, _log, _ring.Index, out long elapsed);
        _stats.EndRequest(fuse.LastOpcode, fuse.LastError, fuse.LastDataRead, fuse.LastDataWritten, elapsed);
        if (_log.IsEnabled(ShareLogLevel.Debug)) LogRequest(fuse.LastOpcode, fuse.LastError, written, readable, writable, pooled: false);
        return written;
    }

    private void LogRequest(uint opcode, int error, int written, SegmentList readable, SegmentList writable, bool pooled)
    {
        _log.Debug($"queue {_ring.Index}: {FuseOpcodeNames.Of(opcode)} -> errno {error}, {written} reply bytes " +
            $"(request {readable.TotalLength} bytes in {readable.Count} segments, reply room {writable.TotalLength} in {writable.Count})" +
            (pooled ? " [worker pool]" : ""));
    }

    private void PublishAndNotify()
    {
        _sincePublish = 0;
        _publishedInBatch = true;
        if (_ring.Queue.PublishUsed())
        {
            _ring.Notify();
            _stats.Notified();
        }
    }
}
