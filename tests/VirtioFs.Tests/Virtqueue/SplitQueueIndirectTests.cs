using VirtioFs.Backend.Memory;
using VirtioFs.Backend.Virtqueue;
using Xunit;
using static VirtioFs.Tests.Virtqueue.TestRingDriver;

namespace VirtioFs.Tests.Virtqueue;

/// <summary>Chains through indirect descriptor tables (VIRTIO_RING_F_INDIRECT_DESC).</summary>
public unsafe class SplitQueueIndirectTests : IDisposable
{
    private readonly TestRingDriver _driver = new(8);
    private readonly SegmentList _readable = new(64);
    private readonly SegmentList _writable = new(64);

    public void Dispose() => _driver.Dispose();

    private PopResult Pop(SplitQueue queue) => queue.TryPop(_readable, _writable, out _);

    [Fact]
    public void TryPop_FollowsAnIndirectTable()
    {
        SplitQueue queue = _driver.CreateQueue();
        ulong a = _driver.Alloc(48), b = _driver.Alloc(16), c = _driver.Alloc(4096);
        // Entries chained out of order, to show `next` is followed within the table.
        ulong table = _driver.WriteIndirectTable([(a, 48, Next, 2), (c, 4096, Write, 0), (b, 16, Next, 1)]);
        _driver.SetDesc(4, table, 3 * 16, Indirect | Write); // WRITE on the indirect descriptor itself is ignored
        _driver.Offer(4);

        Assert.Equal(PopResult.Chain, queue.TryPop(_readable, _writable, out ushort head));
        Assert.Equal(4, head);
        Assert.Equal(2, _readable.Count);
        Assert.True(_readable[0].Address == _driver.Host(a));
        Assert.True(_readable[1].Address == _driver.Host(b));
        Assert.Equal(1, _writable.Count);
        Assert.True(_writable[0].Address == _driver.Host(c));
        Assert.Equal(4096u, _writable[0].Length);
    }

    [Fact]
    public void TryPop_FollowsDirectDescriptorsThenAnIndirectTable()
    {
        SplitQueue queue = _driver.CreateQueue();
        ulong header = _driver.Alloc(40), reply = _driver.Alloc(16);
        ulong table = _driver.WriteIndirectTable([(reply, 16, Write, 0)]);
        _driver.SetDesc(0, header, 40, Next, 1);
        _driver.SetDesc(1, table, 16, Indirect);
        _driver.Offer(0);

        Assert.Equal(PopResult.Chain, Pop(queue));
        Assert.Equal(1, _readable.Count);
        Assert.Equal(1, _writable.Count);
        Assert.True(_writable[0].Address == _driver.Host(reply));
    }

    [Fact]
    public void TryPop_ReadsAnUnalignedIndirectTable()
    {
        SplitQueue queue = _driver.CreateQueue();
        ulong buf = _driver.Alloc(8);
        ulong table = _driver.WriteIndirectTable([(buf, 8, 0, 0)], skew: 3);
        _driver.SetDesc(0, table, 16, Indirect);
        _driver.Offer(0);
        Assert.Equal(PopResult.Chain, Pop(queue));
        Assert.True(_readable[0].Address == _driver.Host(buf));
    }

    [Fact]
    public void TryPop_BoundsAnIndirectChainBySizeNotByTableLength()
    {
        // 8 entries in a queue of size 8 are fine; 9 chained entries are a chain longer than the queue.
        SplitQueue queue = _driver.CreateQueue();
        ulong buf = _driver.Alloc(8);
        var exact = Enumerable.Range(0, 8).Select(i => (buf, 8u, (ushort)(i < 7 ? Next : 0), (ushort)(i + 1))).ToList();
        _driver.SetDesc(0, _driver.WriteIndirectTable(exact), 8 * 16, Indirect);
        _driver.Offer(0);
        Assert.Equal(PopResult.Chain, Pop(queue));
        Assert.Equal(8, _readable.Count);

        var tooLong = Enumerable.Range(0, 9).Select(i => (buf, 8u, (ushort)(i < 8 ? Next : 0), (ushort)(i + 1))).ToList();
        _driver.SetDesc(1, _driver.WriteIndirectTable(tooLong), 9 * 16, Indirect);
        _driver.Offer(1);
        Assert.Equal(PopResult.BadChain, Pop(queue));
        Assert.Contains("longer than the queue size", queue.LastChainError);

        // Direct descriptors before the table count too: 2 + 7 > 8.
        var seven = exact.Take(7).Select((e, i) => i < 6 ? e : (e.buf, e.Item2, (ushort)0, (ushort)0)).ToList();
        _driver.SetDesc(2, buf, 8, Next, 3);
        _driver.SetDesc(3, buf, 8, Next, 4);
        _driver.SetDesc(4, _driver.WriteIndirectTable(seven), 7 * 16, Indirect);
        _driver.Offer(2);
        Assert.Equal(PopResult.BadChain, Pop(queue));
        Assert.Contains("longer than the queue size", queue.LastChainError);
    }

    [Fact]
    public void TryPop_RejectsALoopInsideAnIndirectTable()
    {
        SplitQueue queue = _driver.CreateQueue();
        ulong buf = _driver.Alloc(8);
        ulong table = _driver.WriteIndirectTable([(buf, 8, Next, 1), (buf, 8, Next, 0)]);
        _driver.SetDesc(0, table, 32, Indirect);
        _driver.Offer(0);
        Assert.Equal(PopResult.BadChain, Pop(queue));
        Assert.Contains("longer than the queue size", queue.LastChainError);
    }

