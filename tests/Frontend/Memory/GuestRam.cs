using VirtioFs.Backend.Interop;

namespace VirtioFs.Frontend.Memory;

/// <summary>
/// The "guest RAM" of the test frontend: one memfd mapped shared into this process and split into
/// <see cref="Regions"/> that appear at distinct guest-physical addresses, with a gap between them so that a buffer can
/// never silently run from one region into the next. Guest buffers come from a small first-fit allocator; nothing here
/// is on a per-request path (the FUSE client and the rings allocate once).
/// </summary>
public sealed unsafe class GuestRam : IDisposable
{
    private readonly byte* _base;
    private readonly ulong _size;
    private readonly SafeFd _memfd;
    private readonly GuestRegion[] _regions;
    private readonly RegionAllocator[] _allocators;
    private readonly Dictionary<ulong, ulong> _allocations = new();
    private readonly Lock _lock = new();

    private GuestRam(SafeFd memfd, byte* mapping, ulong size, GuestRegion[] regions)
    {
        _memfd = memfd;
        _base = mapping;
        _size = size;
        _regions = regions;
        _allocators = regions.Select(r => new RegionAllocator(r.GuestPhysicalAddress, r.Size)).ToArray();
    }

    /// <summary>
    /// Creates a memfd of <paramref name="size"/> bytes split into <paramref name="regionCount"/> equal regions; region i
    /// starts at <paramref name="guestPhysicalBase"/> + i * (regionSize + <paramref name="regionGap"/>).
    /// </summary>
    public static GuestRam Create(ulong size, int regionCount = 1, ulong guestPhysicalBase = 0, ulong regionGap = 0x4000_0000)
    {
        const ulong page = 4096;
        if (regionCount < 1 || regionCount > 8) throw new ArgumentOutOfRangeException(nameof(regionCount), "1..8 regions");
        if (size == 0 || size % ((ulong)regionCount * page) != 0)
            throw new ArgumentException($"size {size} must be a non-zero multiple of {regionCount} pages", nameof(size));

        var memfd = SafeFd.Check(Libc.memfd_create("virtiofs-frontend-guest-ram", Libc.MFD_CLOEXEC), "memfd_create");
        try
        {
            if (Libc.ftruncate(memfd.Value, checked((long)size)) != 0)
                throw new ErrnoException("ftruncate", Libc.LastErrno, "guest RAM memfd");
            void* p = Libc.mmap(null, (nuint)size, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, memfd.Value, 0);
            // Not Libc.MAP_FAILED: its initializer, (void*)-1, overflows under CheckForOverflowUnderflow and would break
            // Libc's type initializer (reported; Backend's file is not ours to change).
            if ((nint)p == -1) throw new ErrnoException("mmap", Libc.LastErrno, "guest RAM memfd");

            ulong regionSize = size / (ulong)regionCount;
            var regions = new GuestRegion[regionCount];
            for (int i = 0; i < regionCount; i++)
            {
                ulong offset = regionSize * (ulong)i;
                ulong gpa = checked(guestPhysicalBase + (ulong)i * (regionSize + regionGap));
                regions[i] = new GuestRegion(gpa, regionSize, (ulong)p + offset, offset);
            }
            return new GuestRam(memfd, (byte*)p, size, regions);
        }
        catch
        {
            memfd.Dispose();
            throw;
        }
    }

    public IReadOnlyList<GuestRegion> Regions => _regions;
    public ulong Size => _size;

    /// <summary>The memfd, passed to the backend with SCM_RIGHTS; stays owned by this object.</summary>
    public int Fd => _memfd.Value;

    /// <summary>Allocates <paramref name="size"/> bytes inside one region (zero-filled). Throws when no region has room.</summary>
    public ulong Allocate(ulong size, ulong alignment = 64)
    {
        if (size == 0) size = 1;
        if (alignment == 0 || (alignment & (alignment - 1)) != 0) throw new ArgumentException("alignment must be a power of two");
        lock (_lock)
        {
            foreach (var allocator in _allocators)
            {
                if (allocator.TryAllocate(size, alignment, out ulong gpa))
                {
                    _allocations.Add(gpa, size);
                    GetSpan(gpa, size).Clear();
                    return gpa;
                }
            }
        }
        throw new InsufficientMemoryException($"guest RAM: no region has {size} free bytes aligned to {alignment}");
    }

