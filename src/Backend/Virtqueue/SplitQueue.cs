using System.Runtime.CompilerServices;
using VirtioFs.Backend.Memory;
using static VirtioFs.Backend.Virtqueue.SplitRing;

namespace VirtioFs.Backend.Virtqueue;

/// <summary>
/// The device side of one split virtqueue (virtio 1.x, 2.7).
/// <para>
/// Threading: the vhost-user thread configures the queue (size, ring addresses, base index, features) while it is
/// stopped and then calls <see cref="Attach"/>; from then on exactly one queue thread drives it (TryPop, AddUsed,
/// PublishUsed, notifications) until it has stopped and the vhost-user thread calls <see cref="Detach"/>. There are
/// no locks: the handover between the two threads is the caller's (thread start/join or an equivalent barrier).
/// </para>
/// <para>
/// Everything in the rings is written by the guest, concurrently and possibly with hostile intent: avail->idx,
/// avail->ring[], every descriptor, used_event. Each value is read once into a local and checked before use. A bad
/// chain costs the guest that request (<see cref="PopResult.BadChain"/>); a ring that makes no sense at all stops the
/// queue (<see cref="PopResult.BrokenRing"/>); nothing the guest writes makes us touch memory outside its regions,
/// loop forever, or allocate.
/// </para>
/// </summary>
public sealed unsafe class SplitQueue
{
    // Static reasons for LastChainError: assigning a literal allocates nothing.
    private const string ErrAvailIdx = "avail->idx is more than the queue size ahead of the device (driver claims buffers that cannot exist)";
    private const string ErrHeadOutOfRange = "avail->ring[] holds a head index >= queue size";
    private const string ErrTooLong = "descriptor chain longer than the queue size (loop?)";
    private const string ErrNextOutOfRange = "descriptor next index out of range";
    private const string ErrOutsideMemory = "descriptor buffer is not inside one guest memory region";
    private const string ErrReadableAfterWritable = "device-readable descriptor after a device-writable one";
    private const string ErrReadableFull = "too many device-readable descriptors for the segment list";
    private const string ErrWritableFull = "too many device-writable descriptors for the segment list";
    private const string ErrIndirectNotNegotiated = "INDIRECT descriptor but VIRTIO_RING_F_INDIRECT_DESC was not negotiated";
    private const string ErrIndirectWithNext = "INDIRECT descriptor also has NEXT set";
    private const string ErrNestedIndirect = "INDIRECT descriptor inside an indirect table";
    private const string ErrIndirectLength = "indirect table length is zero or not a multiple of 16";
    private const string ErrIndirectOutsideMemory = "indirect table is not inside one guest memory region";

    private const string NotAttached = "The virtqueue is not attached to guest memory.";

    private readonly ushort _maxSize;
    private ushort _size;
    private ushort _nextAvail;

    private GuestMemory? _memory;
    private byte* _desc;
    private byte* _avail;
    private byte* _used;

    private ushort _usedIdx;          // next used->ring slot to fill (free-running)
    private ushort _publishedUsed;    // value last stored in used->idx
    private bool _usedPending;        // AddUsed since the last PublishUsed
    private bool _signalledUsedValid; // false until the first notification decision after Attach

