using VirtioFs.Backend.Share;
using VirtioFs.Frontend.Fuse;
using Xunit;

namespace VirtioFs.Tests.Bench;

/// <summary>
/// The adaptive worker pool of a request queue (ShareOptions.ThreadPoolSize): the same answers as inline serving,
/// no completion lost at depth 64, and a stop (share or ring) while requests are in the pool publishes them all.
/// Requests are pipelined, so the queue is deep and the pool is actually used; the Debug log proves it.
/// </summary>
public sealed class WorkerPoolTests
{
    private const string PoolMarker = "[worker pool]";
    private const int FileSize = 1 << 20;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private static void WriteDataFile(string dir)
    {
        var data = new byte[FileSize];
        new Random(7).NextBytes(data);
        File.WriteAllBytes(Path.Combine(dir, "data.bin"), data);
        File.WriteAllBytes(Path.Combine(dir, "target.bin"), new byte[256 << 10]);
    }

    /// <summary>Everything a pipelined batch answered, by unique: errno and, for reads, the bytes.</summary>
    private static Dictionary<ulong, (FuseOpcode Opcode, int Errno, byte[] Body)> RunMixedBatch(PooledShare share)
    {
        FuseClient c = share.Client;
        Assert.Equal(0, c.Lookup(FuseConstants.RootNodeId, "data.bin", out FuseEntry data));
        Assert.Equal(0, c.Open(data.NodeId, FuseConstants.O_RDONLY, out FuseOpenOut open));
        Assert.Equal(0, c.Lookup(FuseConstants.RootNodeId, "target.bin", out FuseEntry target));
        Assert.Equal(0, c.Open(target.NodeId, FuseConstants.O_RDWR, out FuseOpenOut targetOpen));

        var results = new Dictionary<ulong, (FuseOpcode, int, byte[])>();
        var body = new byte[64 << 10];
        for (int round = 0; round < 4; round++)
        {
            for (int i = 0; i < 64; i++)
            {
                switch (i % 8)
                {
                    case 0: c.SubmitGetattr(data.NodeId); break;
                    case 1: c.SubmitLookup(FuseConstants.RootNodeId, "missing-" + i); break;
                    case 2: c.SubmitRead(data.NodeId, open.Fh, (ulong)FileSize - 100, 4096); break;       // short read at EOF
                    case 3: c.SubmitRead(data.NodeId, 0xDEAD_BEEF, 0, 4096); break;                       // forged handle
                    case 4:
                        var block = new byte[4096];
                        block.AsSpan().Fill((byte)(round * 64 + i));
                        c.SubmitWrite(target.NodeId, targetOpen.Fh, (ulong)((round * 64 + i) * 4096 % (256 << 10)), block);
                        break;
                    default: c.SubmitRead(data.NodeId, open.Fh, (ulong)((round * 64 + i) * 12_289 % (FileSize - 8192)), 8192); break;
                }
            }
            c.Kick();
            while (c.InFlight > 0)
            {
                Assert.True(c.TryReap(Timeout, out FuseCompletion done, body), "a pipelined request got no reply");
                byte[] keep = done.Opcode == FuseOpcode.Getattr ? [] : body.AsSpan(0, Math.Min(done.BodyLength, body.Length)).ToArray();
                Assert.True(results.TryAdd(done.Unique, (done.Opcode, done.Errno, keep)), $"unique {done.Unique} completed twice");
            }
        }
        Assert.Equal(0, c.Release(target.NodeId, targetOpen.Fh));
        return results;
    }

    [Fact]
    public void PoolAnswersExactlyAsInlineServing()
    {
        Dictionary<ulong, (FuseOpcode Opcode, int Errno, byte[] Body)> inline, pooled;
        byte[] inlineTarget, pooledTarget;
        using (var share = new PooledShare(threadPoolSize: 0, WriteDataFile))
        {
            inline = RunMixedBatch(share);
            inlineTarget = File.ReadAllBytes(Path.Combine(share.SharedDir, "target.bin"));
            Assert.Equal(0, share.CountLog(PoolMarker));
        }
        using (var share = new PooledShare(threadPoolSize: 4, WriteDataFile))
        {
            pooled = RunMixedBatch(share);
            pooledTarget = File.ReadAllBytes(Path.Combine(share.SharedDir, "target.bin"));
            Assert.True(share.CountLog(PoolMarker) > 0, "the queue was deep, yet no request went to the worker pool");
        }

        Assert.Equal(4 * 64, inline.Count);
        Assert.Equal(inline.Keys.Order(), pooled.Keys.Order());
        foreach (var (unique, expected) in inline)
        {
            var actual = pooled[unique];
            Assert.Equal(expected.Opcode, actual.Opcode);
            Assert.Equal(expected.Errno, actual.Errno);
            Assert.Equal(expected.Body, actual.Body);
        }
        // The batch really exercised errors and data, not just successes.
        Assert.Contains(inline.Values, r => r.Errno == 2);                         // ENOENT lookups
        Assert.Contains(inline.Values, r => r.Errno != 0 && r.Opcode == FuseOpcode.Read);
        Assert.Contains(inline.Values, r => r.Opcode == FuseOpcode.Read && r.Body.Length == 100);
        Assert.Equal(inlineTarget, pooledTarget);
    }

