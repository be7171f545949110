using Xunit;
using System.Runtime.InteropServices;
using VirtioFs.Backend.Interop;
using VirtioFs.Backend.Share;
using VirtioFs.Backend.VhostUser;
using VirtioFs.Backend.VhostUser.Messages;

namespace VirtioFs.Tests.VhostUser;

/// <summary>
/// The device's message handling over a real socket: what it offers, how it answers, and that every malformed message
/// ends the connection with a <see cref="VhostUserProtocolException"/> that says what was wrong.
/// </summary>
[Collection(VirtioFs.Tests.Share.ProcessWideCountsCollection.Name)]   // one test counts the process's fds
public sealed unsafe class VhostUserDeviceTests : IDisposable
{
    private const ulong NoFd = 0x100;
    private readonly RawVhostUserPeer _peer = new();
    private readonly RecordingRingWorkerFactory _workers = new();
    private readonly VhostUserDevice _device;
    private readonly VhostUserMessage _message = new();

    public VhostUserDeviceTests()
    {
        _device = new VhostUserDevice(new VhostUserDeviceOptions { RequestQueues = 2 }, _workers, ShareLog.Null);
    }

    public void Dispose()
    {
        _message.CloseUntakenFds();
        _device.Dispose();
        _peer.Dispose();
    }

    /// <summary>Receives and handles one message, as the share's connection thread does.</summary>
    private void Pump()
    {
        Assert.True(_peer.Connection.TryReceive(_message));
        try
        {
            _device.Handle(_message, _peer.Connection);
        }
        finally
        {
            _message.CloseUntakenFds();
        }
    }

    private VhostUserProtocolException PumpFails() => Assert.Throws<VhostUserProtocolException>(Pump);

    private void NegotiateReplyAck()
    {
        _peer.Send(VhostUserRequest.SetFeatures, VirtioFeatures.Offered);
        Pump();
        _peer.Send(VhostUserRequest.SetProtocolFeatures, (ulong)(ProtocolFeatures.Mq | ProtocolFeatures.ReplyAck | ProtocolFeatures.ConfigureMemSlots));
        Pump();
    }

    private static SafeFd MakeMemfd(long size)
    {
        var fd = SafeFd.Check(Libc.memfd_create("test-guest-ram", Libc.MFD_CLOEXEC), "memfd_create");
        Assert.Equal(0, Libc.ftruncate(fd.Value, size));
        return fd;
    }

    [Fact]
    public void OffersVirtiofsdsFeaturesWithoutConfigOrPackedRing()
    {
        _peer.Send(VhostUserRequest.GetFeatures, ReadOnlySpan<byte>.Empty);
        Pump();
        ulong features = _peer.ReadU64Reply(VhostUserRequest.GetFeatures);
        Assert.Equal(VirtioFeatures.Version1 | VirtioFeatures.RingIndirectDesc | VirtioFeatures.RingEventIdx | VirtioFeatures.ProtocolFeatures, features);
        Assert.Equal(0UL, features & (1UL << 34));   // VIRTIO_F_RING_PACKED

        _peer.Send(VhostUserRequest.GetProtocolFeatures, ReadOnlySpan<byte>.Empty);
        Pump();
        var protocol = (ProtocolFeatures)_peer.ReadU64Reply(VhostUserRequest.GetProtocolFeatures);
        Assert.True(protocol.HasFlag(ProtocolFeatures.Mq));
        Assert.True(protocol.HasFlag(ProtocolFeatures.ReplyAck));
        Assert.True(protocol.HasFlag(ProtocolFeatures.ConfigureMemSlots));
        Assert.False(protocol.HasFlag(ProtocolFeatures.Config));   // QEMU 7.1-8.0 crash on it
    }

    [Fact]
    public void QueueNumCountsHiprioPlusRequestQueues()
    {
        _peer.Send(VhostUserRequest.GetQueueNum, ReadOnlySpan<byte>.Empty);
        Pump();
        Assert.Equal(3UL, _peer.ReadU64Reply(VhostUserRequest.GetQueueNum));
    }

