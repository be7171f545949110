using System.Buffers.Binary;
using VirtioFs.Frontend.Memory;
using VirtioFs.Frontend.Virtqueue;
using Xunit;

namespace VirtioFs.Tests.Frontend;

/// <summary>The driver side of the split ring, checked against a device played by the test reading guest RAM directly.</summary>
public sealed class VirtqueueDriverTests : IDisposable
{
    private readonly GuestRam _ram = GuestRam.Create(4 << 20, regionCount: 2, guestPhysicalBase: 0x10_0000);

    public void Dispose() => _ram.Dispose();

    private (ulong addr, uint len, ushort flags, ushort next) Desc(ulong table, int i)
    {
        var d = _ram.GetSpan(table + (ulong)(16 * i), 16);
        return (BinaryPrimitives.ReadUInt64LittleEndian(d), BinaryPrimitives.ReadUInt32LittleEndian(d[8..]),
            BinaryPrimitives.ReadUInt16LittleEndian(d[12..]), BinaryPrimitives.ReadUInt16LittleEndian(d[14..]));
    }

    private ushort AvailIdx(VirtqueueDriver q) => BinaryPrimitives.ReadUInt16LittleEndian(_ram.GetSpan(q.AvailRingAddress + 2, 2));
    private ushort AvailRing(VirtqueueDriver q, int slot) => BinaryPrimitives.ReadUInt16LittleEndian(_ram.GetSpan(q.AvailRingAddress + 4 + (ulong)(2 * slot), 2));

    private void DevicePushUsed(VirtqueueDriver q, ushort usedIdx, uint id, uint len)
    {
        var elem = _ram.GetSpan(q.UsedRingAddress + 4 + (ulong)(8 * (usedIdx % q.Size)), 8);
        BinaryPrimitives.WriteUInt32LittleEndian(elem, id);
        BinaryPrimitives.WriteUInt32LittleEndian(elem[4..], len);
        BinaryPrimitives.WriteUInt16LittleEndian(_ram.GetSpan(q.UsedRingAddress + 2, 2), (ushort)(usedIdx + 1));
    }

    [Fact]
    public void Chain_is_linked_readable_first_and_published_in_avail()
    {
        using var q = new VirtqueueDriver(_ram, 1, 8, eventIdx: false, indirectDescriptors: false);
        ushort head = q.AddChain([(0x10_1000, 40, false), (0x10_2000, 8, false), (0x10_3000, 16, true)]);
        Assert.Equal(5, q.FreeDescriptors);
        Assert.Equal(1, AvailIdx(q));
        Assert.Equal(head, AvailRing(q, 0));

        var d0 = Desc(q.DescriptorTableAddress, head);
        Assert.Equal((0x10_1000UL, 40u, VirtqDescriptorFlags.Next), (d0.addr, d0.len, d0.flags));
        var d1 = Desc(q.DescriptorTableAddress, d0.next);
        Assert.Equal((0x10_2000UL, 8u, VirtqDescriptorFlags.Next), (d1.addr, d1.len, d1.flags));
        var d2 = Desc(q.DescriptorTableAddress, d1.next);
        Assert.Equal((0x10_3000UL, 16u, VirtqDescriptorFlags.Write), (d2.addr, d2.len, d2.flags));

        Assert.False(q.TryTakeUsed(out _, out _));
        DevicePushUsed(q, 0, head, 16);
        Assert.True(q.WaitUsed(TimeSpan.FromSeconds(1), out ushort got, out uint len));
        Assert.Equal((head, 16u), (got, len));
        Assert.Equal(8, q.FreeDescriptors);
    }

    [Fact]
    public void Indirect_chain_uses_one_ring_descriptor_and_a_table()
    {
        using var q = new VirtqueueDriver(_ram, 1, 8, eventIdx: false, indirectDescriptors: true);
        ushort head = q.AddChain([(0x10_1000, 40, false), (0x10_3000, 16, true)], indirect: true);
        Assert.Equal(7, q.FreeDescriptors);
        var ring = Desc(q.DescriptorTableAddress, head);
        Assert.Equal(VirtqDescriptorFlags.Indirect, ring.flags);
        Assert.Equal(32u, ring.len);
        var t0 = Desc(ring.addr, 0);
        var t1 = Desc(ring.addr, 1);
        Assert.Equal((0x10_1000UL, VirtqDescriptorFlags.Next, (ushort)1), (t0.addr, t0.flags, t0.next));
        Assert.Equal((0x10_3000UL, VirtqDescriptorFlags.Write), (t1.addr, t1.flags));
        DevicePushUsed(q, 0, head, 0);
        Assert.True(q.TryTakeUsed(out _, out _));
        Assert.Equal(8, q.FreeDescriptors);
    }

