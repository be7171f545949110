using VirtioFs.Backend.Memory;
using VirtioFs.Backend.Virtqueue;
using Xunit;
using static VirtioFs.Tests.Virtqueue.TestRingDriver;

namespace VirtioFs.Tests.Virtqueue;

/// <summary>Direct (non-indirect) chains: the good shapes and every way a guest can get them wrong.</summary>
public unsafe class SplitQueueChainTests : IDisposable
{
    private readonly TestRingDriver _driver = new(8);
    private readonly SegmentList _readable = new(8);
    private readonly SegmentList _writable = new(8);

    public void Dispose() => _driver.Dispose();

    private PopResult Pop(SplitQueue queue, out ushort head) => queue.TryPop(_readable, _writable, out head);

    [Fact]
    public void TryPop_SplitsAChainIntoReadableThenWritableSegments()
    {
        SplitQueue queue = _driver.CreateQueue();
        ulong[] bufs = _driver.MakeChain(2, (40, false), (100, false), (4096, true), (8, true));
        _driver.Offer(2);

        Assert.Equal(PopResult.Chain, Pop(queue, out ushort head));
        Assert.Equal(2, head);
        Assert.Equal(1, queue.NextAvail);
        Assert.Null(queue.LastChainError);

        Assert.Equal(2, _readable.Count);
        Assert.True(_readable[0].Address == _driver.Host(bufs[0]));
        Assert.Equal(40u, _readable[0].Length);
        Assert.True(_readable[1].Address == _driver.Host(bufs[1]));
        Assert.Equal(100u, _readable[1].Length);
        Assert.Equal(140UL, _readable.TotalLength);

        Assert.Equal(2, _writable.Count);
        Assert.True(_writable[0].Address == _driver.Host(bufs[2]));
        Assert.Equal(4096u, _writable[0].Length);
        Assert.True(_writable[1].Address == _driver.Host(bufs[3]));
        Assert.Equal(4104UL, _writable.TotalLength);

        Assert.Equal(PopResult.Empty, Pop(queue, out _));
        Assert.Equal(1, queue.NextAvail);
    }

    [Fact]
    public void TryPop_HandlesSingleDescriptorChainsOfEitherKind()
    {
        SplitQueue queue = _driver.CreateQueue();
        _driver.MakeChain(0, (64, false)); // a FORGET on the hiprio queue: readable only
        _driver.MakeChain(1, (64, true));
        _driver.Offer(0);
        _driver.Offer(1);

        Assert.Equal(PopResult.Chain, Pop(queue, out ushort head));
        Assert.Equal(0, head);
        Assert.Equal(1, _readable.Count);
        Assert.Equal(0, _writable.Count);

        Assert.Equal(PopResult.Chain, Pop(queue, out head));
        Assert.Equal(1, head);
        Assert.Equal(0, _readable.Count);
        Assert.Equal(1, _writable.Count);
    }

    [Fact]
    public void TryPop_SkipsZeroLengthDescriptorsEvenWithBogusAddresses()
    {
        SplitQueue queue = _driver.CreateQueue();
        ulong buf = _driver.Alloc(32);
        _driver.SetDesc(0, 0xdead_0000_0000, 0, Next, 1);   // nowhere, but empty
        _driver.SetDesc(1, buf, 32, Next, 2);
        _driver.SetDesc(2, ulong.MaxValue, 0, Write, 0);    // empty and writable, last
        _driver.Offer(0);

        Assert.Equal(PopResult.Chain, Pop(queue, out _));
        Assert.Equal(1, _readable.Count);
        Assert.Equal(0, _writable.Count);
    }

    [Fact]
    public void AddUsedAndPublishUsed_WriteTheUsedRing()
    {
        SplitQueue queue = _driver.CreateQueue();
        _driver.MakeChain(5, (16, false), (32, true));
        _driver.Offer(5);
        Assert.Equal(PopResult.Chain, Pop(queue, out ushort head));

        queue.AddUsed(head, 32);
        Assert.Equal((5u, 32u), _driver.Used(0));
        Assert.Equal(0, _driver.UsedIdx);   // not visible before the publish
        Assert.Equal(1, queue.UsedIndex);

        queue.PublishUsed();
        Assert.Equal(1, _driver.UsedIdx);
        Assert.Equal(1, queue.PublishedUsedIndex);
        Assert.Throws<ArgumentOutOfRangeException>(() => queue.AddUsed(8, 0));
    }