    [Fact]
    public void ConfigIsOfferedAndAnsweredOnlyWithATag()
    {
        using var tagged = new VhostUserDevice(new VhostUserDeviceOptions { ConfigTag = "myfs" }, _workers, ShareLog.Null);
        Assert.True(tagged.OfferedProtocolFeatures.HasFlag(ProtocolFeatures.Config));

        // Without a tag, GET_CONFIG gets the "failed" answer: a reply whose size field is 0.
        var request = new byte[ConfigHeader.Size + 40];
        BitConverter.TryWriteBytes(request.AsSpan(4), 40u);
        _peer.Send(VhostUserRequest.GetConfig, request);
        Pump();
        var (header, payload) = _peer.ReadReply();
        Assert.Equal(VhostUserRequest.GetConfig, header.Request);
        Assert.Equal(0u, BitConverter.ToUInt32(payload, 4));
    }

    [Fact]
    public void ReplyAckAnswersZeroOnSuccessAndOneOnRefusal()
    {
        NegotiateReplyAck();
        _peer.Send(VhostUserRequest.SetOwner, ReadOnlySpan<byte>.Empty, flags: VhostUserHeader.Version | VhostUserHeader.NeedReplyFlag);
        Pump();
        Assert.Equal(0UL, _peer.ReadU64Reply(VhostUserRequest.SetOwner));

        // Dirty logging is not offered: SET_LOG_BASE is refused, its fd closed, and no unsolicited reply is sent.
        using SafeFd log = MakeMemfd(4096);
        _peer.Send(VhostUserRequest.SetLogBase, new byte[16], [log.Value], VhostUserHeader.Version | VhostUserHeader.NeedReplyFlag);
        Pump();
        Assert.Equal(1UL, _peer.ReadU64Reply(VhostUserRequest.SetLogBase));
        _peer.Send(VhostUserRequest.SetLogBase, new byte[16], [log.Value]);
        Pump();
        Assert.True(_peer.NothingPending());
    }

    [Fact]
    public void MemTableIsMappedAndAcquirable()
    {
        NegotiateReplyAck();
        using SafeFd ram = MakeMemfd(1 << 20);
        var payload = new byte[8 + MemoryRegionPayload.Size];
        BitConverter.TryWriteBytes(payload, 1u);
        var region = new MemoryRegionPayload { GuestPhysAddr = 0, MemorySize = 1 << 20, UserAddr = 0x7f0000000000, MmapOffset = 0 };
        MemoryMarshal.Write(payload.AsSpan(8), in region);
        _peer.Send(VhostUserRequest.SetMemTable, payload, [ram.Value], VhostUserHeader.Version | VhostUserHeader.NeedReplyFlag);
        Pump();
        Assert.Equal(0UL, _peer.ReadU64Reply(VhostUserRequest.SetMemTable));
        var memory = _device.AcquireMemory();
        Assert.NotNull(memory);
        Assert.True(memory!.TryTranslate(0x1000, 16, out _));
        Assert.False(memory.TryTranslate((1 << 20) - 8, 16, out _));
        memory.Release();
    }

    [Theory]
    [InlineData(0u, 8, 0, "regions")]          // no regions
    [InlineData(9u, 8 + 9 * 32, 0, "regions")] // more than 8
    [InlineData(1u, 8, 1, "must carry")]       // count says 1, payload has none
    [InlineData(2u, 8 + 2 * 32, 1, "file descriptors")] // 2 regions, 1 fd
    public void MalformedMemTableEndsTheConnection(uint count, int length, int fds, string expected)
    {
        using SafeFd ram = MakeMemfd(4096);
        var payload = new byte[length];
        BitConverter.TryWriteBytes(payload, count);
        int[] fdArray = Enumerable.Repeat(ram.Value, fds).ToArray();
        _peer.Send(VhostUserRequest.SetMemTable, payload, fdArray);
        Assert.Contains(expected, PumpFails().Message);
    }

    [Fact]
    public void MemTableRegionLargerThanItsFileIsRefusedOrMapped_ButOverflowingSizesAreRefused()
    {
        using SafeFd ram = MakeMemfd(4096);
        var payload = new byte[8 + MemoryRegionPayload.Size];
        BitConverter.TryWriteBytes(payload, 1u);
        var region = new MemoryRegionPayload { GuestPhysAddr = ulong.MaxValue - 10, MemorySize = 4096, UserAddr = 0, MmapOffset = 0 };
        MemoryMarshal.Write(payload.AsSpan(8), in region);
        _peer.Send(VhostUserRequest.SetMemTable, payload, [ram.Value]);
        Assert.Contains("SET_MEM_TABLE rejected", PumpFails().Message);
    }

