using System.Collections.ObjectModel;

namespace VirtioFs.Backend.Memory;

/// <summary>
/// An immutable snapshot of the guest memory table: translates guest-physical addresses (descriptors) and frontend
/// virtual addresses (SET_VRING_ADDR) to pointers in our address space.
/// <para>
/// Lifetime, without locks: the vhost-user thread builds a new snapshot for every table change (SET_MEM_TABLE,
/// ADD_MEM_REG, REM_MEM_REG) and publishes it; a queue thread calls <see cref="TryAcquire"/> on the current snapshot
/// before it processes a batch and <see cref="Release"/> after. Each snapshot holds a reference on each of its regions,
/// and the creator holds the first reference on the snapshot. When the last reference on a snapshot goes, it releases
/// its regions; a region is unmapped only when no snapshot listing it is left. So a queue that is still working with an
/// old table keeps that table's memory mapped until it lets go.
/// </para>
/// <para>
/// Translation checks the whole range against a single region with overflow-safe arithmetic: the guest chooses both
/// address and length, and a buffer that straddles two regions is refused (regions need not be contiguous in our
/// address space, and QEMU never builds such buffers).
/// </para>
/// </summary>
public sealed unsafe class GuestMemory
{
    /// <summary>One region's range in one address space, sorted by <see cref="Start"/>; <see cref="End"/> is exclusive.</summary>
    private readonly struct AddressRange
    {
        public AddressRange(ulong start, ulong end, byte* host)
        {
            Start = start;
            End = end;
            Host = host;
        }

        public readonly ulong Start;
        public readonly ulong End;
        public readonly byte* Host;
    }

    private readonly MemoryRegion[] _regions;
    private readonly AddressRange[] _byGuest;
    private readonly AddressRange[] _byUser;
    private readonly bool _immortal;
    private int _refs;

    private GuestMemory(MemoryRegion[] regions, AddressRange[] byGuest, AddressRange[] byUser, bool immortal)
    {
        _regions = regions;
        _byGuest = byGuest;
        _byUser = byUser;
        _immortal = immortal;
        _refs = 1;
        Regions = new ReadOnlyCollection<MemoryRegion>(regions);
    }

    /// <summary>The table before the first SET_MEM_TABLE: translates nothing. Acquire/Release on it are no-ops.</summary>
    public static GuestMemory Empty { get; } = new([], [], [], immortal: true);

    /// <summary>The regions, sorted by guest-physical address.</summary>
    public IReadOnlyList<MemoryRegion> Regions { get; }

    /// <summary>True while at least one reference is held (always true for <see cref="Empty"/>).</summary>
    public bool IsAlive => _immortal || Volatile.Read(ref _refs) > 0;

    /// <summary>
    /// Builds a snapshot of <paramref name="regions"/> and takes one reference on each (the caller keeps its own).
    /// The creator holds the snapshot's first reference.
    /// </summary>
    /// <exception cref="ArgumentException">Two regions overlap in guest-physical or in frontend-virtual space, or a
    /// region is already unmapped.</exception>
    public static GuestMemory Create(IReadOnlyList<MemoryRegion> regions)
    {
        ArgumentNullException.ThrowIfNull(regions);
        if (regions.Count == 0) return new GuestMemory([], [], [], immortal: false);

        var sorted = new MemoryRegion[regions.Count];
        for (int i = 0; i < sorted.Length; i++)
        {
            sorted[i] = regions[i] ?? throw new ArgumentException($"Memory region {i} is null.", nameof(regions));
        }
        Array.Sort(sorted, static (a, b) => a.Info.GuestPhysAddr.CompareTo(b.Info.GuestPhysAddr));

        var byGuest = new AddressRange[sorted.Length];
        var byUser = new AddressRange[sorted.Length];
        for (int i = 0; i < sorted.Length; i++)
        {
            MemoryRegion r = sorted[i];
            byGuest[i] = new AddressRange(r.Info.GuestPhysAddr, r.GuestEnd, r.HostAddress);
            byUser[i] = new AddressRange(r.Info.UserAddr, r.UserEnd, r.HostAddress);
        }
        Array.Sort(byUser, static (a, b) => a.Start.CompareTo(b.Start));
        CheckNoOverlap(byGuest, "guest-physical");
        CheckNoOverlap(byUser, "frontend-virtual (user)");

        // Only take references once nothing can fail any more, so a rejected table leaks nothing.
        int taken = 0;
        try
        {
            for (; taken < sorted.Length; taken++)
            {
                if (!sorted[taken].TryAddRef())
                    throw new ArgumentException($"Memory region ({sorted[taken].Info.Describe()}) is already unmapped.", nameof(regions));
            }
        }
        catch
        {
            for (int i = 0; i < taken; i++) sorted[i].Release();
            throw;
        }
        return new GuestMemory(sorted, byGuest, byUser, immortal: false);
    }

