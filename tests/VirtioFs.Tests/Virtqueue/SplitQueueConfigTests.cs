using VirtioFs.Backend.Memory;
using VirtioFs.Backend.Virtqueue;
using VirtioFs.Tests.Memory;
using Xunit;

namespace VirtioFs.Tests.Virtqueue;

public unsafe class SplitQueueConfigTests
{
    [Theory]
    [InlineData(0u)]
    [InlineData(3u)]
    [InlineData(768u)]
    [InlineData(65536u)]
    [InlineData(0x1_0001u)]
    [InlineData(uint.MaxValue)]
    public void SetSize_RejectsZeroNonPowersOfTwoAndTooLarge(uint size)
    {
        var queue = new SplitQueue(0);
        var e = Assert.Throws<VirtqueueException>(() => queue.SetSize(size));
        Assert.Contains($"size {size}", e.Message);
        Assert.Equal(0, queue.Size);
    }

    [Theory]
    [InlineData(1u)]
    [InlineData(2u)]
    [InlineData(1024u)]
    [InlineData(32768u)]
    public void SetSize_AcceptsPowersOfTwoUpToTheMaximum(uint size)
    {
        var queue = new SplitQueue(0);
        queue.SetSize(size);
        Assert.Equal(size, queue.Size);
    }

    [Fact]
    public void SetSize_HonoursASmallerMaximum()
    {
        var queue = new SplitQueue(2, maxSize: 256);
        queue.SetSize(256);
        Assert.Throws<VirtqueueException>(() => queue.SetSize(512));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SplitQueue(0, maxSize: 100));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SplitQueue(0, maxSize: 0));
    }

    [Fact]
    public void SetRingAddresses_StoresWithoutTranslating()
    {
        var queue = new SplitQueue(0);
        queue.SetRingAddresses(0x1000, 0x3000, 0x2000, 0x4000, 1);
        Assert.Equal(0x1000UL, queue.DescUserAddr);
        Assert.Equal(0x3000UL, queue.UsedUserAddr);
        Assert.Equal(0x2000UL, queue.AvailUserAddr);
        Assert.Equal(0x4000UL, queue.LogGuestAddr);
        Assert.True(queue.LogUsed);
        Assert.False(queue.IsAttached);
    }

    [Fact]
    public void Attach_TranslatesTheRingsAndReadsTheUsedIndex()
    {
        using var driver = new TestRingDriver(8);
        driver.UsedIdx = 1234; // a restarted queue continues from the ring's used->idx
        SplitQueue queue = driver.CreateQueue();
        Assert.True(queue.IsAttached);
        Assert.Same(driver.Memory, queue.Memory);
        Assert.Equal(1234, queue.UsedIndex);
        Assert.Equal(1234, queue.PublishedUsedIndex);

        queue.Detach();
        Assert.False(queue.IsAttached);
        Assert.Throws<InvalidOperationException>(() => queue.TryPop(new SegmentList(4), new SegmentList(4), out _));
        Assert.Throws<InvalidOperationException>(() => queue.AddUsed(0, 0));
    }

    [Fact]
    public void Attach_RequiresTheSize()
    {
        using var driver = new TestRingDriver(8);
        var queue = new SplitQueue(5);
        queue.SetRingAddresses(driver.DescUser, driver.UsedUser, driver.AvailUser, 0, 0);
        var e = Assert.Throws<VirtqueueException>(() => queue.Attach(driver.Memory));
        Assert.Contains("Queue 5", e.Message);
        Assert.Contains("SET_VRING_NUM", e.Message);
    }

    public static TheoryData<string, ulong, ulong, ulong> BadRings()
    {
        ulong desc = TestRingDriver.ToUser(TestRingDriver.GuestBase);
        ulong avail = desc + 16 * 8;
        ulong used = desc + 0x1000;
        ulong end = TestRingDriver.UserBase + TestRingDriver.MemorySize;
        return new TheoryData<string, ulong, ulong, ulong>
        {
            { "descriptor table", 0x1000, avail, used },                 // not in any region
            { "descriptor table", end - 16 * 8 + 16, avail, used },      // runs 16 bytes past the region end
            { "descriptor table", desc + 8, avail, used },               // 8-aligned, needs 16
            { "available ring", desc, end - 6 - 2 * 8 + 2, used },       // used_event slot past the end
            { "available ring", desc, avail + 1, used },                 // odd
            { "used ring", desc, avail, end - 6 - 8 * 8 + 2 },           // avail_event slot past the end
            { "used ring", desc, avail, used + 2 },                      // 2-aligned, needs 4
            { "used ring", desc, avail, ulong.MaxValue - 8 },            // wraps the address space
        };
    }

    [Theory]
    [MemberData(nameof(BadRings))]
    public void Attach_NamesTheRingPartThatIsOutsideMemoryOrMisaligned(string part, ulong desc, ulong avail, ulong used)
    {
        using var driver = new TestRingDriver(8);
        SplitQueue queue = driver.CreateQueue(attach: false);
        queue.SetRingAddresses(desc, used, avail, 0, 0);
        var e = Assert.Throws<VirtqueueException>(() => queue.Attach(driver.Memory));
        Assert.Contains(part, e.Message);
        Assert.False(queue.IsAttached);
    }

    [Fact]
    public void Attach_AcceptsRingsEndingExactlyAtTheRegionEnd()
    {
        using var driver = new TestRingDriver(8);
        ulong end = TestRingDriver.UserBase + TestRingDriver.MemorySize;
        SplitQueue queue = driver.CreateQueue(attach: false);
        // avail (6 + 2 * 8 = 22 bytes) ends on the last byte of the region; desc ends 0x800 before it.
        queue.SetRingAddresses(end - 0x800 - 16 * 8, end - 0x1000, end - 22, 0, 0);
        queue.Attach(driver.Memory);
        Assert.True(queue.IsAttached);
    }

    [Fact]
    public void Attach_OnEmptyMemoryFails()
    {
        using var driver = new TestRingDriver(8);
        SplitQueue queue = driver.CreateQueue(attach: false);
        Assert.Throws<VirtqueueException>(() => queue.Attach(GuestMemory.Empty));
    }

    [Fact]
    public void Configuration_IsRefusedWhileTheQueueRuns()
    {
        using var driver = new TestRingDriver(8);
        SplitQueue queue = driver.CreateQueue();
        Assert.Throws<VirtqueueException>(() => queue.SetSize(4));
        Assert.Throws<VirtqueueException>(() => queue.SetRingAddresses(0, 0, 0, 0, 0));
        Assert.Throws<VirtqueueException>(() => queue.NextAvail = 3);
        Assert.Throws<VirtqueueException>(() => queue.Attach(driver.Memory));
        queue.Detach();
        queue.NextAvail = 3;
        Assert.Equal(3, queue.NextAvail);
    }

    [Fact]
    public void UpdateMemory_KeepsIndicesAndUsesTheNewTable()
    {
        using var driver = new TestRingDriver(8);
        SplitQueue queue = driver.CreateQueue();
        var readable = new SegmentList(8);
        var writable = new SegmentList(8);

        driver.MakeChain(0, (16, false));
        driver.Offer(0);
        Assert.Equal(PopResult.Chain, queue.TryPop(readable, writable, out ushort head));
        queue.AddUsed(head, 0);

        // ADD_MEM_REG: a buffer in a new region is only reachable once the queue switches tables.
        MemoryRegion extra = TestMemfd.MapNew(new MemoryRegionInfo(0x9_0000_0000, 0x1000, 0x7f99_0000_0000, 0));
        GuestMemory bigger = driver.Memory.WithRegion(extra);
        extra.Release();
        try
        {
            driver.SetDesc(1, 0x9_0000_0000, 0x100, TestRingDriver.Write);
            driver.Offer(1);
            Assert.Equal(PopResult.BadChain, queue.TryPop(readable, writable, out head));
            queue.AddUsed(head, 0);

            queue.UpdateMemory(bigger);
            Assert.Same(bigger, queue.Memory);
            driver.Offer(1);
            Assert.Equal(PopResult.Chain, queue.TryPop(readable, writable, out head));
            Assert.True(writable[0].Address == extra.HostAddress);
            Assert.Equal(3, queue.NextAvail);
            Assert.Equal(2, queue.UsedIndex); // unpublished entries survive the switch
            queue.AddUsed(head, 0x100);
            queue.PublishUsed();
            Assert.Equal(3, driver.UsedIdx);

            // A table without the rings is refused and the queue keeps the old one.
            Assert.Throws<VirtqueueException>(() => queue.UpdateMemory(GuestMemory.Empty));
            Assert.Same(bigger, queue.Memory);
        }
        finally
        {
            queue.Detach();
            bigger.Release();
        }
    }
}
