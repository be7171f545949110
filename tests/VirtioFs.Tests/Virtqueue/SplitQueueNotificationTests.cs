using VirtioFs.Backend.Memory;
using VirtioFs.Backend.Virtqueue;
using Xunit;

namespace VirtioFs.Tests.Virtqueue;

/// <summary>When to interrupt the driver (PublishUsed) and when the driver kicks us (Disable/EnableNotifications).</summary>
public unsafe class SplitQueueNotificationTests : IDisposable
{
    private readonly TestRingDriver _driver = new(8);
    private readonly SegmentList _readable = new(8);
    private readonly SegmentList _writable = new(8);

    public void Dispose() => _driver.Dispose();

    /// <summary>Offers and pops <paramref name="count"/> one-descriptor chains and adds them to the used ring.</summary>
    private void Complete(SplitQueue queue, int count)
    {
        for (int i = 0; i < count; i++)
        {
            _driver.MakeChain(i, (8, true));
            _driver.Offer((ushort)i);
            Assert.Equal(PopResult.Chain, queue.TryPop(_readable, _writable, out ushort head));
            queue.AddUsed(head, 8);
        }
    }

    [Theory]
    // vring_need_event(event, new, old) = (u16)(new - event - 1) < (u16)(new - old)
    [InlineData(1, 2, 1, true)]        // driver waits for entry 1, which is the one just published
    [InlineData(2, 2, 1, false)]       // driver waits for a later one
    [InlineData(0, 2, 1, false)]       // driver's mark is already behind: it was told before
    [InlineData(3, 5, 2, true)]        // mark inside a batch
    [InlineData(2, 5, 2, true)]        // mark at the first entry of the batch
    [InlineData(4, 5, 2, true)]        // mark at the last entry of the batch
    [InlineData(5, 5, 2, false)]       // mark one past the batch
    [InlineData(1, 5, 2, false)]       // mark before the batch
    [InlineData(65535, 1, 65534, true)] // batch 65534..0 spans the wrap, mark in it
    [InlineData(0, 1, 65534, true)]
    [InlineData(1, 1, 65534, false)]
    [InlineData(65533, 1, 65534, false)]
    [InlineData(7, 7, 7, false)]       // nothing new: never
    public void NeedEvent_MatchesVringNeedEvent(int eventIdx, int newIdx, int oldIdx, bool expected)
        => Assert.Equal(expected, SplitRing.NeedEvent((ushort)eventIdx, (ushort)newIdx, (ushort)oldIdx));

    [Fact]
    public void PublishUsed_WithoutEventIdxFollowsNoInterrupt()
    {
        SplitQueue queue = _driver.CreateQueue();
        Assert.False(queue.PublishUsed()); // nothing added: no store, no interrupt
        Assert.Equal(0, _driver.UsedIdx);

        Complete(queue, 1);
        Assert.True(queue.PublishUsed());
        Assert.Equal(1, _driver.UsedIdx);
        Assert.False(queue.PublishUsed());

        _driver.AvailFlags = 1; // VRING_AVAIL_F_NO_INTERRUPT
        Complete(queue, 2);
        Assert.False(queue.PublishUsed());
        Assert.Equal(3, _driver.UsedIdx); // published anyway, just not signalled

        _driver.AvailFlags = 0;
        Complete(queue, 1);
        Assert.True(queue.PublishUsed());
    }

