using System.Collections.Concurrent;
using VirtioFs.Backend.Interop;
using VirtioFs.Backend.Memory;

namespace VirtioFs.Backend.Fuse;

/// <summary>
/// <see cref="IFuseDeferredReplies"/> for a transport that must finish requests on its own thread (a virtqueue: only
/// the queue thread touches the ring). <see cref="IFuseDeferredReplies.Defer"/> asks the transport (on the serving
/// thread) for a token that keeps the request's reply buffers valid; a completion from any thread is queued without a
/// lock and signalled on <see cref="EventFd"/>; the transport's thread, woken by it, takes the completions with
/// <see cref="TryTake"/>, copies each reply into the buffers its token names, and marks the request used.
/// Deferred requests are rare (a SETLKW on a held lock), so allocating per deferral is fine.
/// </summary>
public sealed class DeferredReplyQueue : IFuseDeferredReplies, IDisposable
{
    private readonly Func<object> _capture;
    private readonly Action<object> _drop;
    private readonly ConcurrentQueue<(object Token, byte[] Reply)> _completed = new();
    private readonly SafeFd _event;
    private readonly object _disposeGate = new();
    private bool _disposed;
    private int _outstanding;

    /// <param name="capture">Called on the serving thread for the request being deferred: the transport's token.</param>
    /// <param name="drop">
    /// Releases what a token keeps, for requests whose reply can no longer be delivered: those still queued at
    /// <see cref="Dispose"/> and those completed after it (a lock waiter answering after the queue stopped).
    /// </param>
    public DeferredReplyQueue(Func<object> capture, Action<object> drop)
    {
        ArgumentNullException.ThrowIfNull(capture);
        ArgumentNullException.ThrowIfNull(drop);
        _capture = capture;
        _drop = drop;
        _event = SafeFd.Check(Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK), "eventfd");
    }

    /// <summary>Readable when completions wait: poll it next to the kick fd, then <see cref="TryTake"/> until false.</summary>
    public int EventFd => _event.Value;

    /// <summary>Requests deferred and not yet taken back with <see cref="TryTake"/>.</summary>
    public int Outstanding => Volatile.Read(ref _outstanding);

    object IFuseDeferredReplies.Defer()
    {
        object token = _capture();
        Interlocked.Increment(ref _outstanding);
        return token;
    }

    void IFuseDeferredReplies.Complete(object token, ReadOnlySpan<byte> reply)
    {
        // Rare (one per deferred request), so a lock keeps Complete and Dispose simple: after Dispose the reply has
        // nowhere to go and the token is dropped here; before it, the eventfd is still open under the lock.
        lock (_disposeGate)
        {
            if (_disposed)
            {
                Interlocked.Decrement(ref _outstanding);
                _drop(token);
                return;
            }
            _completed.Enqueue((token, reply.ToArray()));
            Libc.EventfdSignal(_event.Value);
        }
    }

    /// <summary>On the transport's thread: the next finished request's token and complete reply (header included).</summary>
    public bool TryTake(out object token, out byte[] reply)
    {
        if (_completed.TryDequeue(out var item))
        {
            Interlocked.Decrement(ref _outstanding);
            (token, reply) = item;
            return true;
        }
        token = null!;
        reply = null!;
        return false;
    }

    /// <summary>Empties the eventfd counter after a wake-up (the completions themselves are taken with TryTake).</summary>
    public void ClearSignal() => Libc.EventfdRead(_event.Value);

    /// <summary>Copies a reply into the reply segments a token kept; false when they are too small (never for FUSE replies we make).</summary>
    public static bool CopyReply(ReadOnlySpan<IoSegment> replySegments, ReadOnlySpan<byte> reply)
        => SegmentIo.TryCopyIn(replySegments, 0, reply);

    /// <summary>Drops every completion not taken yet, and every later one; closes the eventfd.</summary>
    public void Dispose()
    {
        lock (_disposeGate)
        {
            if (_disposed) return;
            _disposed = true;
            while (TryTake(out object token, out _)) _drop(token);
            _event.Dispose();
        }
    }
}
