using VirtioFs.Backend.Memory;
using VirtioFs.Backend.Virtqueue;
using VirtioFs.Tests.Memory;

namespace VirtioFs.Tests.Virtqueue;

/// <summary>
/// The driver (guest) side of a split virtqueue, for tests: a memfd-backed guest region mapped through
/// <see cref="MemoryRegion"/>, with the three rings and a data area in it. It writes descriptors and avail entries and
/// reads the used ring with its own byte offsets (deliberately not the production layout constants), so a layout
/// mistake in <see cref="SplitQueue"/> shows up as a failing test.
/// <code>
/// guest 0x4000_0000: desc table (16 * N) | avail (6 + 2N, at 16 * N) | pad | used (6 + 8N, 4 KiB aligned) | pad | data
/// </code>
/// Optionally a second region follows directly in guest-physical space (but elsewhere in ours), to test buffers that
/// cross a region boundary.
/// </summary>
internal sealed unsafe class TestRingDriver : IDisposable
{
    public const ulong GuestBase = 0x4000_0000;
    public const ulong UserBase = 0x7f12_3400_0000;   // where "QEMU" has the region mapped; arbitrary
    public const ulong MemorySize = 4 << 20;
    public const ulong MmapOffset = 0x3000;            // the region starts inside the fd, as with QEMU's RAM above 4 GiB
    public const ulong SecondUserBase = 0x7f55_0000_0000;

    public const ushort Next = 1, Write = 2, Indirect = 4;

    private readonly List<MemoryRegion> _regions = [];
    private ulong _dataNext;
    private bool _disposed;

    public TestRingDriver(ushort size, bool secondRegion = false, ulong secondRegionSize = 0x10000)
    {
        Size = size;
        _regions.Add(TestMemfd.MapNew(new MemoryRegionInfo(GuestBase, MemorySize, UserBase, MmapOffset), "virtiofs-ring"));
        if (secondRegion)
            _regions.Add(TestMemfd.MapNew(new MemoryRegionInfo(GuestBase + MemorySize, secondRegionSize, SecondUserBase, 0), "virtiofs-ring2"));
        Memory = GuestMemory.Create(_regions);

        DescGpa = GuestBase;
        AvailGpa = DescGpa + 16UL * size;
        UsedGpa = AlignUp(AvailGpa + 6 + 2UL * size, 4096);
        _dataNext = AlignUp(UsedGpa + 6 + 8UL * size, 4096);
        if (_dataNext >= GuestBase + MemorySize / 2) throw new ArgumentOutOfRangeException(nameof(size), "rings too large for the test memory");
    }

    public ushort Size { get; }

    /// <summary>The snapshot this driver created (the test owns its first reference; Dispose releases it).</summary>
    public GuestMemory Memory { get; }

    public MemoryRegion Region => _regions[0];

    public ulong DescGpa { get; }
    public ulong AvailGpa { get; }
    public ulong UsedGpa { get; }

    public ulong DescUser => ToUser(DescGpa);
    public ulong AvailUser => ToUser(AvailGpa);
    public ulong UsedUser => ToUser(UsedGpa);

    /// <summary>First guest address after the first region (start of the second one if there is one).</summary>
    public static ulong FirstRegionEnd => GuestBase + MemorySize;

    public static ulong ToUser(ulong gpa) => UserBase + (gpa - GuestBase);

    private static ulong AlignUp(ulong value, ulong align) => (value + align - 1) & ~(align - 1);

    /// <summary>Host pointer for a guest address in the first region (test-side translation, independent of GuestMemory).</summary>
    public byte* Host(ulong gpa)
    {
        if (gpa < GuestBase || gpa >= GuestBase + MemorySize) throw new ArgumentOutOfRangeException(nameof(gpa));
        return Region.HostAddress + (gpa - GuestBase);
    }

    /// <summary>Allocates a data buffer in the upper half of the region and fills it with a recognisable byte.</summary>
    public ulong Alloc(uint length, ulong align = 8, byte fill = 0xcc)
    {
        ulong gpa = AlignUp(_dataNext, align);
        _dataNext = gpa + Math.Max(length, 1u);
        if (_dataNext > GuestBase + MemorySize) throw new InvalidOperationException("test memory exhausted");
        new Span<byte>(Host(gpa), (int)length).Fill(fill);
        return gpa;
    }