    [Fact]
    public void NoCompletionIsLostAtDepth64()
    {
        using var share = new PooledShare(threadPoolSize: 3, WriteDataFile);
        byte[] file = File.ReadAllBytes(Path.Combine(share.SharedDir, "data.bin"));
        FuseClient c = share.Client;
        Assert.Equal(0, c.Lookup(FuseConstants.RootNodeId, "data.bin", out FuseEntry data));
        Assert.Equal(0, c.Open(data.NodeId, FuseConstants.O_RDONLY, out FuseOpenOut open));
        long before = share.Host.GetQueueStatistics()[1].Requests;

        var offsetOf = new Dictionary<ulong, int>();
        var body = new byte[4096];
        const int Rounds = 25;
        for (int round = 0; round < Rounds; round++)
        {
            for (int i = 0; i < 64; i++)
            {
                int offset = (round * 64 + i) * 4093 % (FileSize - 4096);
                offsetOf.Add(c.SubmitRead(data.NodeId, open.Fh, (ulong)offset, 4096), offset);
            }
            c.Kick();
            for (int i = 0; i < 64; i++)
            {
                Assert.True(c.TryReap(Timeout, out FuseCompletion done, body), $"round {round}: {c.InFlight} requests never completed");
                Assert.Equal(0, done.Errno);
                Assert.Equal(4096, done.BodyLength);
                Assert.True(offsetOf.Remove(done.Unique, out int offset), $"unique {done.Unique} unknown or completed twice");
                Assert.True(file.AsSpan(offset, 4096).SequenceEqual(body), $"wrong data for offset {offset}");
            }
        }
        Assert.Empty(offsetOf);
        Assert.Equal(0, c.InFlight);

        QueueStatisticsSnapshot stats = share.Host.GetQueueStatistics()[1];
        Assert.Equal(Rounds * 64, stats.Requests - before);
        Assert.Equal(0, stats.InFlight);
        Assert.Equal(0, stats.Errors);
        Assert.True(share.CountLog(PoolMarker) > 0, "no request went to the worker pool");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void StoppingTheRingWhileThePoolIsBusyPublishesEveryConsumedRequest(int attempt)
    {
        // Timing decides how many requests are still in the pool when the stop arrives; three attempts with a
        // large pool make it very likely that at least one stop catches the pool busy.
        _ = attempt;
        using var share = new PooledShare(threadPoolSize: 16, WriteDataFile);
        FuseClient c = share.Client;
        Assert.Equal(0, c.Lookup(FuseConstants.RootNodeId, "data.bin", out FuseEntry data));
        Assert.Equal(0, c.Open(data.NodeId, FuseConstants.O_RDONLY, out FuseOpenOut open));
        for (int i = 0; i < 64; i++) c.SubmitRead(data.NodeId, open.Fh, (ulong)(i * 8192), 64 << 10);
        c.Kick();

        // GET_VRING_BASE stops the ring: it must return only after every chain the device took is in the used ring.
        ulong nextAvail = share.Frontend.GetVringBase(1);
        Assert.Equal((ushort)nextAvail, c.RequestQueue.DeviceUsedIndex);
        // (Under load the stop may even come before the queue took anything; then nothing is owed.)
        while (c.RequestQueue.TryTakeUsed(out _, out uint length))
        {
            Assert.True(length > 16, "a pooled request was published without its reply");
        }
        Assert.Equal(0, share.CountLog("internal error"));
    }

    [Fact]
    public void StoppingTheShareWhileThePoolIsBusyEndsCleanly()
    {
        var share = new PooledShare(threadPoolSize: 4, WriteDataFile);
        try
        {
            FuseClient c = share.Client;
            Assert.Equal(0, c.Lookup(FuseConstants.RootNodeId, "data.bin", out FuseEntry data));
            Assert.Equal(0, c.Open(data.NodeId, FuseConstants.O_RDONLY, out FuseOpenOut open));
            for (int i = 0; i < 64; i++) c.SubmitRead(data.NodeId, open.Fh, (ulong)(i * 8192), 64 << 10);
            c.Kick();
            share.Host.Stop();
            Assert.Equal(ShareState.Stopped, share.Host.State);
            Assert.Equal(0, share.CountLog("internal error"));
            Assert.Equal(0, share.CountLog("draining the worker pool failed"));
        }
        finally
        {
            share.Dispose();
        }
    }

    [Fact]
    public void UniquesOfTheBatchAreDistinct()
    {
        // Guards the comparison above: FuseClient numbers requests 2, 4, 6, ... so both shares see the same uniques.
        using var share = new PooledShare(threadPoolSize: 0);
        ulong a = share.Client.SubmitGetattr(FuseConstants.RootNodeId);
        ulong b = share.Client.SubmitGetattr(FuseConstants.RootNodeId);
        share.Client.ReapAll(Timeout);
        Assert.Equal(a + 2, b);
    }
}