    [Theory]
    [InlineData(VhostUserRequest.SetVringNum, 0u, 100u, "power of two")]
    [InlineData(VhostUserRequest.SetVringNum, 0u, 65536u, "power of two")]
    [InlineData(VhostUserRequest.SetVringNum, 3u, 128u, "ring 3")]
    [InlineData(VhostUserRequest.SetVringBase, 7u, 0u, "ring 7")]
    [InlineData(VhostUserRequest.SetVringBase, 1u, 70000u, "split-ring index")]
    [InlineData(VhostUserRequest.SetVringEnable, 1u, 2u, "0 or 1")]
    public void BadRingStateEndsTheConnection(VhostUserRequest request, uint index, uint num, string expected)
    {
        _peer.Send(request, new VringState { Index = index, Num = num });
        Assert.Contains(expected, PumpFails().Message);
    }

    [Fact]
    public void KickWithoutItsFdOrWithReservedBitsEndsTheConnection()
    {
        _peer.Send(VhostUserRequest.SetVringKick, 1UL);   // says "fd attached" but none is
        Assert.Contains("file descriptors", PumpFails().Message);
        _peer.Send(VhostUserRequest.SetVringCall, 1UL | 0x200);
        Assert.Contains("reserved bits", PumpFails().Message);
        _peer.Send(VhostUserRequest.SetVringErr, 9UL | NoFd);
        Assert.Contains("ring 9", PumpFails().Message);
    }

    [Fact]
    public void UnknownAndUnofferedRequestsEndTheConnection()
    {
        _peer.Send((VhostUserRequest)999, ReadOnlySpan<byte>.Empty);
        Assert.Contains("unknown request code 999", PumpFails().Message);
        _peer.Send(VhostUserRequest.GetInflightFd, new byte[24]);
        Assert.Contains("did not offer", PumpFails().Message);
        _peer.Send(VhostUserRequest.SetFeatures, 1UL << 34);   // packed ring, never offered
        Assert.Contains("did not offer", PumpFails().Message);
    }

    [Fact]
    public void WrongSizesAndVersionsAreRejectedBeforeDispatch()
    {
        _peer.Send(VhostUserRequest.SetFeatures, new byte[4]);
        Assert.Contains("8 expected", PumpFails().Message);
        _peer.Send(VhostUserRequest.GetFeatures, ReadOnlySpan<byte>.Empty, flags: 2);
        Assert.Throws<VhostUserProtocolException>(() => _peer.Connection.TryReceive(_message));
    }

    [Fact]
    public void OversizedPayloadIsRejectedWithoutReadingIt()
    {
        _peer.Send(VhostUserRequest.SetMemTable, ReadOnlySpan<byte>.Empty, sizeOverride: 1 << 20);
        var e = Assert.Throws<VhostUserProtocolException>(() => _peer.Connection.TryReceive(_message));
        Assert.Contains("payload bytes", e.Message);
    }

    [Fact]
    public void TruncatedMessageIsAProtocolErrorAndCleanCloseIsNot()
    {
        _peer.Send(VhostUserRequest.SetFeatures, new byte[4], sizeOverride: 8);
        _peer.CloseSendSide();
        Assert.Throws<VhostUserProtocolException>(() => _peer.Connection.TryReceive(_message));

        using var clean = new RawVhostUserPeer();
        clean.CloseSendSide();
        Assert.False(clean.Connection.TryReceive(new VhostUserMessage()));
    }

    [Fact]
    public void StrayAndExcessFileDescriptorsAreClosed()
    {
        int before = VirtioFs.Tests.Share.ProcessCounts.OpenFds();
        using (SafeFd stray = MakeMemfd(4096))
        {
            // SET_OWNER takes no fds; the one attached must not leak.
            _peer.Send(VhostUserRequest.SetOwner, ReadOnlySpan<byte>.Empty, [stray.Value]);
            Assert.Throws<VhostUserProtocolException>(Pump);
            // More than 8 fds: the kernel truncates the control data; that is an error, and nothing leaks.
            _peer.Send(VhostUserRequest.SetOwner, ReadOnlySpan<byte>.Empty, Enumerable.Repeat(stray.Value, 12).ToArray());
            Assert.Throws<VhostUserProtocolException>(() => _peer.Connection.TryReceive(_message));
            _message.CloseUntakenFds();
        }
        Assert.Equal(before, VirtioFs.Tests.Share.ProcessCounts.OpenFds());
    }

