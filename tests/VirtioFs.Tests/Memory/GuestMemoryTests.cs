using VirtioFs.Backend.Memory;
using Xunit;

namespace VirtioFs.Tests.Memory;

public unsafe class GuestMemoryTests
{
    private static MemoryRegion Region(ulong guest, ulong size, ulong user, string name = "virtiofs-test")
        => TestMemfd.MapNew(new MemoryRegionInfo(guest, size, user, 0), name);

    /// <summary>Creates a snapshot and drops the caller's own region references, so the snapshot holds the only ones.</summary>
    private static GuestMemory Snapshot(params MemoryRegion[] regions)
    {
        GuestMemory memory = GuestMemory.Create(regions);
        foreach (MemoryRegion r in regions) r.Release();
        return memory;
    }

    [Fact]
    public void TryTranslate_AcceptsExactlyTheRegionBounds()
    {
        GuestMemory memory = Snapshot(Region(0x1000, 0x2000, 0x7000_0000));
        try
        {
            byte* start = memory.Regions[0].HostAddress;
            Assert.True(memory.TryTranslate(0x1000, 0x2000, out byte* host));
            Assert.True(host == start);
            Assert.True(memory.TryTranslate(0x2fff, 1, out host));
            Assert.True(host == start + 0x1fff);
            Assert.True(memory.TryTranslate(0x1800, 0, out host));
            Assert.True(host == start + 0x800);

            Assert.False(memory.TryTranslate(0x1000, 0x2001, out host)); // one byte past the end
            Assert.True(host == null);
            Assert.False(memory.TryTranslate(0x2fff, 2, out _));
            Assert.False(memory.TryTranslate(0x3000, 1, out _));        // first byte after
            Assert.False(memory.TryTranslate(0x3000, 0, out _));        // even empty: not inside
            Assert.False(memory.TryTranslate(0x0fff, 1, out _));        // last byte before
            Assert.False(memory.TryTranslate(0x0fff, 2, out _));        // starts before, ends inside
            Assert.False(memory.TryTranslate(0, 0x10000, out _));
        }
        finally
        {
            memory.Release();
        }
    }

    [Theory]
    [InlineData(0x1000UL, ulong.MaxValue)]          // length alone overflows addr + length
    [InlineData(0x2fffUL, ulong.MaxValue)]
    [InlineData(0x2000UL, 0xffff_ffff_ffff_f800UL)] // addr + length wraps to 0x1800, inside the region
    [InlineData(ulong.MaxValue, 1UL)]
    [InlineData(ulong.MaxValue, ulong.MaxValue)]
    [InlineData(ulong.MaxValue - 0xfff, 0x2000UL)]
    public void TryTranslate_RefusesRangesThatOverflow(ulong addr, ulong length)
    {
        GuestMemory memory = Snapshot(Region(0x1000, 0x2000, 0x7000_0000));
        try
        {
            Assert.False(memory.TryTranslate(addr, length, out byte* host));
            Assert.True(host == null);
            Assert.False(memory.TryTranslateUser(addr, length, out _));
        }
        finally
        {
            memory.Release();
        }
    }

    [Fact]
    public void TryTranslate_HandlesARegionAtTheTopOfTheAddressSpace()
    {
        const ulong top = ulong.MaxValue - 0x1000; // region [top, 2^64 - 1)
        GuestMemory memory = Snapshot(Region(top, 0x1000, top));
        try
        {
            Assert.True(memory.TryTranslate(ulong.MaxValue - 1, 1, out byte* host));
            Assert.True(host == memory.Regions[0].HostAddress + 0xfff);
            Assert.True(memory.TryTranslate(top, 0x1000, out _));
            Assert.False(memory.TryTranslate(ulong.MaxValue - 1, 2, out _));
            Assert.False(memory.TryTranslate(ulong.MaxValue, 1, out _));
            Assert.False(memory.TryTranslate(ulong.MaxValue, 0, out _));
            Assert.False(memory.TryTranslate(top, ulong.MaxValue, out _));
            Assert.True(memory.TryTranslateUser(ulong.MaxValue - 1, 1, out _));
            Assert.False(memory.TryTranslateUser(ulong.MaxValue - 1, 2, out _));
        }
        finally
        {
            memory.Release();
        }
    }