    [Fact]
    public void Indices_WrapAroundAt65535()
    {
        using var driver = new TestRingDriver(4);
        const ushort start = 65533;
        driver.AvailIdx = start;
        driver.UsedIdx = start;
        SplitQueue queue = driver.CreateQueue(nextAvail: start);
        Assert.Equal(start, queue.UsedIndex);

        for (int round = 0; round < 3; round++)
        {
            for (int i = 0; i < 4; i++)
            {
                driver.MakeChain(i, (8, i % 2 == 1)); // one descriptor each: a full ring of 4 chains per round
                driver.Offer((ushort)i);
            }
            Assert.Equal(unchecked((ushort)(start + 4 * (round + 1))), driver.AvailIdx);
            for (int i = 0; i < 4; i++)
            {
                Assert.Equal(PopResult.Chain, queue.TryPop(_readable, _writable, out ushort head));
                ushort expectedSlot = (ushort)((start + 4 * round + i) % 4);
                Assert.Equal((ushort)i, head);
                queue.AddUsed(head, (uint)(100 * round + i));
                Assert.Equal(((uint)i, (uint)(100 * round + i)), driver.Used(expectedSlot));
            }
            Assert.Equal(PopResult.Empty, queue.TryPop(_readable, _writable, out _));
            queue.PublishUsed();
            Assert.Equal(driver.AvailIdx, driver.UsedIdx);
            Assert.Equal(driver.AvailIdx, queue.NextAvail);
        }
        Assert.Equal(unchecked((ushort)(start + 12)), queue.NextAvail); // 65533 + 12 = 9 after the wrap
    }

    [Fact]
    public void TryPop_AcceptsExactlySizeOutstandingBuffers()
    {
        SplitQueue queue = _driver.CreateQueue();
        for (int i = 0; i < 8; i++)
        {
            _driver.MakeChain(i, (8, false));
            _driver.Offer((ushort)i);
        }
        for (int i = 0; i < 8; i++) Assert.Equal(PopResult.Chain, Pop(queue, out _));
        Assert.Equal(PopResult.Empty, Pop(queue, out _));
    }

    [Theory]
    [InlineData((ushort)9)]
    [InlineData((ushort)0x8000)]
    [InlineData((ushort)0xffff)]
    public void TryPop_ReportsABrokenRingWhenAvailIdxJumpsPastTheSize(ushort jump)
    {
        SplitQueue queue = _driver.CreateQueue();
        _driver.MakeChain(0, (8, false));
        _driver.AvailIdx = jump;

        Assert.Equal(PopResult.BrokenRing, Pop(queue, out _));
        Assert.Contains("avail->idx", queue.LastChainError);
        Assert.Equal(0, queue.NextAvail);
        Assert.Equal(0, _readable.Count);
    }

    [Theory]
    [InlineData((ushort)8)]
    [InlineData((ushort)0xffff)]
    public void TryPop_ReportsABrokenRingForAHeadOutOfRange(ushort badHead)
    {
        SplitQueue queue = _driver.CreateQueue();
        _driver.Offer(badHead);

        Assert.Equal(PopResult.BrokenRing, Pop(queue, out _));
        Assert.Contains("head index", queue.LastChainError);
        Assert.Equal(0, queue.NextAvail); // nothing can be returned for it, so it is not consumed
    }

    private void AssertBadChain(SplitQueue queue, ushort expectedHead, string reason)
    {
        Assert.Equal(PopResult.BadChain, Pop(queue, out ushort head));
        Assert.Equal(expectedHead, head);
        Assert.Contains(reason, queue.LastChainError);
        Assert.Equal(0, _readable.Count);
        Assert.Equal(0, _writable.Count);
        // The chain is consumed; the caller returns it with length 0 and the queue carries on.
        queue.AddUsed(head, 0);
        Assert.True(queue.PublishUsed());
        _driver.MakeChain(6, (8, false), (8, true));
        _driver.Offer(6);
        Assert.Equal(PopResult.Chain, Pop(queue, out head));
        Assert.Equal(6, head);
    }

