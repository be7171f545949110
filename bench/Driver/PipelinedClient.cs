using System.Diagnostics;
using System.Buffers.Binary;
using VirtioFs.Backend.Interop;
using VirtioFs.Frontend;
using VirtioFs.Frontend.Fuse;
using VirtioFs.Frontend.Virtqueue;

namespace VirtioFs.Bench.Driver;

/// <summary>
/// Drives one request queue with many requests in flight, like a guest under load: it publishes chains, kicks only
/// when the device asked for it (EVENT_IDX), and reaps used buffers, sleeping on the call eventfd only when none are
/// ready. It counts the kicks it actually sent and the interrupts it actually received. Nothing is allocated per
/// request, so what the process allocates during a run is the share's doing. Not thread-safe: one thread per queue.
/// </summary>
internal sealed unsafe class PipelinedClient
{
    private readonly VirtqueueDriver _queue;
    private readonly RequestSlot?[] _byHead;
    private readonly ushort* _usedEvent;
    private readonly bool _indirect;
    private ulong _nextUnique;
    private bool _kickPending;

    public PipelinedClient(VhostUserFrontend frontend, int queueIndex, HiprioSender hiprio, int slots, int dataCapacity, int replyCapacity)
    {
        _queue = frontend.Queue(queueIndex);
        Hiprio = hiprio;
        _byHead = new RequestSlot?[_queue.Size];
        _indirect = frontend.IndirectNegotiated;
        // used_event sits after avail->ring[Size]; the driver class writes it too, we only need it before sleeping.
        _usedEvent = (ushort*)frontend.Memory.Pointer(_queue.AvailRingAddress + 4 + 2 * (ulong)_queue.Size, 2);
        // Uniques must be distinct per session; give each queue its own range (low bit clear, as the kernel does).
        _nextUnique = ((ulong)queueIndex << 48) + 2;
        Slots = new RequestSlot[slots];
        for (int i = 0; i < slots; i++) Slots[i] = new RequestSlot(frontend.Memory, i, dataCapacity, replyCapacity);
    }

    public RequestSlot[] Slots { get; }
    public HiprioSender Hiprio { get; }
    public long KicksSent { get; private set; }
    public long Interrupts { get; private set; }
    public long Requests { get; private set; }
    public int InFlight { get; private set; }

    /// <summary>How long (Stopwatch ticks) to poll the used ring before sleeping on the call eventfd; 0: sleep at once.</summary>
    public long SpinTicks { get; set; }

    public ulong NextUnique()
    {
        ulong u = _nextUnique;
        _nextUnique += 2;
        return u;
    }

    /// <summary>Publishes the slot's request (built with Begin/Arg/Reply); the kick waits for <see cref="Flush"/>.</summary>
    public void Send(RequestSlot slot)
    {
        ReadOnlySpan<(ulong, uint, bool)> chain = slot.Finish();
        if (!_queue.TryAddChain(chain, _indirect && chain.Length > 1, out ushort head))
            throw new InvalidOperationException($"queue {_queue.Index}: ring full ({_queue.FreeDescriptors} descriptors free)");
        _byHead[head] = slot;
        slot.Busy = true;
        InFlight++;
        Requests++;
        _kickPending = true;
    }

    /// <summary>Kicks for everything sent since the last flush, if the device wants a kick.</summary>
    public void Flush()
    {
        if (!_kickPending) return;
        _kickPending = false;
        if (_queue.Kick()) KicksSent++;
    }

    /// <summary>Takes one finished request without waiting.</summary>
    public bool TryReap(out RequestSlot slot, out int errno, out int bodyLength)
    {
        if (!_queue.TryTakeUsed(out ushort head, out uint used))
        {
            slot = null!;
            errno = bodyLength = 0;
            return false;
        }
        slot = _byHead[head] ?? throw new InvalidDataException($"queue {_queue.Index}: used head {head} is not ours");
        _byHead[head] = null;
        slot.Busy = false;
        InFlight--;
        ReadOnlySpan<byte> h = slot.OutHeader;
        uint len = BinaryPrimitives.ReadUInt32LittleEndian(h);
        int error = BinaryPrimitives.ReadInt32LittleEndian(h[4..]);
        ulong unique = BinaryPrimitives.ReadUInt64LittleEndian(h[8..]);
        if (used < FuseConstants.OutHeaderSize || len != used || unique != slot.Unique)
            throw new InvalidDataException($"queue {_queue.Index}: bad reply to {slot.Opcode}: used {used}, len {len}, unique {unique} (sent {slot.Unique})");
        errno = -error;
        bodyLength = (int)len - FuseConstants.OutHeaderSize;
        return true;
    }

    /// <summary>
    /// Kicks if needed, then waits until at least one request has finished (as virtqueue_enable_cb + sleep: publish
    /// used_event, re-check, poll the call eventfd). The eventfd counter tells how many interrupts were sent.
    /// </summary>
    public void WaitForCompletion(TimeSpan timeout)
    {
        Flush();
        if (SpinTicks > 0)
        {
            // Like a vCPU under KVM's halt polling: look at the used ring for a while before really sleeping.
            long spinUntil = Stopwatch.GetTimestamp() + SpinTicks;
            while (Stopwatch.GetTimestamp() < spinUntil)
            {
                if (_queue.DeviceUsedIndex != _queue.LastUsedIndex) return;
                Thread.SpinWait(8);
            }
        }
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            ushort last = _queue.LastUsedIndex;
            if (_queue.DeviceUsedIndex != last) return;
            if (_queue.EventIdx) Volatile.Write(ref *_usedEvent, last);
            Interlocked.MemoryBarrier(); // used_event must be visible before the re-check (store-load)
            if (_queue.DeviceUsedIndex != last) return;
            long remaining = deadline - Environment.TickCount64;
            if (remaining <= 0)
                throw new TimeoutException($"queue {_queue.Index}: {InFlight} requests got no reply within {timeout.TotalSeconds:0} s " +
                    $"(sent {Requests}, avail idx {_queue.AvailIndex}, device used idx {_queue.DeviceUsedIndex}, reaped {_queue.LastUsedIndex}, " +
                    $"kicks {KicksSent}, interrupts {Interrupts})");
            var pfd = new Libc.pollfd { fd = _queue.CallFd, events = Libc.POLLIN };
            int r = Libc.poll(&pfd, 1, (int)Math.Min(remaining, 1000));
            if (r > 0) CountInterrupts();
        }
    }

    /// <summary>Adds interrupts signalled but not yet read (call at the end of a run).</summary>
    public void CountInterrupts()
    {
        long n = Libc.EventfdRead(_queue.CallFd);
        if (n > 0) Interrupts += n;
    }

    public void ResetCounters()
    {
        CountInterrupts();
        KicksSent = Interrupts = Requests = 0;
    }
}