    public SplitQueue(int index, ushort maxSize = 32768)
    {
        // The rings are little-endian and we read them with native loads.
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Virtqueues need a little-endian host.");
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        if (maxSize == 0 || (maxSize & (maxSize - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(maxSize), maxSize, "The maximum queue size must be a power of two.");
        Index = index;
        _maxSize = maxSize;
    }

    public int Index { get; }

    /// <summary>Largest size <see cref="SetSize"/> accepts (what GET_QUEUE_NUM-era frontends may configure).</summary>
    public ushort MaxSize => _maxSize;

    /// <summary>Number of descriptors (SET_VRING_NUM); 0 until set.</summary>
    public ushort Size => _size;

    /// <summary>Ring addresses from SET_VRING_ADDR, in the frontend's virtual address space.</summary>
    public ulong DescUserAddr { get; private set; }

    public ulong UsedUserAddr { get; private set; }

    public ulong AvailUserAddr { get; private set; }

    /// <summary>Guest-physical address of the used ring for dirty logging (valid when <see cref="LogUsed"/>).</summary>
    public ulong LogGuestAddr { get; private set; }

    /// <summary>vhost_vring_addr.flags as received.</summary>
    public uint RingFlags { get; private set; }

    /// <summary>VHOST_VRING_F_LOG: used-ring writes should be logged (migration; logging itself is not done here).</summary>
    public bool LogUsed => (RingFlags & VHOST_VRING_F_LOG) != 0;

    /// <summary>Next avail->ring[] slot the device will consume (SET_VRING_BASE / GET_VRING_BASE).</summary>
    public ushort NextAvail
    {
        get => _nextAvail;
        set
        {
            ThrowIfAttached("SET_VRING_BASE");
            _nextAvail = value;
        }
    }

    /// <summary>VIRTIO_RING_F_EVENT_IDX negotiated: use used_event/avail_event instead of the flag bits.</summary>
    public bool EventIdx { get; set; }

    /// <summary>VIRTIO_RING_F_INDIRECT_DESC negotiated: descriptors may point to indirect tables.</summary>
    public bool IndirectDescriptors { get; set; }

    public bool IsAttached => _desc != null;

    /// <summary>The memory snapshot descriptors are translated with (no reference is held by the queue).</summary>
    public GuestMemory? Memory => _memory;

    /// <summary>Next used index the device will write; equals used->idx right after <see cref="PublishUsed"/>.</summary>
    public ushort UsedIndex => _usedIdx;

    /// <summary>The value last stored in used->idx.</summary>
    public ushort PublishedUsedIndex => _publishedUsed;

    /// <summary>Why the last <see cref="TryPop"/> returned BadChain or BrokenRing (a static string).</summary>
    public string? LastChainError { get; private set; }

    /// <summary>SET_VRING_NUM.</summary>
    /// <exception cref="VirtqueueException">Not a power of two in 1..MaxSize, or the queue is running.</exception>
    public void SetSize(uint size)
    {
        ThrowIfAttached("SET_VRING_NUM");
        // The frontend chooses the size; ring offsets and index masks rely on a power of two no larger than the max.
        if (size == 0 || size > _maxSize || (size & (size - 1)) != 0)
            throw new VirtqueueException($"Queue {Index}: size {size} is not a power of two between 1 and {_maxSize}.");
        _size = (ushort)size;
    }

    /// <summary>SET_VRING_ADDR: stores the addresses; <see cref="Attach"/> translates and checks them.</summary>
    public void SetRingAddresses(ulong descUser, ulong usedUser, ulong availUser, ulong logGuestAddr, uint flags)
    {
        ThrowIfAttached("SET_VRING_ADDR");
        DescUserAddr = descUser;
        UsedUserAddr = usedUser;
        AvailUserAddr = availUser;
        LogGuestAddr = logGuestAddr;
        RingFlags = flags;
    }

    /// <summary>
    /// Starts the queue on <paramref name="memory"/>: translates the three rings (full sizes, each inside one region,
    /// aligned as the spec requires), remembers the memory for descriptor translation, and takes the used index from
    /// used->idx (as libvhost-user and the kernel's vhost do, so a restarted queue continues where the ring is).
    /// Does not take a reference on <paramref name="memory"/>: the caller keeps one for as long as the queue uses it.
    /// </summary>
    /// <exception cref="VirtqueueException">Size not set, or a ring outside guest memory or misaligned.</exception>
    public void Attach(GuestMemory memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ThrowIfAttached("attach");
        TranslateRings(memory, out byte* desc, out byte* avail, out byte* used);
        _memory = memory;
        _desc = desc;
        _avail = avail;
        _used = used;
        _usedIdx = Volatile.Read(ref *(ushort*)(used + UsedIdxOffset));
        _publishedUsed = _usedIdx;
        _usedPending = false;
        _signalledUsedValid = false;
        LastChainError = null;
    }

    /// <summary>
    /// For the queue thread, between batches: switch a running queue to a newer memory table (after ADD_MEM_REG,
    /// REM_MEM_REG or SET_MEM_TABLE), re-translating the rings and keeping every index. On failure the queue keeps
    /// the old table.
    /// </summary>
    /// <exception cref="VirtqueueException">A ring is not inside the new table.</exception>
    public void UpdateMemory(GuestMemory memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        if (!IsAttached) throw new InvalidOperationException(NotAttached);
        TranslateRings(memory, out byte* desc, out byte* avail, out byte* used);
        _memory = memory;
        _desc = desc;
        _avail = avail;
        _used = used;
    }

    /// <summary>
    /// Stops using guest memory, after the queue thread has stopped. Indices (NextAvail, UsedIndex) are kept for
    /// GET_VRING_BASE. Publish first: entries added with AddUsed but not published are never seen by the driver.
    /// </summary>
    public void Detach()
    {
        _desc = null;
        _avail = null;
        _used = null;
        _memory = null;
    }

    private void TranslateRings(GuestMemory memory, out byte* desc, out byte* avail, out byte* used)
    {
        if (_size == 0) throw new VirtqueueException($"Queue {Index}: the ring size was never set (SET_VRING_NUM).");
        desc = TranslateRing(memory, "descriptor table", DescUserAddr, DescTableBytes(_size), DescAlign);
        avail = TranslateRing(memory, "available ring", AvailUserAddr, AvailRingBytes(_size), AvailAlign);
        used = TranslateRing(memory, "used ring", UsedUserAddr, UsedRingBytes(_size), UsedAlign);
    }

    private byte* TranslateRing(GuestMemory memory, string part, ulong userAddr, ulong length, int align)
    {
        // The frontend supplies these addresses; a ring that straddles regions or leaves them is refused here, so
        // every later ring access (offsets below Size) stays inside the mapping.
        if (!memory.TryTranslateUser(userAddr, length, out byte* host))
            throw new VirtqueueException(
                $"Queue {Index}: {part} at user address 0x{userAddr:x} ({length} bytes for size {_size}) is not inside one memory region.");
        // Alignment makes our 16- and 32-bit ring accesses single, atomic loads and stores.
        if (userAddr % (ulong)align != 0 || (ulong)host % (ulong)align != 0)
            throw new VirtqueueException(
                $"Queue {Index}: {part} at user address 0x{userAddr:x} is not {align}-byte aligned.");
        return host;
    }

    private void ThrowIfAttached(string what)
    {
        if (IsAttached) throw new VirtqueueException($"Queue {Index}: {what} while the queue is running.");
    }

    /// <summary>
    /// Takes the next available descriptor chain, if any, and fills <paramref name="readable"/> and
    /// <paramref name="writable"/> (cleared first) with its device-readable and device-writable buffers.
    /// On <see cref="PopResult.Chain"/> and <see cref="PopResult.BadChain"/>, <paramref name="head"/> is the chain's
    /// id for <see cref="AddUsed"/>; on BadChain both lists are left empty.
    /// </summary>
    public PopResult TryPop(SegmentList readable, SegmentList writable, out ushort head)
    {
        head = 0;
        readable.Clear();
        writable.Clear();
        byte* avail = _avail;
        if (avail == null) throw new InvalidOperationException(NotAttached);

        // Acquire: the ring entries and descriptors the driver wrote before bumping idx are visible after this load.
        ushort availIdx = Volatile.Read(ref *(ushort*)(avail + AvailIdxOffset));
        ushort pending = unchecked((ushort)(availIdx - _nextAvail));
        if (pending == 0) return PopResult.Empty;
        // The driver can never have more than Size buffers outstanding; anything else is a lie about avail->idx.
        if (pending > _size) return Broken(ErrAvailIdx);

        int slot = _nextAvail & (_size - 1);
        ushort h = *(ushort*)(avail + AvailRingOffset + 2 * slot); // read once: the guest may change it right after
        if (h >= _size) return Broken(ErrHeadOutOfRange);

        head = h;
        _nextAvail = unchecked((ushort)(_nextAvail + 1));
        string? error = WalkChain(h, readable, writable);
        if (error is null) return PopResult.Chain;

        readable.Clear();
        writable.Clear();
        LastChainError = error;
        return PopResult.BadChain;
    }

    /// <summary>
    /// How many chains the driver has made available that <see cref="TryPop"/> has not taken yet, as a hint for
    /// scheduling (inline or worker pool). The guest writes avail->idx and may lie: the answer is clamped to the queue
    /// size and never used for anything but the choice; TryPop checks every chain itself.
    /// </summary>
    public int PeekAvailable()
    {
        byte* avail = _avail;
        if (avail == null) throw new InvalidOperationException(NotAttached);
        ushort availIdx = Volatile.Read(ref *(ushort*)(avail + AvailIdxOffset));
        int pending = unchecked((ushort)(availIdx - _nextAvail));
        return Math.Min(pending, (int)_size);
    }

    private PopResult Broken(string reason)
    {
        LastChainError = reason;
        return PopResult.BrokenRing;
    }

    /// <summary>
    /// Follows one chain. Termination: every plain descriptor uses up one unit of a budget of Size, and the only other
    /// step (entering an indirect table) can happen once per chain, so a chain the guest turned into a loop ends with
    /// ErrTooLong after at most Size + 1 reads.
    /// </summary>
    private string? WalkChain(ushort head, SegmentList readable, SegmentList writable)
    {
        GuestMemory memory = _memory!;
        byte* table = _desc;
        uint tableEntries = _size;
        bool inIndirect = false;
        bool seenWritable = false;
        uint budget = _size;
        uint i = head;

        while (true)
        {
            // One copy of the descriptor; every check and use below works on the copy. The .NET memory model forbids
            // the JIT to introduce a second read of the same location. Unaligned read: indirect tables are placed by
            // the guest and the spec gives them no alignment.
            VringDesc d = Unsafe.ReadUnaligned<VringDesc>(table + (ulong)i * DescSize);

            if ((d.Flags & VRING_DESC_F_INDIRECT) != 0)
            {
                if (!IndirectDescriptors) return ErrIndirectNotNegotiated;
                if (inIndirect) return ErrNestedIndirect;
                if ((d.Flags & VRING_DESC_F_NEXT) != 0) return ErrIndirectWithNext;
                if (d.Len == 0 || d.Len % DescSize != 0) return ErrIndirectLength;
                if (!memory.TryTranslate(d.Addr, d.Len, out byte* indirect)) return ErrIndirectOutsideMemory;
                // The WRITE flag of the indirect descriptor itself is ignored (2.7.5.3.2). The table may hold more
                // entries than Size; the budget still bounds how many we follow.
                table = indirect;
                tableEntries = d.Len / DescSize;
                inIndirect = true;
                i = 0;
                continue;
            }

            if (budget == 0) return ErrTooLong;
            budget--;

            // Zero-length descriptors carry no data; they are skipped (but still count against the budget above).
            if (d.Len != 0)
            {
                if (!memory.TryTranslate(d.Addr, d.Len, out byte* buffer)) return ErrOutsideMemory;
                if ((d.Flags & VRING_DESC_F_WRITE) != 0)
                {
                    seenWritable = true;
                    if (!writable.TryAdd(buffer, d.Len)) return ErrWritableFull;
                }
                else
                {
                    // 2.7.4.2: device-readable buffers come first; the FUSE layer relies on the split.
                    if (seenWritable) return ErrReadableAfterWritable;
                    if (!readable.TryAdd(buffer, d.Len)) return ErrReadableFull;
                }
            }

            if ((d.Flags & VRING_DESC_F_NEXT) == 0) return null;
            if (d.Next >= tableEntries) return ErrNextOutOfRange;
            i = d.Next;
        }
    }

    /// <summary>
    /// Writes used->ring[UsedIndex % Size] = {head, length} and advances UsedIndex; the driver sees it only after
    /// <see cref="PublishUsed"/>. <paramref name="head"/> must come from <see cref="TryPop"/>.
    /// </summary>
    public void AddUsed(ushort head, uint length)
    {
        byte* used = _used;
        if (used == null) throw new InvalidOperationException(NotAttached);
        if (head >= _size) throw new ArgumentOutOfRangeException(nameof(head), head, "A used head must be below the queue size.");
        // A hostile driver may offer the same head many times, so more than Size entries can pile up before a
        // publish; the slot index is masked, so that only overwrites the guest's own unread entries.
        byte* elem = used + UsedRingOffset + UsedElemSize * (_usedIdx & (_size - 1));
        *(uint*)elem = head;
        *(uint*)(elem + 4) = length;
        _usedIdx = unchecked((ushort)(_usedIdx + 1));
        _usedPending = true;
    }

    /// <summary>
    /// Makes the entries added since the last call visible (release store of used->idx) and says whether the driver
    /// wants an interrupt: with EVENT_IDX if used_event lies in (old, new] (vring_need_event), otherwise if
    /// avail->flags lacks VRING_AVAIL_F_NO_INTERRUPT. The first decision after <see cref="Attach"/> always notifies,
    /// as in libvhost-user and vhost, so nothing is lost across a restart. False if nothing was added.
    /// </summary>
    public bool PublishUsed()
    {
        if (!_usedPending) return false;
        byte* used = _used;
        byte* avail = _avail;
        if (used == null) throw new InvalidOperationException(NotAttached);
        _usedPending = false;

        ushort old = _publishedUsed;
        ushort now = _usedIdx;
        // Release: the ring entries written by AddUsed become visible no later than the new index.
        Volatile.Write(ref *(ushort*)(used + UsedIdxOffset), now);
        _publishedUsed = now;

        // Store-load fence: the index store must be visible before we read the driver's wishes, pairing with the
        // driver's barrier between writing used_event/flags and re-checking used->idx. Without it both sides can miss
        // each other and the guest waits forever for an interrupt.
        Interlocked.MemoryBarrier();

        if (!EventIdx)
            return (Volatile.Read(ref *(ushort*)(avail + AvailFlagsOffset)) & VRING_AVAIL_F_NO_INTERRUPT) == 0;

        ushort usedEvent = Volatile.Read(ref *(ushort*)(avail + UsedEventOffset(_size)));
        bool valid = _signalledUsedValid;
        _signalledUsedValid = true;
        return !valid || NeedEvent(usedEvent, now, old);
    }

    /// <summary>Asks the driver not to kick while we are busy (without EVENT_IDX; with it there is nothing to do).</summary>
    public void DisableNotifications()
    {
        byte* used = _used;
        if (used == null) throw new InvalidOperationException(NotAttached);
        if (!EventIdx) Volatile.Write(ref *(ushort*)(used + UsedFlagsOffset), VRING_USED_F_NO_NOTIFY);
    }

    /// <summary>
    /// Asks the driver to kick again (EVENT_IDX: avail_event = NextAvail; otherwise clear NO_NOTIFY), then re-reads
    /// avail->idx after a full fence. True means buffers arrived while notifications were off, and the caller must
    /// process them itself: the driver may have checked our flag before we cleared it and will not kick for them.
    /// </summary>
    public bool EnableNotifications() => EnableNotifications(1);

    /// <summary>
    /// Like <see cref="EnableNotifications()"/>, but with EVENT_IDX asks for a kick only when the driver makes the
    /// <paramref name="batch"/>-th new buffer available (avail_event = NextAvail + batch - 1; the spec lets the device
    /// pick any index). True when at least <paramref name="batch"/> buffers are available already. Without EVENT_IDX
    /// there is no way to ask for that, and this is <see cref="EnableNotifications()"/>.
    /// </summary>
    public bool EnableNotifications(ushort batch)
    {
        byte* used = _used;
        byte* avail = _avail;
        if (used == null) throw new InvalidOperationException(NotAttached);
        if (batch < 1 || batch > _size) throw new ArgumentOutOfRangeException(nameof(batch), batch, "A batch is 1 to the queue size.");
        if (!EventIdx) batch = 1;
        if (EventIdx)
            Volatile.Write(ref *(ushort*)(used + AvailEventOffset(_size)), unchecked((ushort)(_nextAvail + batch - 1)));
        else
            Volatile.Write(ref *(ushort*)(used + UsedFlagsOffset), (ushort)0);

        // Store-load fence, the lost-wakeup guard: our store must be visible before we look at avail->idx again.
        Interlocked.MemoryBarrier();
        return unchecked((ushort)(Volatile.Read(ref *(ushort*)(avail + AvailIdxOffset)) - _nextAvail)) >= batch;   // indices wrap
    }

    public override string ToString() => $"SplitQueue({Index}, size {_size}, next avail {_nextAvail}, used {_usedIdx})";
}