    [Fact]
    public void RingStartsOnKickAndEnableAndStopsOnGetVringBase()
    {
        NegotiateReplyAck();
        using SafeFd ram = MakeMemfd(1 << 20);
        var table = new byte[8 + MemoryRegionPayload.Size];
        BitConverter.TryWriteBytes(table, 1u);
        var region = new MemoryRegionPayload { GuestPhysAddr = 0, MemorySize = 1 << 20, UserAddr = 0x10000000, MmapOffset = 0 };
        MemoryMarshal.Write(table.AsSpan(8), in region);
        _peer.Send(VhostUserRequest.SetMemTable, table, [ram.Value]);
        Pump();
        _peer.Send(VhostUserRequest.SetVringNum, new VringState { Index = 1, Num = 256 });
        Pump();
        _peer.Send(VhostUserRequest.SetVringBase, new VringState { Index = 1, Num = 5 });
        Pump();
        _peer.Send(VhostUserRequest.SetVringAddr, new VringAddress { Index = 1, DescUserAddr = 0x10000000, AvailUserAddr = 0x10001000, UsedUserAddr = 0x10002000 });
        Pump();
        using SafeFd kick = SafeFd.Check(Libc.eventfd(0, Libc.EFD_CLOEXEC), "eventfd");
        _peer.Send(VhostUserRequest.SetVringKick, 1UL, [kick.Value]);
        Pump();
        Assert.Empty(_workers.Started);   // PROTOCOL_FEATURES negotiated: not yet enabled
        _peer.Send(VhostUserRequest.SetVringEnable, new VringState { Index = 1, Num = 1 });
        Pump();
        Assert.Equal([1], _workers.Started);

        _peer.Send(VhostUserRequest.SetVringNum, new VringState { Index = 1, Num = 128 });
        Assert.Contains("while it is running", PumpFails().Message);

        _peer.Send(VhostUserRequest.GetVringBase, new VringState { Index = 1 });
        Pump();
        var (header, payload) = _peer.ReadReply();
        Assert.Equal(VhostUserRequest.GetVringBase, header.Request);
        Assert.Equal(new VringState { Index = 1, Num = 5 }, MemoryMarshal.Read<VringState>(payload));
        Assert.Equal([1], _workers.Stopped);
    }

    [Fact]
    public void RingAddressOutsideMemoryEndsTheConnectionWhenTheRingStarts()
    {
        _peer.Send(VhostUserRequest.SetFeatures, VirtioFeatures.Version1);   // no PROTOCOL_FEATURES: rings start enabled
        Pump();
        using SafeFd ram = MakeMemfd(1 << 16);
        var table = new byte[8 + MemoryRegionPayload.Size];
        BitConverter.TryWriteBytes(table, 1u);
        var region = new MemoryRegionPayload { GuestPhysAddr = 0, MemorySize = 1 << 16, UserAddr = 0x10000000 };
        MemoryMarshal.Write(table.AsSpan(8), in region);
        _peer.Send(VhostUserRequest.SetMemTable, table, [ram.Value]);
        Pump();
        _peer.Send(VhostUserRequest.SetVringNum, new VringState { Index = 0, Num = 1024 });
        Pump();
        _peer.Send(VhostUserRequest.SetVringAddr, new VringAddress { Index = 0, DescUserAddr = 0x10000000, AvailUserAddr = 0x10004000, UsedUserAddr = 0x20000000 });
        Pump();
        using SafeFd kick = SafeFd.Check(Libc.eventfd(0, Libc.EFD_CLOEXEC), "eventfd");
        _peer.Send(VhostUserRequest.SetVringKick, 0UL, [kick.Value]);
        Assert.Contains("used ring", PumpFails().Message);
        Assert.Empty(_workers.Started);
    }
}