    public void Free(ulong gpa)
    {
        lock (_lock)
        {
            if (!_allocations.Remove(gpa, out ulong size)) throw new ArgumentException($"0x{gpa:x} is not an allocation");
            foreach (var allocator in _allocators)
            {
                if (allocator.Owns(gpa)) { allocator.Release(gpa, size); return; }
            }
        }
    }

    public bool Contains(ulong gpa, ulong length) => FindRegion(gpa, length) is not null;

    /// <summary>The frontend-process address of a guest-physical address (the form SET_VRING_ADDR carries).</summary>
    public ulong UserAddressOf(ulong gpa)
    {
        var r = FindRegion(gpa, 1) ?? throw new ArgumentOutOfRangeException(nameof(gpa), $"0x{gpa:x} is not guest RAM");
        return r.UserAddress + (gpa - r.GuestPhysicalAddress);
    }

    /// <summary>Direct pointer to guest memory; throws unless [gpa, gpa+length) lies inside one region.</summary>
    public byte* Pointer(ulong gpa, ulong length)
    {
        var r = FindRegion(gpa, length)
            ?? throw new ArgumentOutOfRangeException(nameof(gpa), $"[0x{gpa:x}, +{length}) is not inside one guest RAM region");
        return _base + r.MmapOffset + (gpa - r.GuestPhysicalAddress);
    }

    public Span<byte> GetSpan(ulong gpa, ulong length) => new(Pointer(gpa, length), checked((int)length));

    public void Write(ulong gpa, ReadOnlySpan<byte> data) => data.CopyTo(GetSpan(gpa, (ulong)data.Length));

    public void Read(ulong gpa, Span<byte> destination) => GetSpan(gpa, (ulong)destination.Length).CopyTo(destination);

    public byte[] ReadBytes(ulong gpa, int length) => GetSpan(gpa, (ulong)length).ToArray();

    private GuestRegion? FindRegion(ulong gpa, ulong length)
    {
        foreach (var r in _regions)
        {
            if (r.Contains(gpa, length)) return r;
        }
        return null;
    }

    public void Dispose()
    {
        if (_memfd.IsClosed) return;
        Libc.munmap(_base, (nuint)_size);
        _memfd.Dispose();
    }

    /// <summary>First-fit over a sorted free list, merging neighbours on release.</summary>
    private sealed class RegionAllocator(ulong start, ulong size)
    {
        private readonly List<(ulong Start, ulong Length)> _free = [(start, size)];

        public bool Owns(ulong gpa) => gpa >= start && gpa - start < size;

        public bool TryAllocate(ulong length, ulong alignment, out ulong gpa)
        {
            for (int i = 0; i < _free.Count; i++)
            {
                var (s, l) = _free[i];
                ulong aligned = (s + alignment - 1) & ~(alignment - 1);
                ulong pad = aligned - s;
                if (pad > l || l - pad < length) continue;
                _free.RemoveAt(i);
                ulong tail = l - pad - length;
                if (tail > 0) _free.Insert(i, (aligned + length, tail));
                if (pad > 0) _free.Insert(i, (s, pad));
                gpa = aligned;
                return true;
            }
            gpa = 0;
            return false;
        }

        public void Release(ulong gpa, ulong length)
        {
            int i = 0;
            while (i < _free.Count && _free[i].Start < gpa) i++;
            _free.Insert(i, (gpa, length));
            // Merge with the next, then with the previous neighbour.
            if (i + 1 < _free.Count && _free[i].Start + _free[i].Length == _free[i + 1].Start)
            {
                _free[i] = (_free[i].Start, _free[i].Length + _free[i + 1].Length);
                _free.RemoveAt(i + 1);
            }
            if (i > 0 && _free[i - 1].Start + _free[i - 1].Length == _free[i].Start)
            {
                _free[i - 1] = (_free[i - 1].Start, _free[i - 1].Length + _free[i].Length);
                _free.RemoveAt(i);
            }
        }
    }
}
