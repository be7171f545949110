using VirtioFs.Backend.Passthrough;
using VirtioFs.Tests.Fuse;
using VirtioFs.Tests.Share;
using Xunit;

namespace VirtioFs.Tests.Passthrough;

/// <summary>
/// The fd quota leaves the host process (PowerShell) a reserve of max(1024, 10% of RLIMIT_NOFILE), and all shares in
/// the process draw on one budget, so guests together can never take the session's last descriptors.
/// </summary>
[Collection(ProcessWideCountsCollection.Name)]
public sealed class FdBudgetTests
{
    [Theory]
    [InlineData(1_000_000ul, 100_000ul, 900_000)]
    [InlineData(20_000ul, 2_000ul, 18_000)]
    [InlineData(8_192ul, 1_024ul, 7_168)]
    [InlineData(2_048ul, 1_024ul, 1_024)]   // too small for the reserve twice over: half each
    [InlineData(1_024ul, 1_024ul, 512)]
    public void TheReserveIsTheLargerOf1024AndATenth(ulong limit, ulong reserve, int quota)
    {
        Assert.Equal(reserve, FdBudget.Reserve(limit));
        Assert.Equal(quota, FdBudget.Quota(limit));
    }

    [Fact]
    public void TheDefaultQuotaLeavesTheReserve()
    {
        using var h = new FuseHarness();
        ulong limit = h.FileSystem.FdLimitAtStart;
        Assert.Equal(FdBudget.Quota(limit), h.FileSystem.FdQuota);
        Assert.True(limit - (ulong)h.FileSystem.FdQuota >= FdBudget.MinimumReserve);
        Assert.Equal(FdBudget.Quota(limit), FdBudget.ProcessQuota);
    }

    [Fact]
    public void EveryLiveShareCountsAgainstTheProcessBudgetUntilItStops()
    {
        // Other test classes run shares in parallel: the sum is at least ours, and ours come and go with the shares.
        using var a = new FuseHarness(share => new PassthroughOptions { SharedDirectory = share, InodeFileHandles = InodeFileHandles.Never });
        var b = new FuseHarness(share => new PassthroughOptions { SharedDirectory = share, PosixLocks = true });
        try
        {
            for (int i = 0; i < 5; i++) File.WriteAllText(Path.Combine(a.Share, $"f{i}"), "x");
            for (int i = 0; i < 5; i++) a.LookupId(1, $"f{i}");                 // 5 descriptor-held inodes
            (ulong node, ulong fh) = b.CreateOk(1, "locked");                     // 1 handle
            var lk = new VirtioFs.Backend.Fuse.Abi.FuseLkIn { Fh = fh, Owner = 77, Lk = new() { Start = 0, End = 10, Type = 1 } };
            Assert.Equal(0, b.Send(VirtioFs.Backend.Fuse.Abi.FuseOpcode.SetLk, node, new ArgsBuilder().Add(lk)).Errno);   // 1 lock descriptor
            Assert.Equal(1 + 5, a.FileSystem.HeldFdCount);
            Assert.Equal(1 + 1 + 1, b.FileSystem.HeldFdCount);
            Assert.True(FdBudget.Contains(a.FileSystem) && FdBudget.Contains(b.FileSystem));
            Assert.True(FdBudget.Held >= 6 + 3);
            b.Send(VirtioFs.Backend.Fuse.Abi.FuseOpcode.Flush, node, new ArgsBuilder().Add(new VirtioFs.Backend.Fuse.Abi.FuseFlushIn { Fh = fh, LockOwner = 77 }));
            Assert.Equal(1 + 1, b.FileSystem.HeldFdCount);   // FLUSH dropped the owner's lock descriptor
        }
        finally
        {
            b.Dispose();
        }
        Assert.False(FdBudget.Contains(b.FileSystem));
        Assert.True(FdBudget.Contains(a.FileSystem));
    }
}
