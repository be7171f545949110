using System.Buffers.Binary;
using VirtioFs.Backend.Interop;
using VirtioFs.Frontend.Memory;

namespace VirtioFs.Frontend.Virtqueue;

/// <summary>
/// The driver (guest) side of one split virtqueue living in <see cref="GuestRam"/>: it owns the descriptor free list,
/// writes chains and the avail ring, notifies through the kick eventfd and reaps the used ring after waiting on the call
/// eventfd. With EVENT_IDX it behaves like Linux's virtio_ring: kicks only when avail_event asks for it and publishes
/// used_event before sleeping. Not thread-safe: one thread drives one queue.
/// The raw members (<see cref="ReserveDescriptors"/>, <see cref="WriteDescriptor"/>, <see cref="PublishAvail"/>,
/// <see cref="WriteAvailIndex"/>) build whatever a hostile guest would, for backend robustness tests.
/// </summary>
public sealed unsafe class VirtqueueDriver : IDisposable
{
    private const ushort NoFree = 0xFFFF;
    private const ushort UsedFlagNoNotify = 1;

    private readonly GuestRam _ram;
    private readonly SafeFd _kick;
    private readonly SafeFd _call;
    private readonly byte* _desc;
    private readonly byte* _avail;
    private readonly byte* _used;

    // Shadow state: the device could overwrite the descriptor table, so the free list never trusts guest memory.
    private readonly ushort[] _nextFree;
    private readonly ushort[] _chainNext;
    private readonly ushort[] _chainLength;   // 0 = head not owned by an AddChain chain
    private readonly bool[] _inFlight;
    private readonly ulong[] _indirectTable;
    private readonly uint[] _indirectCapacity;
    private ushort _freeHead;
    private int _freeCount;
    private ushort _availIdx;
    private ushort _kickedAvailIdx;
    private ushort _lastUsedIdx;
    private int _inFlightCount;