    [Fact]
    public void TryPop_RejectsALoop()
    {
        SplitQueue queue = _driver.CreateQueue();
        ulong buf = _driver.Alloc(8);
        _driver.SetDesc(0, buf, 8, Next, 1);
        _driver.SetDesc(1, buf, 8, Next, 2);
        _driver.SetDesc(2, buf, 8, Next, 0);
        _driver.Offer(1);
        AssertBadChain(queue, 1, "longer than the queue size");
    }

    [Fact]
    public void TryPop_RejectsALoopOfZeroLengthDescriptors()
    {
        SplitQueue queue = _driver.CreateQueue();
        _driver.SetDesc(3, 0, 0, Next, 3);
        _driver.Offer(3);
        AssertBadChain(queue, 3, "longer than the queue size");
    }

    [Fact]
    public void TryPop_AcceptsAChainOfExactlySizeDescriptors()
    {
        SplitQueue queue = _driver.CreateQueue();
        _driver.MakeChain(0, (8, false), (8, false), (8, false), (8, false), (8, true), (8, true), (8, true), (8, true));
        _driver.Offer(0);
        Assert.Equal(PopResult.Chain, Pop(queue, out _));
        Assert.Equal(4, _readable.Count);
        Assert.Equal(4, _writable.Count);
    }

    [Theory]
    [InlineData((ushort)8)]
    [InlineData((ushort)0xffff)]
    public void TryPop_RejectsANextIndexOutOfRange(ushort next)
    {
        SplitQueue queue = _driver.CreateQueue();
        _driver.SetDesc(0, _driver.Alloc(8), 8, Next, next);
        _driver.Offer(0);
        AssertBadChain(queue, 0, "next index out of range");
    }

    [Fact]
    public void TryPop_RejectsReadableAfterWritable()
    {
        SplitQueue queue = _driver.CreateQueue();
        _driver.SetDesc(0, _driver.Alloc(8), 8, Next, 1);
        _driver.SetDesc(1, _driver.Alloc(8), 8, Write | Next, 2);
        _driver.SetDesc(2, _driver.Alloc(8), 8, 0, 0);
        _driver.Offer(0);
        AssertBadChain(queue, 0, "readable descriptor after a device-writable");
    }

    public static TheoryData<ulong, uint> OutsideMemory() => new()
    {
        { 0, 8 },                                                    // below the region
        { TestRingDriver.GuestBase - 4, 8 },                         // starts before, ends inside
        { TestRingDriver.FirstRegionEnd - 8, 9 },                    // one byte past the end
        { TestRingDriver.FirstRegionEnd, 1 },                        // first byte after
        { TestRingDriver.GuestBase + 0x1000, uint.MaxValue },        // 4 GiB from inside
        { ulong.MaxValue, 1 },
        { ulong.MaxValue - 7, 16 },                                  // addr + len wraps to 8
        { ulong.MaxValue - 0xffff, 0x1_0000 },                       // the very top of the address space
        { TestRingDriver.ToUser(TestRingDriver.GuestBase + 0x10000), 8 }, // a user address is no guest address
    };

    [Theory]
    [MemberData(nameof(OutsideMemory))]
    public void TryPop_RejectsBuffersOutsideGuestMemory(ulong addr, uint len)
    {
        SplitQueue queue = _driver.CreateQueue();
        _driver.SetDesc(0, _driver.Alloc(8), 8, Next, 1);
        _driver.SetDesc(1, addr, len, Write, 0);
        _driver.Offer(0);
        AssertBadChain(queue, 0, "not inside one guest memory region");
    }

    [Fact]
    public void TryPop_AcceptsABufferEndingAtTheLastByteOfTheRegion()
    {
        SplitQueue queue = _driver.CreateQueue();
        _driver.SetDesc(0, TestRingDriver.FirstRegionEnd - 4096, 4096, Write, 0);
        _driver.Offer(0);
        Assert.Equal(PopResult.Chain, Pop(queue, out _));
        Assert.True(_writable[0].Address == _driver.Host(TestRingDriver.FirstRegionEnd - 4096));
    }