    private static void CheckNoOverlap(AddressRange[] sorted, string space)
    {
        for (int i = 1; i < sorted.Length; i++)
        {
            if (sorted[i].Start < sorted[i - 1].End)
                throw new ArgumentException(
                    $"Memory regions overlap in {space} address space: [0x{sorted[i - 1].Start:x}, 0x{sorted[i - 1].End:x}) " +
                    $"and [0x{sorted[i].Start:x}, 0x{sorted[i].End:x}).", "regions");
        }
    }

    /// <summary>ADD_MEM_REG: a new snapshot with this one's regions plus <paramref name="region"/>. This one is unchanged.</summary>
    public GuestMemory WithRegion(MemoryRegion region)
    {
        ArgumentNullException.ThrowIfNull(region);
        var list = new MemoryRegion[_regions.Length + 1];
        _regions.CopyTo(list, 0);
        list[^1] = region;
        return Create(list);
    }

    /// <summary>
    /// REM_MEM_REG: a new snapshot without the region whose guest address, size and user address match
    /// <paramref name="info"/> (the fd offset is not compared: the frontend's fd for the removal is a different fd).
    /// Always returns a new snapshot, also when nothing matched (<paramref name="found"/> false, same regions), so a
    /// caller that swaps snapshots unconditionally never releases one that is still in use.
    /// </summary>
    public GuestMemory WithoutRegion(MemoryRegionInfo info, out bool found)
    {
        var list = new List<MemoryRegion>(_regions.Length);
        found = false;
        foreach (MemoryRegion r in _regions)
        {
            if (!found && r.Info.GuestPhysAddr == info.GuestPhysAddr && r.Info.Size == info.Size && r.Info.UserAddr == info.UserAddr)
            {
                found = true;
                continue;
            }
            list.Add(r);
        }
        return Create(list);
    }

    /// <summary>Takes a reference for a batch of work; false if the snapshot was already fully released.</summary>
    public bool TryAcquire()
    {
        if (_immortal) return true;
        int current = Volatile.Read(ref _refs);
        while (current > 0)
        {
            int seen = Interlocked.CompareExchange(ref _refs, current + 1, current);
            if (seen == current) return true;
            current = seen;
        }
        return false;
    }

    /// <summary>Drops a reference; the last one releases the references on the regions (which may unmap them).</summary>
    public void Release()
    {
        if (_immortal) return;
        int left = Interlocked.Decrement(ref _refs);
        if (left > 0) return;
        if (left < 0)
        {
            Interlocked.Increment(ref _refs);
            throw new InvalidOperationException("GuestMemory.Release called more often than TryAcquire.");
        }
        foreach (MemoryRegion r in _regions) r.Release();
    }

    /// <summary>
    /// Translates the guest-physical range [guestAddr, guestAddr + length) if it lies inside one region.
    /// A zero length still needs guestAddr inside a region.
    /// </summary>
    public bool TryTranslate(ulong guestAddr, ulong length, out byte* host) => Translate(_byGuest, guestAddr, length, out host);

    /// <summary>Same as <see cref="TryTranslate"/> for frontend virtual addresses (the ring addresses of SET_VRING_ADDR).</summary>
    public bool TryTranslateUser(ulong userAddr, ulong length, out byte* host) => Translate(_byUser, userAddr, length, out host);

    private static bool Translate(AddressRange[] spans, ulong addr, ulong length, out byte* host)
    {
        // Binary search for the last span starting at or below addr. Spans never overlap, so it is the only candidate.
        int lo = 0, hi = spans.Length - 1, found = -1;
        while (lo <= hi)
        {
            int mid = lo + ((hi - lo) >> 1);
            if (spans[mid].Start <= addr)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        if (found >= 0)
        {
            ref readonly AddressRange s = ref spans[found];
            // addr >= Start is known; addr < End makes End - addr a positive room that cannot underflow, and comparing
            // length to the room (instead of adding addr + length) cannot overflow whatever the guest wrote.
            if (addr < s.End && length <= s.End - addr)
            {
                host = s.Host + (addr - s.Start);
                return true;
            }
        }
        host = null;
        return false;
    }

    public override string ToString() => $"GuestMemory({_regions.Length} regions)";
}
