using VirtioFs.Backend.Fuse;
using VirtioFs.Backend.Fuse.Abi;
using VirtioFs.Backend.Passthrough;
using Xunit;

namespace VirtioFs.Tests.Fuse;

public class FuseServerInitTests
{
    private const FuseInitFlags Expected =
        FuseInitFlags.AsyncRead | FuseInitFlags.ParallelDirops | FuseInitFlags.BigWrites | FuseInitFlags.AutoInvalData |
        FuseInitFlags.AsyncDio | FuseInitFlags.HasIoctlDir | FuseInitFlags.AtomicOTrunc | FuseInitFlags.MaxPages |
        FuseInitFlags.InitExt | FuseInitFlags.DoReaddirplus | FuseInitFlags.ReaddirplusAuto | FuseInitFlags.Submounts |
        FuseInitFlags.CreateSuppGroup;

    [Fact]
    public void NegotiatesVersion738WithVirtiofsdLimits()
    {
        using var harness = new FuseHarness(init: false);
        FuseReply reply = harness.Init();
        Assert.Equal(0, reply.Errno);
        Assert.Equal(16 + 64, reply.UsedLength);
        FuseInitOut init = reply.Read<FuseInitOut>();
        Assert.Equal(7u, init.Major);
        Assert.Equal(38u, init.Minor);
        Assert.Equal(1u << 20, init.MaxWrite);
        Assert.Equal((ushort)256, init.MaxPages);
        Assert.Equal((ushort)65535, init.MaxBackground);
        Assert.Equal((ushort)49149, init.CongestionThreshold);
        Assert.Equal(1u, init.TimeGran);
        Assert.Equal(128u * 1024, init.MaxReadahead);
        Assert.Equal(unchecked((uint)Expected), init.Flags);
        Assert.Equal((uint)((ulong)Expected >> 32), init.Flags2);
        Assert.True(harness.Server.IsInitialized);
    }

    [Fact]
    public void OutFlagsAreTheIntersectionWithWhatTheGuestOffers()
    {
        using var harness = new FuseHarness(init: false);
        FuseReply reply = harness.Init(flags: FuseInitFlags.AsyncRead | FuseInitFlags.BigWrites | FuseInitFlags.PosixLocks | FuseInitFlags.WritebackCache);
        Assert.Equal(0, reply.Errno);
        Assert.Equal((uint)(FuseInitFlags.AsyncRead | FuseInitFlags.BigWrites), reply.Read<FuseInitOut>().Flags);
    }

    [Fact]
    public void ReaddirplusAndWritebackFollowTheOptions()
    {
        using var noPlus = new FuseHarness(share => new PassthroughOptions { SharedDirectory = share, ReaddirPlus = false, Writeback = true }, init: false);
        var flags = (FuseInitFlags)noPlus.Init().Read<FuseInitOut>().Flags;
        Assert.Equal(FuseInitFlags.None, flags & (FuseInitFlags.DoReaddirplus | FuseInitFlags.ReaddirplusAuto));
        Assert.Equal(FuseInitFlags.WritebackCache, flags & FuseInitFlags.WritebackCache);

        using var never = new FuseHarness(share => new PassthroughOptions { SharedDirectory = share, Cache = CachePolicy.Never }, init: false);
        flags = (FuseInitFlags)never.Init().Read<FuseInitOut>().Flags;
        Assert.Equal(FuseInitFlags.None, flags & FuseInitFlags.DoReaddirplus);
    }

    [Fact]
    public void LegacySixteenByteInitFromMinor27IsAccepted()
    {
        using var harness = new FuseHarness(init: false);
        byte[] args = new ArgsBuilder().Add(new FuseInitIn { Major = 7, Minor = 27, Flags = (uint)FuseInitFlags.AsyncRead }).ToArray()[..16];
        FuseReply reply = harness.Send(FuseOpcode.Init, 0, args);
        Assert.Equal(0, reply.Errno);
        Assert.Equal(38u, reply.Read<FuseInitOut>().Minor);
        Assert.Equal(27u, harness.Server.GuestMinorVersion);
    }

    [Theory]
    [InlineData(7u, 26u)]
    [InlineData(6u, 99u)]
    public void TooOldProtocolGetsEproto(uint major, uint minor)
    {
        using var harness = new FuseHarness(init: false);
        Assert.Equal(71, harness.Init(major, minor).Errno);
        Assert.False(harness.Server.IsInitialized);
    }

    [Fact]
    public void NewerMajorGetsOurVersionSoTheKernelRetries()
    {
        using var harness = new FuseHarness(init: false);
        FuseReply reply = harness.Init(major: 8, minor: 0);
        Assert.Equal(0, reply.Errno);
        Assert.Equal(7u, reply.Read<FuseInitOut>().Major);
        Assert.Equal(38u, reply.Read<FuseInitOut>().Minor);
        Assert.False(harness.Server.IsInitialized);
        Assert.Equal(0, harness.Init().Errno);
        Assert.True(harness.Server.IsInitialized);
    }

