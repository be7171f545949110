using VirtioFs.Backend.Memory;
using VirtioFs.Backend.Virtqueue;
using VirtioFs.Tests.Virtqueue;
using Xunit;

namespace VirtioFs.Tests.Bench;

/// <summary>SplitQueue.PeekAvailable: the depth hint for the inline/pool choice, which the guest cannot inflate.</summary>
public sealed class PeekAvailableTests : IDisposable
{
    private readonly TestRingDriver _driver = new(8);
    private readonly SegmentList _readable = new(8);
    private readonly SegmentList _writable = new(8);

    public void Dispose() => _driver.Dispose();

    [Fact]
    public void CountsOfferedChainsNotYetPopped()
    {
        SplitQueue queue = _driver.CreateQueue();
        Assert.Equal(0, queue.PeekAvailable());
        for (int i = 0; i < 3; i++)
        {
            _driver.MakeChain(i, (8, true));
            _driver.Offer((ushort)i);
        }
        Assert.Equal(3, queue.PeekAvailable());
        Assert.Equal(PopResult.Chain, queue.TryPop(_readable, _writable, out _));
        Assert.Equal(2, queue.PeekAvailable());
    }

    [Fact]
    public void ALyingAvailIndexIsClampedToTheQueueSize()
    {
        SplitQueue queue = _driver.CreateQueue();
        _driver.AvailIdx = 40_000; // the guest claims 40,000 buffers in an 8-entry ring
        Assert.Equal(8, queue.PeekAvailable());
        Assert.Equal(PopResult.BrokenRing, queue.TryPop(_readable, _writable, out _)); // TryPop still judges for itself
    }

    [Fact]
    public void WrapsAroundTheSixteenBitIndex()
    {
        SplitQueue queue = _driver.CreateQueue(nextAvail: 65534);
        _driver.AvailIdx = 1; // 65534, 65535, 0 are available
        Assert.Equal(3, queue.PeekAvailable());
    }
}