    [Fact]
    public void Event_idx_kick_follows_avail_event()
    {
        using var q = new VirtqueueDriver(_ram, 1, 8, eventIdx: true, indirectDescriptors: false);
        q.AddChain([(0x10_1000, 4, false)]);
        Assert.True(q.Kick()); // avail_event 0: the device wants to hear about entry 0

        // The device says "wake me at avail index 5": entries 1..4 need no kick.
        BinaryPrimitives.WriteUInt16LittleEndian(_ram.GetSpan(q.UsedRingAddress + 4 + 8 * 8UL, 2), 5);
        for (int i = 0; i < 3; i++) q.AddChain([(0x10_1000, 4, false)]);
        Assert.False(q.Kick());
        q.AddChain([(0x10_1000, 4, false)]);
        q.AddChain([(0x10_1000, 4, false)]);
        Assert.True(q.Kick()); // idx went 4 -> 6, past 5

        Assert.True(VirtqueueDriver.NeedEvent(0, 1, 0));
        Assert.False(VirtqueueDriver.NeedEvent(10, 5, 3));
        Assert.True(VirtqueueDriver.NeedEvent(65535, 1, 65534)); // across the wrap
    }

    [Fact]
    public void Wait_used_times_out_and_publishes_used_event()
    {
        using var q = new VirtqueueDriver(_ram, 1, 8, eventIdx: true, indirectDescriptors: false);
        ushort head = q.AddChain([(0x10_1000, 4, false)]);
        Assert.False(q.WaitUsed(TimeSpan.FromMilliseconds(50), out _, out _));
        DevicePushUsed(q, 0, head, 0);
        Assert.True(q.WaitUsed(TimeSpan.FromMilliseconds(50), out _, out _));
        ushort usedEvent = BinaryPrimitives.ReadUInt16LittleEndian(_ram.GetSpan(q.AvailRingAddress + 4 + 2 * 8UL, 2));
        Assert.Equal(1, usedEvent);
    }

    [Fact]
    public void Used_id_that_was_never_made_available_is_reported()
    {
        using var q = new VirtqueueDriver(_ram, 1, 8, eventIdx: false, indirectDescriptors: false);
        q.AddChain([(0x10_1000, 4, false)]);
        DevicePushUsed(q, 0, 7, 0);
        Assert.Throws<InvalidDataException>(() => q.TryTakeUsed(out _, out _));
    }

    [Fact]
    public void Raw_descriptors_are_written_verbatim()
    {
        using var q = new VirtqueueDriver(_ram, 1, 8, eventIdx: false, indirectDescriptors: false);
        ushort[] slots = q.ReserveDescriptors(2);
        q.WriteDescriptor(slots[0], 0xDEAD_BEEF_0000, uint.MaxValue, VirtqDescriptorFlags.Next, slots[1]);
        q.WriteDescriptor(slots[1], 0, 1, VirtqDescriptorFlags.Next, slots[0]); // a loop
        q.PublishAvail(slots[0]);
        var d = Desc(q.DescriptorTableAddress, slots[1]);
        Assert.Equal(slots[0], d.next);
        Assert.Equal(6, q.FreeDescriptors);
        DevicePushUsed(q, 0, slots[0], 0);
        Assert.True(q.TryTakeUsed(out ushort head, out _));
        Assert.Equal(slots[0], head);
        Assert.Equal(6, q.FreeDescriptors); // raw slots stay with whoever reserved them
        q.ReturnDescriptors(slots);
        Assert.Equal(8, q.FreeDescriptors);
    }

    [Fact]
    public void Guest_ram_regions_are_separate_and_allocations_stay_inside_one()
    {
        Assert.Equal(2, _ram.Regions.Count);
        var r0 = _ram.Regions[0];
        var r1 = _ram.Regions[1];
        Assert.Equal(0x10_0000UL, r0.GuestPhysicalAddress);
        Assert.True(r1.GuestPhysicalAddress > r0.GuestPhysicalEnd, "a gap separates the regions");
        Assert.Equal(r0.Size, r1.MmapOffset);
        Assert.False(_ram.Contains(r0.GuestPhysicalEnd - 8, 16));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ram.GetSpan(r0.GuestPhysicalEnd, 1));

        ulong big = _ram.Allocate(r0.Size - 4096, 4096);
        ulong next = _ram.Allocate(8192, 4096); // does not fit in region 0 any more
        Assert.True(r1.Contains(next, 8192));
        _ram.Free(big);
        ulong again = _ram.Allocate(r0.Size, 4096); // freed space merged back into one block
        Assert.Equal(r0.GuestPhysicalAddress, again);
        _ram.Write(again + 10, "abc"u8);
        Assert.Equal("abc"u8.ToArray(), _ram.ReadBytes(again + 10, 3));
    }
}