    [Fact]
    public void RequestsBeforeInitGetEio()
    {
        using var harness = new FuseHarness(init: false);
        Assert.Equal(5, harness.GetAttr(1).Errno);
        Assert.Equal(5, harness.Lookup(1, "x").Errno);
        Assert.Equal(0, harness.Init().Errno);
        Assert.Equal(0, harness.GetAttr(1).Errno);
    }

    [Fact]
    public void InitAndDestroyWipeEarlierState()
    {
        using var harness = new FuseHarness();
        File.WriteAllText(Path.Combine(harness.Share, "f"), "x");
        ulong node = harness.LookupId(1, "f");
        var (fileNode, fh) = harness.CreateOk(1, "g");
        Assert.Equal(3, harness.FileSystem.InodeCount);
        Assert.Equal(1, harness.FileSystem.HandleCount);

        Assert.Equal(0, harness.Init().Errno);
        Assert.Equal(1, harness.FileSystem.InodeCount);
        Assert.Equal(0, harness.FileSystem.HandleCount);
        Assert.Equal(9, harness.GetAttr(node).Errno);
        Assert.Equal(9, harness.Read(fileNode, fh, 0, 10).Errno);

        harness.LookupId(1, "f");
        Assert.Equal(0, harness.Send(FuseOpcode.Destroy, 0, Array.Empty<byte>()).Errno);
        Assert.Equal(1, harness.FileSystem.InodeCount);
        Assert.Equal(5, harness.GetAttr(1).Errno);
    }

    [Fact]
    public void ResetForgetsEverythingButTheRoot()
    {
        using var harness = new FuseHarness();
        harness.CreateOk(1, "a");
        harness.Server.Reset();
        Assert.False(harness.Server.IsInitialized);
        Assert.Equal(1, harness.FileSystem.InodeCount);
        Assert.Equal(0, harness.FileSystem.HandleCount);
    }

    [Fact]
    public void UnsupportedOperationsAnswerEnosys()
    {
        using var harness = new FuseHarness();
        var args = new byte[64];
        // Locks are off by default (as the C virtiofsd's no_posix_lock,no_flock); IOCTL and POLL as both virtiofsd.
        foreach (FuseOpcode opcode in new[]
        {
            FuseOpcode.GetLk, FuseOpcode.SetLk, FuseOpcode.SetLkw, FuseOpcode.Ioctl, FuseOpcode.Poll, FuseOpcode.Bmap,
            FuseOpcode.SetupMapping, FuseOpcode.RemoveMapping, FuseOpcode.Statx, (FuseOpcode)999, (FuseOpcode)4096,
        })
        {
            Assert.Equal(38, harness.Send(opcode, 1, args).Errno);
        }
        harness.AssertHealthy();
    }

    [Fact]
    public void NotifyReplyIsDroppedWithoutAReply()
    {
        using var harness = new FuseHarness();
        FuseReply reply = harness.Send(FuseOpcode.NotifyReply, 1, new byte[64]);
        Assert.Equal(0, reply.UsedLength);
        harness.AssertHealthy();
    }

    [Fact]
    public void InterruptGetsNoReply()
    {
        using var harness = new FuseHarness();
        FuseReply reply = harness.Send(FuseOpcode.Interrupt, 0, new ArgsBuilder().Add(new FuseInterruptIn { Unique = 5 }));
        Assert.Equal(0, reply.UsedLength);
        Assert.Equal((uint)FuseOpcode.Interrupt, harness.Worker.LastOpcode);
    }

    [Fact]
    public void XattrOperationsAreEnosysWhileXattrIsOff()
    {
        using var harness = new FuseHarness();
        File.WriteAllText(Path.Combine(harness.Share, "f"), "x");
        ulong node = harness.LookupId(1, "f");
        Assert.Equal(38, harness.Send(FuseOpcode.GetXattr, node, new ArgsBuilder().Add(new FuseGetxattrIn { Size = 100 }).Name("user.a")).Errno);
        Assert.Equal(38, harness.Send(FuseOpcode.ListXattr, node, new ArgsBuilder().Add(new FuseGetxattrIn { Size = 100 })).Errno);
        Assert.Equal(38, harness.Send(FuseOpcode.SetXattr, node, new ArgsBuilder().Add(new FuseGetxattrIn { Size = 1 }).Name("user.a").Raw("v"u8)).Errno);
        Assert.Equal(38, harness.Send(FuseOpcode.RemoveXattr, node, new ArgsBuilder().Name("user.a")).Errno);
    }
}