    /// <summary>Writes descriptor <paramref name="index"/> of the main table.</summary>
    public void SetDesc(int index, ulong addr, uint len, ushort flags = 0, ushort next = 0)
        => WriteDesc(Host(DescGpa) + 16 * index, addr, len, flags, next);

    public static void WriteDesc(byte* p, ulong addr, uint len, ushort flags, ushort next)
    {
        *(ulong*)p = addr;
        *(uint*)(p + 8) = len;
        *(ushort*)(p + 12) = flags;
        *(ushort*)(p + 14) = next;
    }

    /// <summary>Writes an indirect table at a fresh address (optionally misaligned by <paramref name="skew"/>) and returns it.</summary>
    public ulong WriteIndirectTable(IReadOnlyList<(ulong Addr, uint Len, ushort Flags, ushort Next)> entries, ulong skew = 0)
    {
        ulong gpa = Alloc((uint)(16 * entries.Count + (int)skew), 16) + skew;
        for (int i = 0; i < entries.Count; i++)
            WriteDesc(Host(gpa) + 16 * i, entries[i].Addr, entries[i].Len, entries[i].Flags, entries[i].Next);
        return gpa;
    }

    /// <summary>
    /// Builds a chain of fresh buffers in descriptors first, first+1, ...: readable ones (Write false) then writable
    /// ones, as a well-behaved driver does. Returns the buffers' guest addresses.
    /// </summary>
    public ulong[] MakeChain(int first, params (uint Len, bool Write)[] parts)
    {
        var addrs = new ulong[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            addrs[i] = Alloc(parts[i].Len);
            ushort flags = (ushort)((parts[i].Write ? Write : 0) | (i + 1 < parts.Length ? Next : 0));
            SetDesc(first + i, addrs[i], parts[i].Len, flags, (ushort)(first + i + 1));
        }
        return addrs;
    }

    // avail: flags @0, idx @2, ring @4, used_event @4 + 2N
    public ushort AvailFlags
    {
        get => *(ushort*)Host(AvailGpa);
        set => *(ushort*)Host(AvailGpa) = value;
    }

    public ushort AvailIdx
    {
        get => Volatile.Read(ref *(ushort*)Host(AvailGpa + 2));
        set => Volatile.Write(ref *(ushort*)Host(AvailGpa + 2), value);
    }

    public void SetAvailRing(int slot, ushort head) => *(ushort*)Host(AvailGpa + 4 + 2UL * (ulong)slot) = head;

    public ushort UsedEvent
    {
        get => *(ushort*)Host(AvailGpa + 4 + 2UL * Size);
        set => Volatile.Write(ref *(ushort*)Host(AvailGpa + 4 + 2UL * Size), value);
    }

    /// <summary>Makes the chain starting at <paramref name="head"/> available: ring entry, then (release) idx + 1.</summary>
    public void Offer(ushort head)
    {
        ushort idx = AvailIdx;
        SetAvailRing(idx % Size, head);
        AvailIdx = unchecked((ushort)(idx + 1));
    }

    // used: flags @0, idx @2, ring {u32 id, u32 len} @4, avail_event @4 + 8N
    public ushort UsedFlags
    {
        get => Volatile.Read(ref *(ushort*)Host(UsedGpa));
        set => *(ushort*)Host(UsedGpa) = value;
    }

    public ushort UsedIdx
    {
        get => Volatile.Read(ref *(ushort*)Host(UsedGpa + 2));
        set => *(ushort*)Host(UsedGpa + 2) = value;
    }

    public (uint Id, uint Len) Used(int slot)
    {
        byte* e = Host(UsedGpa + 4 + 8UL * (ulong)slot);
        return (*(uint*)e, *(uint*)(e + 4));
    }

    public ushort AvailEvent => Volatile.Read(ref *(ushort*)Host(UsedGpa + 4 + 8UL * Size));

    /// <summary>A queue configured for this ring (size, addresses) and, unless told otherwise, attached.</summary>
    public SplitQueue CreateQueue(bool attach = true, bool indirect = true, bool eventIdx = false, ushort nextAvail = 0)
    {
        var queue = new SplitQueue(1);
        queue.SetSize(Size);
        queue.SetRingAddresses(DescUser, UsedUser, AvailUser, 0, 0);
        queue.IndirectDescriptors = indirect;
        queue.EventIdx = eventIdx;
        queue.NextAvail = nextAvail;
        if (attach) queue.Attach(Memory);
        return queue;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Memory.Release();
        foreach (MemoryRegion r in _regions) r.Release();
    }
}