    [Fact]
    public void PublishUsed_WithEventIdxAsksVringNeedEvent()
    {
        SplitQueue queue = _driver.CreateQueue(eventIdx: true);
        _driver.AvailFlags = 1; // ignored with EVENT_IDX

        // The first decision after Attach always notifies, whatever used_event says.
        _driver.UsedEvent = 100;
        Complete(queue, 1);
        Assert.True(queue.PublishUsed());

        // old = 1. The driver wants an interrupt once entry 3 is used.
        _driver.UsedEvent = 3;
        Complete(queue, 1);                 // new = 2: entry 1 only
        Assert.False(queue.PublishUsed());
        Complete(queue, 2);                 // new = 4: entries 2 and 3
        Assert.True(queue.PublishUsed());
        Complete(queue, 1);                 // new = 5, mark 3 already passed
        Assert.False(queue.PublishUsed());
        _driver.UsedEvent = 5;              // driver re-arms for entry 5
        Complete(queue, 1);
        Assert.True(queue.PublishUsed());
        Assert.Equal(6, _driver.UsedIdx);
        Assert.False(queue.PublishUsed());
    }

    [Fact]
    public void PublishUsed_WithEventIdxAcrossTheIndexWrap()
    {
        const ushort start = 65534;
        _driver.AvailIdx = start;
        _driver.UsedIdx = start;
        SplitQueue queue = _driver.CreateQueue(eventIdx: true, nextAvail: start);
        Complete(queue, 1);
        Assert.True(queue.PublishUsed()); // first after attach; old = 65535

        _driver.UsedEvent = 0;            // wants an interrupt when entry 0 (after the wrap) is used
        Complete(queue, 1);               // new = 0: entry 65535
        Assert.False(queue.PublishUsed());
        Complete(queue, 2);               // new = 2: entries 0 and 1
        Assert.True(queue.PublishUsed());
        Assert.Equal(2, _driver.UsedIdx);
    }

    [Fact]
    public void Notifications_WithoutEventIdxUseTheUsedFlag()
    {
        SplitQueue queue = _driver.CreateQueue();
        queue.DisableNotifications();
        Assert.Equal(1, _driver.UsedFlags); // VRING_USED_F_NO_NOTIFY
        Assert.False(queue.EnableNotifications());
        Assert.Equal(0, _driver.UsedFlags);
        Assert.Equal(0, _driver.AvailEvent); // untouched without EVENT_IDX
    }