    [Fact]
    public void TryTranslate_FindsEachRegionAndRefusesRangesThatSpanTwo()
    {
        // Guest-contiguous regions, mapped separately: a buffer across the seam is not contiguous for us.
        MemoryRegion low = Region(0x10000, 0x1000, 0x9000_0000);
        MemoryRegion high = Region(0x11000, 0x1000, 0x5000_0000);
        MemoryRegion far = Region(0x1_0000_0000, 0x2000, 0x6000_0000);
        GuestMemory memory = Snapshot(far, high, low); // deliberately unsorted
        try
        {
            Assert.Equal([0x10000UL, 0x11000UL, 0x1_0000_0000UL], memory.Regions.Select(r => r.Info.GuestPhysAddr));
            Assert.True(memory.TryTranslate(0x10fff, 1, out byte* host));
            Assert.True(host == low.HostAddress + 0xfff);
            Assert.True(memory.TryTranslate(0x11000, 0x1000, out host));
            Assert.True(host == high.HostAddress);
            Assert.True(memory.TryTranslate(0x1_0000_1000, 0x1000, out host));
            Assert.True(host == far.HostAddress + 0x1000);
            Assert.False(memory.TryTranslate(0x10fff, 2, out _));
            Assert.False(memory.TryTranslate(0x12000, 1, out _)); // gap between regions
            Assert.False(memory.TryTranslate(0xffff, 1, out _));

            Assert.True(memory.TryTranslateUser(0x5000_0000, 0x1000, out host));
            Assert.True(host == high.HostAddress);
            Assert.True(memory.TryTranslateUser(0x6000_1fff, 1, out host));
            Assert.True(host == far.HostAddress + 0x1fff);
            Assert.True(memory.TryTranslateUser(0x9000_0010, 0x10, out host));
            Assert.True(host == low.HostAddress + 0x10);
            Assert.False(memory.TryTranslateUser(0x10000, 1, out _)); // a guest address is not a user address
            Assert.False(memory.TryTranslateUser(0x6000_1fff, 2, out _));
        }
        finally
        {
            memory.Release();
        }
    }

    [Fact]
    public void Create_RejectsOverlappingGuestRanges()
    {
        MemoryRegion a = Region(0x10000, 0x2000, 0x1000_0000);
        MemoryRegion b = Region(0x11fff, 0x1000, 0x2000_0000);
        try
        {
            var e = Assert.Throws<ArgumentException>(() => GuestMemory.Create([a, b]));
            Assert.Contains("guest-physical", e.Message);
            Assert.Contains("0x11fff", e.Message);
            // A rejected table took no references.
            Assert.Equal(1, a.ReferenceCount);
            Assert.Equal(1, b.ReferenceCount);
        }
        finally
        {
            a.Release();
            b.Release();
        }
    }

    [Fact]
    public void Create_RejectsOverlappingUserRanges()
    {
        MemoryRegion a = Region(0x10000, 0x2000, 0x1000_0000);
        MemoryRegion b = Region(0x20000, 0x1000, 0x0fff_f001);
        try
        {
            var e = Assert.Throws<ArgumentException>(() => GuestMemory.Create([a, b]));
            Assert.Contains("user", e.Message);
            Assert.Equal(1, a.ReferenceCount);
        }
        finally
        {
            a.Release();
            b.Release();
        }
    }

    [Fact]
    public void Create_RejectsTheSameRegionTwiceAndAcceptsAdjacentOnes()
    {
        MemoryRegion a = Region(0x10000, 0x1000, 0x1000_0000);
        MemoryRegion b = Region(0x11000, 0x1000, 0x1000_1000);
        try
        {
            Assert.Throws<ArgumentException>(() => GuestMemory.Create([a, a]));
            Assert.Equal(1, a.ReferenceCount);
            GuestMemory memory = GuestMemory.Create([a, b]);
            Assert.Equal(2, a.ReferenceCount);
            memory.Release();
            Assert.Equal(1, a.ReferenceCount);
        }
        finally
        {
            a.Release();
            b.Release();
        }
    }

    [Fact]
    public void Create_RejectsAnUnmappedRegionWithoutLeakingReferences()
    {
        MemoryRegion live = Region(0x10000, 0x1000, 0x1000_0000);
        MemoryRegion dead = Region(0x20000, 0x1000, 0x2000_0000);
        dead.Release();
        try
        {
            var e = Assert.Throws<ArgumentException>(() => GuestMemory.Create([live, dead]));
            Assert.Contains("already unmapped", e.Message);
            Assert.Equal(1, live.ReferenceCount);
        }
        finally
        {
            live.Release();
        }
    }