    [Fact]
    public void TryPop_RejectsNextBeyondTheIndirectTable()
    {
        // next = 2 is a valid index in the main table but not in a 2-entry indirect table.
        SplitQueue queue = _driver.CreateQueue();
        ulong buf = _driver.Alloc(8);
        ulong table = _driver.WriteIndirectTable([(buf, 8, Next, 1), (buf, 8, Next, 2), (buf, 8, 0, 0)]);
        _driver.SetDesc(0, table, 32, Indirect); // the length says 2 entries; the third is outside the table
        _driver.Offer(0);
        Assert.Equal(PopResult.BadChain, Pop(queue));
        Assert.Contains("next index out of range", queue.LastChainError);
    }

    [Fact]
    public void TryPop_RejectsIndirectWhenNotNegotiated()
    {
        SplitQueue queue = _driver.CreateQueue(indirect: false);
        ulong table = _driver.WriteIndirectTable([(_driver.Alloc(8), 8, 0, 0)]);
        _driver.SetDesc(0, table, 16, Indirect);
        _driver.Offer(0);
        Assert.Equal(PopResult.BadChain, Pop(queue));
        Assert.Contains("not negotiated", queue.LastChainError);
    }

    [Fact]
    public void TryPop_RejectsIndirectWithNext()
    {
        SplitQueue queue = _driver.CreateQueue();
        ulong table = _driver.WriteIndirectTable([(_driver.Alloc(8), 8, 0, 0)]);
        _driver.SetDesc(0, table, 16, Indirect | Next, 1);
        _driver.SetDesc(1, _driver.Alloc(8), 8, Write);
        _driver.Offer(0);
        Assert.Equal(PopResult.BadChain, Pop(queue));
        Assert.Contains("also has NEXT", queue.LastChainError);
    }

    [Fact]
    public void TryPop_RejectsNestedIndirectTables()
    {
        SplitQueue queue = _driver.CreateQueue();
        ulong inner = _driver.WriteIndirectTable([(_driver.Alloc(8), 8, 0, 0)]);
        ulong outer = _driver.WriteIndirectTable([(_driver.Alloc(8), 8, Next, 1), (inner, 16, Indirect, 0)]);
        _driver.SetDesc(0, outer, 32, Indirect);
        _driver.Offer(0);
        Assert.Equal(PopResult.BadChain, Pop(queue));
        Assert.Contains("inside an indirect table", queue.LastChainError);
    }

    [Fact]
    public void TryPop_RejectsAnIndirectTablePointingAtItself()
    {
        SplitQueue queue = _driver.CreateQueue();
        ulong table = _driver.Alloc(16, 16);
        WriteDesc(_driver.Host(table), table, 16, Indirect, 0);
        _driver.SetDesc(0, table, 16, Indirect);
        _driver.Offer(0);
        Assert.Equal(PopResult.BadChain, Pop(queue));
        Assert.Contains("inside an indirect table", queue.LastChainError);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(15u)]
    [InlineData(17u)]
    [InlineData(uint.MaxValue)]
    public void TryPop_RejectsBadIndirectTableLengths(uint length)
    {
        SplitQueue queue = _driver.CreateQueue();
        ulong table = _driver.WriteIndirectTable([(_driver.Alloc(8), 8, 0, 0), (_driver.Alloc(8), 8, 0, 0)]);
        _driver.SetDesc(0, table, length, Indirect);
        _driver.Offer(0);
        Assert.Equal(PopResult.BadChain, Pop(queue));
        Assert.Contains("multiple of 16", queue.LastChainError);
    }

    [Theory]
    [InlineData(0UL, 16u)]
    [InlineData(TestRingDriver.GuestBase + TestRingDriver.MemorySize - 16, 32u)]
    [InlineData(ulong.MaxValue - 15, 32u)]
    [InlineData(TestRingDriver.GuestBase, 0xffff_fff0u)]
    public void TryPop_RejectsIndirectTablesOutsideMemory(ulong addr, uint length)
    {
        SplitQueue queue = _driver.CreateQueue();
        _driver.SetDesc(0, addr, length, Indirect);
        _driver.Offer(0);
        Assert.Equal(PopResult.BadChain, Pop(queue));
        Assert.Contains("indirect table is not inside", queue.LastChainError);
    }

    [Fact]
    public void TryPop_RejectsBadEntriesInsideAnIndirectTable()
    {
        SplitQueue queue = _driver.CreateQueue();
        ulong good = _driver.Alloc(8);

        _driver.SetDesc(0, _driver.WriteIndirectTable([(good, 8, Next, 1), (ulong.MaxValue - 3, 8, Write, 0)]), 32, Indirect);
        _driver.Offer(0);
        Assert.Equal(PopResult.BadChain, Pop(queue));
        Assert.Contains("descriptor buffer is not inside", queue.LastChainError);

        _driver.SetDesc(1, _driver.WriteIndirectTable([(good, 8, Write | Next, 1), (good, 8, 0, 0)]), 32, Indirect);
        _driver.Offer(1);
        Assert.Equal(PopResult.BadChain, Pop(queue));
        Assert.Contains("readable descriptor after", queue.LastChainError);
    }

    [Fact]
    public void TryPop_ChecksSegmentCapacityForIndirectChains()
    {
        SplitQueue queue = _driver.CreateQueue();
        ulong buf = _driver.Alloc(8);
        _driver.SetDesc(0, _driver.WriteIndirectTable([(buf, 8, Write | Next, 1), (buf, 8, Write | Next, 2), (buf, 8, Write, 0)]), 48, Indirect);
        _driver.Offer(0);
        Assert.Equal(PopResult.BadChain, queue.TryPop(new SegmentList(4), new SegmentList(2), out _));
        Assert.Contains("device-writable descriptors for the segment list", queue.LastChainError);
    }
}