    [Fact]
    public void TryPop_RejectsABufferCrossingIntoTheNextRegion()
    {
        // The second region is adjacent in guest-physical space but mapped elsewhere in ours.
        using var driver = new TestRingDriver(8, secondRegion: true);
        SplitQueue queue = driver.CreateQueue();
        driver.SetDesc(0, TestRingDriver.FirstRegionEnd - 8, 16, Write, 0);
        driver.Offer(0);
        Assert.Equal(PopResult.BadChain, queue.TryPop(_readable, _writable, out _));
        Assert.Contains("not inside one guest memory region", queue.LastChainError);

        // Each side on its own is fine, and the second lands in the second mapping.
        driver.SetDesc(1, TestRingDriver.FirstRegionEnd - 8, 8, Write | Next, 2);
        driver.SetDesc(2, TestRingDriver.FirstRegionEnd, 8, Write, 0);
        driver.Offer(1);
        Assert.Equal(PopResult.Chain, queue.TryPop(_readable, _writable, out _));
        Assert.Equal(2, _writable.Count);
        Assert.True(_writable[1].Address == driver.Memory.Regions[1].HostAddress);
    }

    [Fact]
    public void TryPop_RejectsChainsThatOverflowTheSegmentLists()
    {
        SplitQueue queue = _driver.CreateQueue();
        var smallReadable = new SegmentList(2);
        var smallWritable = new SegmentList(1);

        _driver.MakeChain(0, (8, false), (8, false), (8, false));
        _driver.Offer(0);
        Assert.Equal(PopResult.BadChain, queue.TryPop(smallReadable, smallWritable, out ushort head));
        Assert.Contains("device-readable descriptors for the segment list", queue.LastChainError);
        Assert.Equal(0, head);
        Assert.Equal(0, smallReadable.Count);

        _driver.MakeChain(3, (8, false), (8, true), (8, true));
        _driver.Offer(3);
        Assert.Equal(PopResult.BadChain, queue.TryPop(smallReadable, smallWritable, out head));
        Assert.Contains("device-writable descriptors for the segment list", queue.LastChainError);
        Assert.Equal(3, head);

        _driver.MakeChain(6, (8, false), (8, true));
        _driver.Offer(6);
        Assert.Equal(PopResult.Chain, queue.TryPop(smallReadable, smallWritable, out head));
    }

    [Fact]
    public void TryPop_ReadsEachDescriptorOnceSoALaterRewriteDoesNotMatter()
    {
        SplitQueue queue = _driver.CreateQueue();
        ulong[] bufs = _driver.MakeChain(0, (64, false), (64, true));
        _driver.Offer(0);
        Assert.Equal(PopResult.Chain, Pop(queue, out _));

        // The guest rewrites the descriptors after we looked: the segments keep what was checked.
        _driver.SetDesc(0, ulong.MaxValue - 8, uint.MaxValue, Next, 0);
        _driver.SetDesc(1, 0, uint.MaxValue, Write, 0);
        Assert.True(_readable[0].Address == _driver.Host(bufs[0]));
        Assert.Equal(64u, _readable[0].Length);
        Assert.Equal(64u, _writable[0].Length);
    }

    [Fact]
    public void TryPopAddUsedPublishUsed_DoNotAllocate()
    {
        SplitQueue queue = _driver.CreateQueue(eventIdx: true);
        ulong buf = _driver.Alloc(64);
        _driver.SetDesc(0, buf, 64, Next, 1);
        _driver.SetDesc(1, buf, 64, Write, 0);
        _driver.SetDesc(2, 0, 0, Next, 2); // a loop, to cover the BadChain path too

        void Round()
        {
            _driver.Offer(0);
            _driver.Offer(2);
            queue.TryPop(_readable, _writable, out ushort h);
            queue.AddUsed(h, 64);
            queue.TryPop(_readable, _writable, out h);
            queue.AddUsed(h, 0);
            queue.TryPop(_readable, _writable, out _);
            queue.PublishUsed();
            queue.DisableNotifications();
            queue.EnableNotifications();
        }

        for (int i = 0; i < 100; i++) Round(); // JIT warm-up
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) Round();
        long after = GC.GetAllocatedBytesForCurrentThread();
        Assert.Equal(0, after - before);
    }
}
