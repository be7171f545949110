using System.Collections.Concurrent;
using VirtioFs.Backend.Fuse;
using VirtioFs.Backend.Interop;

namespace VirtioFs.Backend.Share;

/// <summary>
/// The worker threads of one request queue (--thread-pool-size). The queue thread rents a <see cref="PooledRequest"/>,
/// pops a chain into it and submits it; a pool thread serves it with its own <see cref="FuseWorker"/> and puts it on
/// the completion queue; the queue thread drains that queue and is the only one that writes the used ring. Pool
/// threads never touch the ring, so the ring needs no lock. Completions wake the queue thread through an eventfd, but
/// only when it said it is about to sleep: a busy queue thread drains completions between chains instead.
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    private readonly FuseServer _server;
    private readonly ShareLog _log;
    private readonly QueueStatistics _stats;
    private readonly int _queueIndex;
    private readonly Thread[] _threads;
    private readonly PooledRequest[] _all;
    private readonly Stack<PooledRequest> _free;
    private readonly ConcurrentQueue<PooledRequest> _submitted = new();
    private readonly ConcurrentQueue<PooledRequest> _completed = new();
    private readonly SemaphoreSlim _work = new(0);
    private readonly SafeFd _completionEvent;
    private int _queueThreadWaiting;
    private volatile bool _stopping;
    private int _inFlight;

    /// <param name="threads">Pool threads (each with its own FuseWorker).</param>
    /// <param name="slots">Requests that can be in the pool at once; the queue thread serves inline beyond that.</param>
    /// <param name="segmentCapacity">Segments per list: the queue size, the longest chain TryPop accepts.</param>
    /// <param name="stats">The queue's statistics: the pool threads' CPU time counts as the queue's.</param>
    public WorkerPool(string shareName, int queueIndex, FuseServer server, ShareLog log, QueueStatistics stats, int threads, int slots, int segmentCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(threads);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(slots);
        _server = server;
        _log = log;
        _stats = stats;
        _queueIndex = queueIndex;
        _all = new PooledRequest[slots];
        _free = new Stack<PooledRequest>(slots);
        for (int i = 0; i < slots; i++)
        {
            _all[i] = new PooledRequest(segmentCapacity);
            _free.Push(_all[i]);
        }
        _completionEvent = SafeFd.Check(Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK), "eventfd");
        _threads = new Thread[threads];
        for (int i = 0; i < threads; i++)
        {
            _threads[i] = new Thread(Serve) { IsBackground = true, Name = $"virtiofs {shareName} queue {queueIndex} worker {i}" };
            _threads[i].Start();
        }
    }

    /// <summary>Requests submitted and not yet taken back by <see cref="TryTakeCompleted"/> (queue thread only).</summary>
    public int InFlight => _inFlight;

    /// <summary>Threads serving requests.</summary>
    public int ThreadCount => _threads.Length;

    /// <summary>The eventfd a completion writes while the queue thread sleeps; poll it with the kick.</summary>
    public int CompletionEventFd => _completionEvent.Value;

    /// <summary>Queue thread: a free request to pop a chain into, or false when all are in the pool.</summary>
    public bool TryRent(out PooledRequest request) => _free.TryPop(out request!);

    /// <summary>Queue thread: gives back a rented request that was not submitted (the pop found nothing usable).</summary>
    public void Return(PooledRequest request) => _free.Push(request);

    /// <summary>Queue thread: hands a filled request to the pool.</summary>
    public void Submit(PooledRequest request)
    {
        _inFlight++;
        _submitted.Enqueue(request);
        _work.Release();
    }

    /// <summary>Queue thread: the next served request, if any. Give it back with <see cref="Return"/> after AddUsed.</summary>
    public bool TryTakeCompleted(out PooledRequest request)
    {
        if (!_completed.TryDequeue(out request!)) return false;
        _inFlight--;
        return true;
    }

    /// <summary>
    /// Queue thread, before it sleeps in poll: announces the sleep, then reports whether completions slipped in
    /// meanwhile (then it must not sleep). Pairs with the exchange in <see cref="Complete"/>: either the pool thread
    /// sees the flag and signals the eventfd, or the queue thread sees the completion here.
    /// </summary>
    public bool PrepareToSleep()
    {
        Volatile.Write(ref _queueThreadWaiting, 1);
        Interlocked.MemoryBarrier();
        if (_completed.IsEmpty) return true;
        Volatile.Write(ref _queueThreadWaiting, 0);
        return false;
    }

    /// <summary>Queue thread, after poll returned: resets the eventfd and the sleep announcement.</summary>
    public void Woke()
    {
        Volatile.Write(ref _queueThreadWaiting, 0);
        Libc.EventfdRead(_completionEvent.Value);
    }

    private void Serve()
    {
        // Our own threads: each gets its own umask and drops inherited groups, as the queue threads do. Without a
        // deferred-reply path, a SETLKW on a held lock served here answers EOPNOTSUPP (virtiofsd's answer).
        using var worker = new FuseWorker(dedicatedThread: true);
        _stats.AttachCurrentThread();
        try
        {
            while (true)
            {
                _work.Wait();
                if (_stopping) return;
                if (!_submitted.TryDequeue(out PooledRequest? request)) continue;
                Handle(worker, request);
                Complete(request);
            }
        }
        catch (Exception e)
        {
            // Nothing may escape a thread of ours; a dead pool thread only costs throughput (the others carry on).
            _log.Error($"queue {_queueIndex}: a worker thread stopped by an internal error: {e}");
        }
        finally
        {
            _stats.DetachCurrentThread();
        }
    }

    private void Handle(FuseWorker worker, PooledRequest request)
    {
        request.ReplyLength = GuardedRequest.Serve(_server, worker, request.Readable, request.Writable, _log, _queueIndex, out long elapsed);
        request.ElapsedTicks = elapsed;
        request.Opcode = worker.LastOpcode;
        request.Error = worker.LastError;
        request.DataRead = worker.LastDataRead;
        request.DataWritten = worker.LastDataWritten;
    }

    private void Complete(PooledRequest request)
    {
        _completed.Enqueue(request);
        Interlocked.MemoryBarrier();
        if (Interlocked.Exchange(ref _queueThreadWaiting, 0) == 1) Libc.EventfdSignal(_completionEvent.Value);
    }

    /// <summary>
    /// Stops the threads after the requests already submitted have been served (the queue thread must have drained
    /// every completion it wants first; see QueueWorker). Idempotent.
    /// </summary>
    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        _work.Release(_threads.Length);
        foreach (Thread t in _threads) t.Join();
        _work.Dispose();
        _completionEvent.Dispose();
    }
}