    [Fact]
    public void Notifications_WithEventIdxUseAvailEvent()
    {
        SplitQueue queue = _driver.CreateQueue(eventIdx: true);
        Complete(queue, 3);
        queue.DisableNotifications();
        Assert.Equal(0, _driver.UsedFlags); // nothing to do with EVENT_IDX
        Assert.False(queue.EnableNotifications());
        Assert.Equal(3, _driver.AvailEvent); // kick me when entry 3 (the next one) is made available
        Assert.Equal(0, _driver.UsedFlags);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65533)]   // avail_event and the count of available buffers wrap past 65535
    public void EnableNotifications_ForABatchAsksForAKickAtItsLastBuffer(int nextAvail)
    {
        SplitQueue queue = _driver.CreateQueue(eventIdx: true, nextAvail: (ushort)nextAvail);
        _driver.AvailIdx = (ushort)nextAvail;
        Assert.False(queue.EnableNotifications(batch: 4));
        Assert.Equal(unchecked((ushort)(nextAvail + 3)), _driver.AvailEvent);   // the 4th new buffer kicks
        for (int i = 0; i < 3; i++)
        {
            _driver.MakeChain(i, (8, true));
            _driver.Offer((ushort)i);
            Assert.False(queue.EnableNotifications(batch: 4));                   // fewer than a batch: wait for it
        }
        Assert.True(queue.EnableNotifications(batch: 3));                        // a full batch is there already
        Assert.True(queue.EnableNotifications());
        Assert.Throws<ArgumentOutOfRangeException>(() => queue.EnableNotifications(batch: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => queue.EnableNotifications(batch: 9));  // more than the ring holds
    }

    [Fact]
    public void EnableNotifications_ForABatchWithoutEventIdxIsAPlainEnable()
    {
        SplitQueue queue = _driver.CreateQueue();
        queue.DisableNotifications();
        _driver.MakeChain(0, (8, true));
        _driver.Offer(0);
        Assert.True(queue.EnableNotifications(batch: 4));   // no way to ask for a later kick: one buffer counts
        Assert.Equal(0, _driver.UsedFlags);
        Assert.Equal(0, _driver.AvailEvent);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void EnableNotifications_ReportsBuffersThatArrivedWhileDisabled(bool eventIdx)
    {
        SplitQueue queue = _driver.CreateQueue(eventIdx: eventIdx);
        queue.DisableNotifications();
        // The driver adds a buffer and, seeing notifications off, does not kick.
        _driver.MakeChain(0, (8, true));
        _driver.Offer(0);
        Assert.True(queue.EnableNotifications()); // so the device must look again itself
        Assert.Equal(PopResult.Chain, queue.TryPop(_readable, _writable, out _));
        Assert.False(queue.EnableNotifications());
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 1)]
    [InlineData(false, 64)]
    [InlineData(true, 64)]
    public void DeviceAndDriverThreads_NeverLoseAWakeup(bool eventIdx, int depth)
    {
        // A driver thread offers buffers and kicks only when the ring asks for it (as Linux's virtqueue_kick_prepare
        // does); the device thread sleeps until kicked, then drains with the disable/process/enable loop. If the
        // re-check after EnableNotifications were missing or unfenced, the device would sleep with work pending and
        // the kick wait below would time out. With depth 1 the driver waits for each buffer to come back before it
        // offers the next, so it often offers while the device is between Disable and Enable: every missed re-check
        // is then a hang.
        const int total = 10000;
        using var driver = new TestRingDriver(64);
        SplitQueue queue = driver.CreateQueue(eventIdx: eventIdx);
        ulong buf = driver.Alloc(8);
        for (int i = 0; i < 64; i++) driver.SetDesc(i, buf, 8, TestRingDriver.Write);
        using var kick = new SemaphoreSlim(0);
        int consumed = 0;
        int stop = 0;
        Exception? driverFailure = null;

        var driverThread = new Thread(() =>
        {
            try
            {
                for (int sent = 0; sent < total; sent++)
                {
                    // Wait until fewer than `depth` buffers are outstanding (never more than Size).
                    while (unchecked((ushort)(driver.AvailIdx - driver.UsedIdx)) >= depth)
                    {
                        if (Volatile.Read(ref stop) != 0) return;
                        Thread.Yield();
                    }
                    ushort old = driver.AvailIdx;
                    driver.Offer((ushort)(sent % 64));
                    Interlocked.MemoryBarrier(); // virtio_mb before reading the device's wishes
                    bool needKick = eventIdx
                        ? SplitRing.NeedEvent(driver.AvailEvent, unchecked((ushort)(old + 1)), old)
                        : (driver.UsedFlags & 1) == 0;
                    if (needKick) kick.Release();
                }
            }
            catch (Exception e)
            {
                driverFailure = e;
            }
        }) { IsBackground = true };
        driverThread.Start();

        var readable = new SegmentList(4);
        var writable = new SegmentList(4);
        try
        {
            DeviceLoop();
        }
        finally
        {
            Volatile.Write(ref stop, 1); // after a failure, let the driver thread end too
            driverThread.Join();
        }
        Assert.Null(driverFailure);
        Assert.Equal(total, consumed);
        Assert.Equal(unchecked((ushort)total), driver.UsedIdx);

        void DeviceLoop()
        {
            while (consumed < total)
            {
                Assert.True(kick.Wait(TimeSpan.FromSeconds(10)), $"lost wakeup after {consumed} buffers");
                do
                {
                    queue.DisableNotifications();
                    PopResult result;
                    while ((result = queue.TryPop(readable, writable, out ushort head)) == PopResult.Chain)
                    {
                        queue.AddUsed(head, 8);
                        consumed++;
                    }
                    Assert.Equal(PopResult.Empty, result);
                    queue.PublishUsed();
                }
                while (queue.EnableNotifications());
            }
        }
    }
}