    [Fact]
    public void Snapshot_UnmapsRegionsOnlyAfterTheLastReferenceIsReleased()
    {
        string name = $"virtiofs-snap-{Guid.NewGuid():N}";
        MemoryRegion region = Region(0x10000, 0x4000, 0x1000_0000, name);
        GuestMemory memory = GuestMemory.Create([region]);
        Assert.Equal(2, region.ReferenceCount);
        region.Release(); // the vhost-user thread is done with its own reference
        Assert.True(region.IsMapped);

        Assert.True(memory.TryAcquire()); // a queue thread starts a batch
        memory.Release();                 // the table is replaced: the creator's reference goes
        Assert.True(memory.IsAlive);
        Assert.True(region.IsMapped);
        Assert.Equal(1, TestMemfd.CountMapsLinesContaining(name));
        Assert.True(memory.TryTranslate(0x13fff, 1, out byte* host));
        *host = 42; // still mapped

        memory.Release(); // the batch ends
        Assert.False(memory.IsAlive);
        Assert.False(region.IsMapped);
        Assert.Equal(0, TestMemfd.CountMapsLinesContaining(name));
        Assert.False(memory.TryAcquire()); // too late: a queue thread must load the newer table
        Assert.Throws<InvalidOperationException>(memory.Release);
    }

    [Fact]
    public void WithRegionAndWithoutRegion_ShareRegionsBetweenSnapshots()
    {
        string nameA = $"virtiofs-a-{Guid.NewGuid():N}";
        string nameB = $"virtiofs-b-{Guid.NewGuid():N}";
        MemoryRegion a = Region(0x10000, 0x1000, 0x1000_0000, nameA);
        MemoryRegion b = Region(0x20000, 0x1000, 0x2000_0000, nameB);

        GuestMemory v1 = Snapshot(a);                     // SET_MEM_TABLE [a]
        GuestMemory v2 = v1.WithRegion(b);                // ADD_MEM_REG b
        b.Release();
        Assert.Single(v1.Regions);
        Assert.Equal(2, v2.Regions.Count);
        Assert.False(v1.TryTranslate(0x20000, 1, out _)); // the old snapshot is unchanged
        Assert.True(v2.TryTranslate(0x20000, 1, out _));
        Assert.Equal(2, a.ReferenceCount);

        Assert.True(v1.TryAcquire());                     // a queue thread still works on v1
        v1.Release();                                     // replaced by v2

        GuestMemory v3 = v2.WithoutRegion(new MemoryRegionInfo(0x10000, 0x1000, 0x1000_0000, 0x999), out bool found);
        Assert.True(found);
        v2.Release();                                     // replaced by v3
        Assert.Single(v3.Regions);
        Assert.False(v3.TryTranslate(0x10000, 1, out _));
        Assert.True(a.IsMapped);                          // v1 is still held by the queue thread
        Assert.Equal(1, TestMemfd.CountMapsLinesContaining(nameA));

        v1.Release();                                     // queue thread done with v1
        Assert.False(a.IsMapped);
        Assert.Equal(0, TestMemfd.CountMapsLinesContaining(nameA));
        Assert.True(b.IsMapped);

        // No match (a different size): a fresh snapshot with the same regions, so swapping it in is always safe.
        GuestMemory v4 = v3.WithoutRegion(new MemoryRegionInfo(0x20000, 0x2000, 0x2000_0000, 0), out found);
        Assert.False(found);
        Assert.NotSame(v3, v4);
        Assert.Single(v4.Regions);
        v3.Release();
        Assert.True(b.IsMapped);
        Assert.True(v4.TryTranslate(0x20fff, 1, out _));
        v4.Release();
        Assert.False(b.IsMapped);
        Assert.Equal(0, TestMemfd.CountMapsLinesContaining(nameB));
    }

    [Fact]
    public void WithoutRegion_MatchesTheUserAddressToo()
    {
        GuestMemory v1 = Snapshot(Region(0x10000, 0x1000, 0x1000_0000));
        GuestMemory v2 = v1.WithoutRegion(new MemoryRegionInfo(0x10000, 0x1000, 0x3000_0000, 0), out bool found);
        Assert.False(found);
        Assert.Single(v2.Regions);
        v2.Release();
        v1.Release();
    }

