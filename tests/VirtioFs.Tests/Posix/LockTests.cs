using VirtioFs.Backend.Fuse;
using VirtioFs.Backend.Fuse.Abi;
using VirtioFs.Backend.Passthrough;
using VirtioFs.Tests.Fuse;
using Xunit;

namespace VirtioFs.Tests.Posix;

/// <summary>Remote POSIX locks and flock, with raw requests: conflicts between owners, waiting, interrupting.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class LockTests
{
    private const uint F_RDLCK = 0, F_WRLCK = 1, F_UNLCK = 2;
    private const int EAGAIN = 11, EINVAL = 22, ENOSYS = 38, EINTR = 4, EOPNOTSUPP = 95;
    private const ulong ToEnd = long.MaxValue;

    private static FuseHarness LockingHarness() => new(share => new PassthroughOptions { SharedDirectory = share, PosixLocks = true, Flock = true });

    private static byte[] Lk(ulong fh, ulong owner, uint type, ulong start = 0, ulong end = ToEnd, bool flock = false, uint pid = 77)
        => new ArgsBuilder().Add(new FuseLkIn
        {
            Fh = fh,
            Owner = owner,
            Lk = new FuseFileLock { Start = start, End = end, Type = type, Pid = pid },
            LkFlags = flock ? FuseConstants.LkFlock : 0,
        });

    [Fact]
    public void LocksAreOffByDefaultAndNotNegotiated()
    {
        using var h = new FuseHarness();
        var (node, fh) = h.CreateOk(1, "f");
        Assert.Equal(FuseInitFlags.None, h.Server.NegotiatedFlags & (FuseInitFlags.PosixLocks | FuseInitFlags.FlockLocks));
        Assert.Equal(ENOSYS, h.Send(FuseOpcode.GetLk, node, Lk(fh, 1, F_WRLCK)).Errno);
        Assert.Equal(ENOSYS, h.Send(FuseOpcode.SetLk, node, Lk(fh, 1, F_WRLCK)).Errno);
        Assert.Equal(ENOSYS, h.Send(FuseOpcode.SetLk, node, Lk(fh, 1, F_WRLCK, flock: true)).Errno);
    }

    [Fact]
    public void OwnersConflictAndGetlkReportsTheHolder()
    {
        using var h = LockingHarness();
        Assert.Equal(FuseInitFlags.PosixLocks | FuseInitFlags.FlockLocks,
            h.Server.NegotiatedFlags & (FuseInitFlags.PosixLocks | FuseInitFlags.FlockLocks));
        var (node, fh) = h.CreateOk(1, "f");
        Assert.Equal(0, h.Send(FuseOpcode.SetLk, node, Lk(fh, owner: 1, F_WRLCK, 10, 19)).Errno);
        // The same owner may change its own lock; another owner conflicts on the overlap only.
        Assert.Equal(0, h.Send(FuseOpcode.SetLk, node, Lk(fh, owner: 1, F_RDLCK, 10, 19)).Errno);
        Assert.Equal(EAGAIN, h.Send(FuseOpcode.SetLk, node, Lk(fh, owner: 2, F_WRLCK, 15, 30)).Errno);
        Assert.Equal(0, h.Send(FuseOpcode.SetLk, node, Lk(fh, owner: 2, F_WRLCK, 20, 30)).Errno);
        Assert.Equal(0, h.Send(FuseOpcode.SetLk, node, Lk(fh, owner: 3, F_RDLCK, 0, 15)).Errno);   // read locks share

        FuseReply reply = h.Send(FuseOpcode.GetLk, node, Lk(fh, owner: 4, F_WRLCK, 0, ToEnd));
        Assert.Equal(0, reply.Errno);
        FuseFileLock conflict = reply.Read<FuseLkOut>().Lk;
        Assert.NotEqual(F_UNLCK, conflict.Type);
        reply = h.Send(FuseOpcode.GetLk, node, Lk(fh, owner: 4, F_RDLCK, 50, ToEnd));
        Assert.Equal(F_UNLCK, reply.Read<FuseLkOut>().Lk.Type);
        reply = h.Send(FuseOpcode.GetLk, node, Lk(fh, owner: 4, F_RDLCK, 20, 25));
        Assert.Equal((F_WRLCK, 20ul, 30ul), (reply.Read<FuseLkOut>().Lk.Type, reply.Read<FuseLkOut>().Lk.Start, reply.Read<FuseLkOut>().Lk.End));

        // Unlock, then the other owner gets it.
        Assert.Equal(0, h.Send(FuseOpcode.SetLk, node, Lk(fh, owner: 1, F_UNLCK, 0, ToEnd)).Errno);
        Assert.Equal(0, h.Send(FuseOpcode.SetLk, node, Lk(fh, owner: 3, F_UNLCK, 0, ToEnd)).Errno);
        Assert.Equal(0, h.Send(FuseOpcode.SetLk, node, Lk(fh, owner: 5, F_WRLCK, 0, 19)).Errno);
        // Unlocking what an owner never locked is fine and opens nothing.
        Assert.Equal(0, h.Send(FuseOpcode.SetLk, node, Lk(fh, owner: 99, F_UNLCK)).Errno);
        h.AssertHealthy();
    }

    [Fact]
    public void FlushDropsTheOwnersLocks()
    {
        using var h = LockingHarness();
        var (node, fh) = h.CreateOk(1, "f");
        Assert.Equal(0, h.Send(FuseOpcode.SetLk, node, Lk(fh, owner: 1, F_WRLCK)).Errno);
        Assert.Equal(EAGAIN, h.Send(FuseOpcode.SetLk, node, Lk(fh, owner: 2, F_WRLCK)).Errno);
        Assert.Equal(0, h.Send(FuseOpcode.Flush, node, new ArgsBuilder().Add(new FuseFlushIn { Fh = fh, LockOwner = 1 })).Errno);
        Assert.Equal(0, h.Send(FuseOpcode.SetLk, node, Lk(fh, owner: 2, F_WRLCK)).Errno);
    }

    [Fact]
    public void HostileLockRangesAreRefused()
    {
        using var h = LockingHarness();
        var (node, fh) = h.CreateOk(1, "f");
        Assert.Equal(EINVAL, h.Send(FuseOpcode.SetLk, node, Lk(fh, 1, F_WRLCK, 10, 5)).Errno);
        Assert.Equal(EINVAL, h.Send(FuseOpcode.SetLk, node, Lk(fh, 1, F_WRLCK, 0, ulong.MaxValue)).Errno);
        Assert.Equal(EINVAL, h.Send(FuseOpcode.SetLk, node, Lk(fh, 1, type: 7)).Errno);
        Assert.Equal(EINVAL, h.Send(FuseOpcode.GetLk, node, Lk(fh, 1, F_WRLCK, ulong.MaxValue, ulong.MaxValue)).Errno);
        Assert.Equal(EINVAL, h.Send(FuseOpcode.SetLk, node, new byte[8]).Errno);
        Assert.Equal(9, h.Send(FuseOpcode.SetLk, 12345, Lk(fh, 1, F_WRLCK)).Errno);   // unknown node: EBADF
        h.AssertHealthy();
    }

    [Fact]
    public void FlockConflictsBetweenHandlesNotOwners()
    {
        using var h = LockingHarness();
        var (node, fh1) = h.CreateOk(1, "f");
        ulong fh2 = h.Open(node).Read<FuseOpenOut>().Fh;
        Assert.Equal(0, h.Send(FuseOpcode.SetLk, node, Lk(fh1, 1, F_WRLCK, flock: true)).Errno);
        Assert.Equal(EAGAIN, h.Send(FuseOpcode.SetLk, node, Lk(fh2, 1, F_WRLCK, flock: true)).Errno);
        Assert.Equal(EAGAIN, h.Send(FuseOpcode.SetLk, node, Lk(fh2, 2, F_RDLCK, flock: true)).Errno);
        // Releasing with FUSE_RELEASE_FLOCK_UNLOCK frees it.
        Assert.Equal(0, h.Send(FuseOpcode.Release, node, new ArgsBuilder().Add(new FuseReleaseIn { Fh = fh1, ReleaseFlags = FuseConstants.ReleaseFlockUnlock })).Errno);
        Assert.Equal(0, h.Send(FuseOpcode.SetLk, node, Lk(fh2, 2, F_RDLCK, flock: true)).Errno);
        Assert.Equal(9, h.Send(FuseOpcode.SetLk, node, Lk(fh1, 1, F_WRLCK, flock: true)).Errno);   // stale handle: EBADF
    }

    [Fact]
    public void SetlkwWithoutADeferringTransportAnswersEopnotsuppOnlyWhenItWouldWait()
    {
        using var h = LockingHarness();
        var (node, fh) = h.CreateOk(1, "f");
        Assert.Equal(0, h.Send(FuseOpcode.SetLkw, node, Lk(fh, 1, F_WRLCK)).Errno);   // free: granted at once
        Assert.Equal(EOPNOTSUPP, h.Send(FuseOpcode.SetLkw, node, Lk(fh, 2, F_WRLCK)).Errno);
        Assert.Equal(0, h.Server.WaitingLocks);
    }

    [Fact]
    public void BlockingSetlkwIsDeferredAndAnsweredWhenTheLockIsFree()
    {
        using var h = LockingHarness();
        var transport = new RecordingDeferredReplies();
        using var worker = new FuseWorker { DeferredReplies = transport };
        var (node, fh) = h.CreateOk(1, "f");
        Assert.Equal(0, h.Send(FuseOpcode.SetLk, node, Lk(fh, 1, F_WRLCK)).Errno);

        byte[] request = h.BuildRequest(FuseOpcode.SetLkw, node, Lk(fh, 2, F_WRLCK));
        FuseReply deferred = h.SendRaw(request, null, new[] { 4096 }, worker);
        Assert.Equal(FuseServer.DeferredReply, deferred.UsedLength);
        Assert.Equal(1, transport.Deferred);
        Assert.Equal(1, h.Server.WaitingLocks);
        Assert.Null(transport.Next(TimeSpan.FromMilliseconds(200)));   // still held: no answer yet

        // The serving thread is free meanwhile: other requests (even on the same file) are answered.
        Assert.Equal(EAGAIN, h.Send(FuseOpcode.SetLk, node, Lk(fh, 3, F_WRLCK), worker: worker).Errno);
        h.AssertHealthy();

        Assert.Equal(0, h.Send(FuseOpcode.SetLk, node, Lk(fh, 1, F_UNLCK)).Errno);
        FuseOutHeader? answer = transport.Next(TimeSpan.FromSeconds(10));
        Assert.NotNull(answer);
        Assert.Equal(0, answer.Value.Error);
        Assert.Equal(BitConverter.ToUInt64(request, 8), answer.Value.Unique);
        Assert.Equal(0, h.Server.WaitingLocks);
        // Owner 2 holds it now.
        Assert.Equal(EAGAIN, h.Send(FuseOpcode.SetLk, node, Lk(fh, 1, F_WRLCK)).Errno);
    }

    [Fact]
    public void InterruptCancelsAWaitingSetlkw()
    {
        using var h = LockingHarness();
        var transport = new RecordingDeferredReplies();
        using var worker = new FuseWorker { DeferredReplies = transport };
        var (node, fh) = h.CreateOk(1, "f");
        Assert.Equal(0, h.Send(FuseOpcode.SetLk, node, Lk(fh, 1, F_WRLCK)).Errno);
        byte[] request = h.BuildRequest(FuseOpcode.SetLkw, node, Lk(fh, 2, F_WRLCK));
        ulong unique = BitConverter.ToUInt64(request, 8);
        Assert.Equal(FuseServer.DeferredReply, h.SendRaw(request, null, new[] { 4096 }, worker).UsedLength);

        // An INTERRUPT for some other request changes nothing; the right one gets EINTR.
        Assert.Equal(0, h.Send(FuseOpcode.Interrupt, 0, new ArgsBuilder().Add(new FuseInterruptIn { Unique = unique + 1000 })).UsedLength);
        Assert.Null(transport.Next(TimeSpan.FromMilliseconds(100)));
        Assert.Equal(0, h.Send(FuseOpcode.Interrupt, 0, new ArgsBuilder().Add(new FuseInterruptIn { Unique = unique })).UsedLength);
        FuseOutHeader? answer = transport.Next(TimeSpan.FromSeconds(10));
        Assert.NotNull(answer);
        Assert.Equal(-EINTR, answer.Value.Error);
        Assert.Equal(unique, answer.Value.Unique);
        Assert.Equal(0, h.Server.WaitingLocks);
        // Owner 2 did not get the lock.
        Assert.Equal(0, h.Send(FuseOpcode.SetLk, node, Lk(fh, 1, F_UNLCK)).Errno);
        Assert.Equal(0, h.Send(FuseOpcode.SetLk, node, Lk(fh, 3, F_WRLCK)).Errno);
    }

    [Fact]
    public void DestroyAnswersEveryWaiterWithEintr()
    {
        using var h = LockingHarness();
        var transport = new RecordingDeferredReplies();
        using var worker = new FuseWorker { DeferredReplies = transport };
        var (node, fh) = h.CreateOk(1, "f");
        Assert.Equal(0, h.Send(FuseOpcode.SetLk, node, Lk(fh, 1, F_WRLCK)).Errno);
        for (ulong owner = 2; owner < 6; owner++)
        {
            Assert.Equal(FuseServer.DeferredReply, h.SendRaw(h.BuildRequest(FuseOpcode.SetLkw, node, Lk(fh, owner, F_WRLCK)), null, new[] { 4096 }, worker).UsedLength);
        }
        Assert.Equal(4, h.Server.WaitingLocks);
        Assert.Equal(0, h.Send(FuseOpcode.Destroy, 0, Array.Empty<byte>()).Errno);
        for (int i = 0; i < 4; i++)
        {
            FuseOutHeader? answer = transport.Next(TimeSpan.FromSeconds(10));
            Assert.NotNull(answer);
            Assert.Equal(-EINTR, answer.Value.Error);
        }
        Assert.Equal(0, h.Server.WaitingLocks);
    }
}