    public VirtqueueDriver(GuestRam ram, int index, ushort size, bool eventIdx, bool indirectDescriptors)
    {
        if (size == 0 || size > 32768 || (size & (size - 1)) != 0) throw new ArgumentOutOfRangeException(nameof(size), "a power of two up to 32768");
        _ram = ram;
        Index = index;
        Size = size;
        EventIdx = eventIdx;
        IndirectDescriptors = indirectDescriptors;

        DescriptorTableAddress = ram.Allocate((ulong)size * 16, 4096);
        AvailRingAddress = ram.Allocate(6 + 2 * (ulong)size, 4096);
        UsedRingAddress = ram.Allocate(6 + 8 * (ulong)size, 4096);
        _desc = ram.Pointer(DescriptorTableAddress, (ulong)size * 16);
        _avail = ram.Pointer(AvailRingAddress, 6 + 2 * (ulong)size);
        _used = ram.Pointer(UsedRingAddress, 6 + 8 * (ulong)size);

        // Non-blocking like QEMU's event notifiers; the backend shares these open file descriptions.
        _kick = SafeFd.Check(Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK), "eventfd", "kick");
        _call = SafeFd.Check(Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK), "eventfd", "call");

        _nextFree = new ushort[size];
        _chainNext = new ushort[size];
        _chainLength = new ushort[size];
        _inFlight = new bool[size];
        _indirectTable = new ulong[size];
        _indirectCapacity = new uint[size];
        for (int i = 0; i < size; i++) _nextFree[i] = i + 1 < size ? (ushort)(i + 1) : NoFree;
        _freeHead = 0;
        _freeCount = size;
    }

    public int Index { get; }
    public ushort Size { get; }
    public bool EventIdx { get; }
    public bool IndirectDescriptors { get; }
    public ulong DescriptorTableAddress { get; }
    public ulong AvailRingAddress { get; }
    public ulong UsedRingAddress { get; }
    public int KickFd => _kick.Value;
    public int CallFd => _call.Value;
    public int FreeDescriptors => _freeCount;
    public int InFlight => _inFlightCount;
    /// <summary>The driver's avail index (next slot to publish).</summary>
    public ushort AvailIndex => _availIdx;
    /// <summary>How far the driver has consumed the used ring.</summary>
    public ushort LastUsedIndex => _lastUsedIdx;
    /// <summary>The device's used index as currently in guest memory.</summary>
    public ushort DeviceUsedIndex => Volatile.Read(ref *(ushort*)(_used + 2));

    /// <summary>
    /// Writes a chain (readable descriptors first, then writable ones, as the spec requires; the order given is kept, so a
    /// caller can also break that rule) and publishes its head in the avail ring. Call <see cref="Kick"/> afterwards.
    /// </summary>
    public ushort AddChain(ReadOnlySpan<(ulong addr, uint len, bool writable)> descriptors, bool indirect = false)
        => TryAddChain(descriptors, indirect, out ushort head)
            ? head
            : throw new InvalidOperationException($"queue {Index}: {descriptors.Length} descriptors needed, {_freeCount} free; reap used buffers first");

    public bool TryAddChain(ReadOnlySpan<(ulong addr, uint len, bool writable)> descriptors, bool indirect, out ushort head)
    {
        int n = descriptors.Length;
        if (n == 0 || n > Size) throw new ArgumentOutOfRangeException(nameof(descriptors), $"1..{Size} descriptors");
        head = 0;
        if (indirect)
        {
            if (_freeCount < 1) return false;
            head = TakeFree();
            uint bytes = (uint)n * 16;
            if (_indirectCapacity[head] < bytes)
            {
                if (_indirectCapacity[head] != 0) _ram.Free(_indirectTable[head]);
                _indirectTable[head] = _ram.Allocate(bytes, 16);
                _indirectCapacity[head] = bytes;
            }
            Span<byte> table = _ram.GetSpan(_indirectTable[head], bytes);
            for (int i = 0; i < n; i++)
            {
                var d = descriptors[i];
                ushort flags = (ushort)((d.writable ? VirtqDescriptorFlags.Write : 0) | (i + 1 < n ? VirtqDescriptorFlags.Next : 0));
                VirtqDescriptorFlags.Encode(table.Slice(i * 16, 16), d.addr, d.len, flags, (ushort)(i + 1 < n ? i + 1 : 0));
            }
            WriteDescriptor(head, _indirectTable[head], bytes, VirtqDescriptorFlags.Indirect, 0);
            _chainLength[head] = 1;
        }
        else
        {
            if (_freeCount < n) return false;
            head = TakeFree();
            ushort current = head;
            for (int i = 0; i < n; i++)
            {
                var d = descriptors[i];
                ushort next = i + 1 < n ? TakeFree() : (ushort)0;
                ushort flags = (ushort)((d.writable ? VirtqDescriptorFlags.Write : 0) | (i + 1 < n ? VirtqDescriptorFlags.Next : 0));
                WriteDescriptor(current, d.addr, d.len, flags, next);
                _chainNext[current] = next;
                current = next;
            }
            _chainLength[head] = (ushort)n;
        }
        PublishAvail(head);
        return true;
    }

    /// <summary>Takes <paramref name="count"/> descriptor slots out of the free list for raw use; they never return on their own.</summary>
    public ushort[] ReserveDescriptors(int count)
    {
        if (count > _freeCount) throw new InvalidOperationException($"queue {Index}: {count} descriptors wanted, {_freeCount} free");
        var result = new ushort[count];
        for (int i = 0; i < count; i++) result[i] = TakeFree();
        return result;
    }

    /// <summary>Gives raw slots back (only once the device is done with them).</summary>
    public void ReturnDescriptors(ReadOnlySpan<ushort> indices)
    {
        foreach (ushort i in indices) PutFree(i);
    }

    /// <summary>Writes any descriptor at any slot: arbitrary address, length, flags and next (loops, bad indices...).</summary>
    public void WriteDescriptor(ushort index, ulong addr, uint len, ushort flags, ushort next)
    {
        if (index >= Size) throw new ArgumentOutOfRangeException(nameof(index));
        VirtqDescriptorFlags.Encode(new Span<byte>(_desc + index * 16, 16), addr, len, flags, next);
    }

    /// <summary>Puts <paramref name="head"/> in the next avail slot and advances avail->idx (release ordering).</summary>
    public void PublishAvail(ushort head)
    {
        if (head < Size && !_inFlight[head]) { _inFlight[head] = true; _inFlightCount++; }
        ushort slot = (ushort)(_availIdx & (Size - 1));
        *(ushort*)(_avail + 4 + 2 * slot) = head;
        _availIdx = unchecked((ushort)(_availIdx + 1));
        Volatile.Write(ref *(ushort*)(_avail + 2), _availIdx);
    }

    /// <summary>Overwrites avail->idx with any value (e.g. far ahead of the real entries) without touching the ring.</summary>
    public void WriteAvailIndex(ushort value)
    {
        _availIdx = value;
        Volatile.Write(ref *(ushort*)(_avail + 2), value);
    }

    /// <summary>Overwrites one avail ring slot.</summary>
    public void WriteAvailSlot(ushort slot, ushort head)
    {
        if (slot >= Size) throw new ArgumentOutOfRangeException(nameof(slot));
        *(ushort*)(_avail + 4 + 2 * slot) = head;
    }

    /// <summary>
    /// Notifies the device if it asked for it (avail_event with EVENT_IDX, else no VRING_USED_F_NO_NOTIFY), like
    /// virtqueue_kick_prepare. Returns whether the kick eventfd was written.
    /// </summary>
    public bool Kick()
    {
        ushort newIdx = _availIdx, oldIdx = _kickedAvailIdx;
        _kickedAvailIdx = newIdx;
        Interlocked.MemoryBarrier(); // avail->idx must be visible before we read the device's wishes
        bool needed;
        if (EventIdx)
        {
            ushort availEvent = Volatile.Read(ref *(ushort*)(_used + 4 + 8 * Size));
            needed = NeedEvent(availEvent, newIdx, oldIdx);
        }
        else
        {
            needed = (Volatile.Read(ref *(ushort*)_used) & UsedFlagNoNotify) == 0;
        }
        if (needed) ForceKick();
        return needed;
    }

    /// <summary>Writes the kick eventfd regardless of what the device asked for.</summary>
    public void ForceKick()
    {
        _kickedAvailIdx = _availIdx;
        if (!Libc.EventfdSignal(_kick.Value)) throw new ErrnoException("write", Libc.LastErrno, $"kick eventfd of queue {Index}");
    }

    /// <summary>vring_need_event: did the index move past the event index since the last notification?</summary>
    public static bool NeedEvent(ushort eventIdx, ushort newIdx, ushort oldIdx)
        => unchecked((ushort)(newIdx - eventIdx - 1) < (ushort)(newIdx - oldIdx));

    /// <summary>Takes one used element if the device has published one; never blocks.</summary>
    public bool TryTakeUsed(out ushort head, out uint length)
    {
        ushort deviceIdx = DeviceUsedIndex; // acquire: the element is read after the index
        if (deviceIdx == _lastUsedIdx)
        {
            head = 0;
            length = 0;
            return false;
        }
        ushort slot = (ushort)(_lastUsedIdx & (Size - 1));
        byte* elem = _used + 4 + 8 * slot;
        uint id = BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(elem, 4));
        length = BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(elem + 4, 4));
        _lastUsedIdx = unchecked((ushort)(_lastUsedIdx + 1));
        if (EventIdx) Volatile.Write(ref *(ushort*)(_avail + 4 + 2 * Size), _lastUsedIdx);

        // The backend under test is what we are checking: a used id we never made available is its bug, not ours.
        if (id >= Size || !_inFlight[id])
            throw new InvalidDataException($"queue {Index}: backend returned used id {id} (len {length}) that is not in flight");
        head = (ushort)id;
        _inFlight[head] = false;
        _inFlightCount--;
        ReleaseChain(head);
        return true;
    }

    /// <summary>
    /// Waits for the next used element: checks the ring, publishes used_event (EVENT_IDX) so the device will signal,
    /// re-checks, then poll()s the call eventfd. Returns false on timeout.
    /// </summary>
    public bool WaitUsed(TimeSpan timeout, out ushort head, out uint length)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            if (TryTakeUsed(out head, out length)) return true;
            if (EventIdx) Volatile.Write(ref *(ushort*)(_avail + 4 + 2 * Size), _lastUsedIdx);
            Interlocked.MemoryBarrier(); // publish used_event before re-reading used->idx (store-load)
            if (DeviceUsedIndex != _lastUsedIdx) continue;

            long remaining = deadline - Environment.TickCount64;
            if (remaining <= 0) return false;
            Libc.pollfd pfd = new() { fd = _call.Value, events = Libc.POLLIN };
            int r = Libc.poll(&pfd, 1, (int)Math.Min(remaining, int.MaxValue));
            if (r < 0 && Libc.LastErrno != Errno.EINTR) throw new ErrnoException("poll", Libc.LastErrno, $"call eventfd of queue {Index}");
            if (r > 0) Libc.EventfdRead(_call.Value); // reset the counter; EAGAIN is fine
        }
    }

    /// <summary>Reads and resets the call eventfd counter without waiting (0 when nothing was signalled).</summary>
    public long DrainCallCount()
    {
        long value = Libc.EventfdRead(_call.Value);
        return value < 0 ? 0 : value;
    }

    private ushort TakeFree()
    {
        ushort i = _freeHead;
        _freeHead = _nextFree[i];
        _freeCount--;
        return i;
    }

    private void PutFree(ushort i)
    {
        _nextFree[i] = _freeHead;
        _freeHead = i;
        _freeCount++;
    }

    private void ReleaseChain(ushort head)
    {
        int n = _chainLength[head];
        if (n == 0) return; // a raw head: its slots belong to whoever reserved them
        _chainLength[head] = 0;
        ushort current = head;
        for (int i = 0; i < n; i++)
        {
            ushort next = _chainNext[current];
            PutFree(current);
            current = next;
        }
    }

    public void Dispose()
    {
        _kick.Dispose();
        _call.Dispose();
    }
}