    [Fact]
    public void WithRegion_RejectsAnOverlapAndLeavesTheSnapshotIntact()
    {
        GuestMemory v1 = Snapshot(Region(0x10000, 0x2000, 0x1000_0000));
        MemoryRegion clash = Region(0x11000, 0x1000, 0x5000_0000);
        try
        {
            Assert.Throws<ArgumentException>(() => v1.WithRegion(clash));
            Assert.Equal(1, clash.ReferenceCount);
            Assert.Equal(1, v1.Regions[0].ReferenceCount);
            Assert.True(v1.TryTranslate(0x10000, 0x2000, out _));
        }
        finally
        {
            clash.Release();
            v1.Release();
        }
    }

    [Fact]
    public void Empty_TranslatesNothingAndCannotBeReleasedAway()
    {
        GuestMemory empty = GuestMemory.Empty;
        Assert.Empty(empty.Regions);
        Assert.False(empty.TryTranslate(0, 0, out _));
        Assert.False(empty.TryTranslateUser(0x1000, 1, out _));
        Assert.True(empty.TryAcquire());
        empty.Release();
        empty.Release();
        Assert.True(empty.TryAcquire());
        Assert.True(empty.IsAlive);

        GuestMemory none = GuestMemory.Create([]);
        Assert.False(none.TryTranslate(0, 1, out _));
        none.Release();
        Assert.False(none.TryAcquire());
    }

    [Fact]
    public void Snapshots_SurviveConcurrentSwapsWhileAQueueThreadTranslates()
    {
        // The vhost-user thread swaps tables while a queue thread acquires, translates and writes. A region unmapped
        // too early would crash the test process; a wrong refcount shows up as a region still mapped at the end.
        var regions = new List<MemoryRegion>();
        GuestMemory current = Snapshot(Track(Region(0x10000, 0x1000, 0x1000_0000)));
        int stop = 0;
        long batches = 0;

        Exception? queueFailure = null;
        var queueThread = new Thread(() =>
        {
            try
            {
                QueueLoop();
            }
            catch (Exception e)
            {
                queueFailure = e;
            }
        });
        queueThread.Start();

        void QueueLoop()
        {
            while (Volatile.Read(ref stop) == 0)
            {
                GuestMemory snapshot = Volatile.Read(ref current);
                if (!snapshot.TryAcquire()) continue; // replaced and released meanwhile: load the newer one
                try
                {
                    foreach (MemoryRegion r in snapshot.Regions)
                    {
                        if (!snapshot.TryTranslate(r.Info.GuestPhysAddr, r.Info.Size, out byte* host)) throw new InvalidOperationException("lost region");
                        host[0] = unchecked((byte)(host[0] + 1));
                        host[r.Info.Size - 1] = unchecked((byte)(host[r.Info.Size - 1] + 1));
                    }
                    batches++;
                }
                finally
                {
                    snapshot.Release();
                }
            }
        }

        for (int i = 0; i < 200; i++)
        {
            ulong guest = 0x100000 + (ulong)i * 0x1000;
            GuestMemory next = current.WithRegion(Track(Region(guest, 0x1000, 0x2000_0000 + (ulong)i * 0x1000)));
            regions[^1].Release();
            if (current.Regions.Count > 3)
            {
                MemoryRegionInfo oldest = current.Regions[1].Info;
                GuestMemory trimmed = next.WithoutRegion(oldest, out bool found);
                Assert.True(found);
                next.Release();
                next = trimmed;
            }
            GuestMemory old = Interlocked.Exchange(ref current, next);
            old.Release();
        }

        // On a loaded machine the queue thread may not have run yet: let it do some batches before stopping it.
        SpinWait.SpinUntil(() => Volatile.Read(ref batches) > 0 || queueFailure is not null, TimeSpan.FromSeconds(10));
        Volatile.Write(ref stop, 1);
        queueThread.Join();
        Assert.Null(queueFailure);
        Assert.True(batches > 0);
        current.Release();
        Assert.All(regions, r => Assert.False(r.IsMapped));

        MemoryRegion Track(MemoryRegion r)
        {
            regions.Add(r);
            return r;
        }
    }
}
