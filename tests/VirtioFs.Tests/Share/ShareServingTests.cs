using System.Text;
using VirtioFs.Backend.Share;
using VirtioFs.Frontend.Fuse;
using Xunit;

namespace VirtioFs.Tests.Share;

/// <summary>A share driven over its socket by our frontend: request queues, statistics, reconnects.</summary>
public sealed class ShareServingTests
{
    private const uint O_RDWR = 2;

    [Fact]
    public void EveryRequestQueueServesRequestsOnItsOwnThread()
    {
        using var share = new RunningShare(requestQueues: 2);
        var second = new FuseClient(share.Frontend!, 2);
        foreach (var (client, name) in new[] { (share.Client, "one.txt"), (second, "two.txt") })
        {
            Assert.Equal(0, client.Create(1, name, O_RDWR, 0x1A4, out FuseEntry entry, out FuseOpenOut open));
            Assert.Equal(0, client.Write(entry.NodeId, open.Fh, 0, Encoding.UTF8.GetBytes(name), out uint written));
            Assert.Equal((uint)name.Length, written);
            Assert.Equal(0, client.Read(entry.NodeId, open.Fh, 0, 100, out byte[] data));
            Assert.Equal(name, Encoding.UTF8.GetString(data));
            Assert.Equal(0, client.Release(entry.NodeId, open.Fh));
        }
        Assert.Equal("one.txt", File.ReadAllText(Path.Combine(share.SharedDir, "one.txt")));
        Assert.Equal("two.txt", File.ReadAllText(Path.Combine(share.SharedDir, "two.txt")));

        var stats = share.Host.GetQueueStatistics();
        Assert.Equal(3, stats.Count);
        Assert.True(stats[0].IsHighPriority);
        Assert.True(stats[1].Requests >= 5);   // INIT, CREATE, WRITE, READ, RELEASE
        Assert.True(stats[2].Requests >= 4);
        Assert.Equal(7, stats[1].BytesWritten);
        Assert.Equal(7, stats[1].BytesRead);
        Assert.Equal(1, stats[2].Operations["Create"]);
        Assert.True(stats[1].LatencyP50 > TimeSpan.Zero);
    }

    [Fact]
    public void ForgetOnTheHiprioQueueIsCounted()
    {
        using var share = new RunningShare();
        File.WriteAllText(Path.Combine(share.SharedDir, "f"), "x");
        Assert.Equal(0, share.Client.Lookup(1, "f", out FuseEntry entry));
        share.Client.Forget(entry.NodeId, 1);
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (share.Host.GetQueueStatistics()[0].Requests == 0 && DateTime.UtcNow < deadline) Thread.Sleep(10);
        Assert.Equal(1, share.Host.GetQueueStatistics()[0].Operations["Forget"]);
    }

    [Fact]
    public void ForgetsStreamingInAreBatchedYetEveryOneIsServedPromptly()
    {
        using var share = new RunningShare();
        File.WriteAllText(Path.Combine(share.SharedDir, "f"), "x");
        const int count = 2000;
        for (int i = 0; i < count; i++)
        {
            Assert.Equal(0, share.Client.Lookup(1, "f", out FuseEntry entry));
            share.Client.Forget(entry.NodeId, 1);
        }
        // Every chain comes back although most FORGETs asked for no kick, and the inode is gone with the last one.
        Assert.True(share.Client.WaitForgetsReturned(TimeSpan.FromSeconds(10)), "FORGET chains were not returned");
        Assert.Equal(count, share.Host.GetQueueStatistics()[0].Operations["Forget"]);
        Assert.Equal(1, share.Host.InodeCount);
        // The hiprio queue asked for far fewer kicks than FORGETs (one per batch, plus one per lull).
        Assert.True(share.Host.GetQueueStatistics()[0].Kicks < count / 4, $"{share.Host.GetQueueStatistics()[0].Kicks} kicks for {count} FORGETs");
        // A single FORGET after a lull is served without waiting for a batch that never comes.
        Thread.Sleep(50);
        Assert.Equal(0, share.Client.Lookup(1, "f", out FuseEntry last));
        share.Client.Forget(last.NodeId, 1);
        Assert.True(share.Client.WaitForgetsReturned(TimeSpan.FromSeconds(1)), "a lone FORGET was not returned");
        Assert.Equal(1, share.Host.InodeCount);
    }

    [Fact]
    public void AfterAFrontendLeavesTheShareListensAndServesTheNextOne()
    {
        using var share = new RunningShare();
        Assert.Equal(ShareState.Connected, share.Host.State);
        for (int i = 0; i < 5; i++)
        {
            share.Disconnect();
            share.WaitFor(ShareState.Listening);
            share.Connect();
            share.WaitFor(ShareState.Connected);
            Assert.Equal(0, share.Client.Getattr(1, out FuseAttr attr));
            Assert.Equal(0x4000u, attr.FileType);
        }
        Assert.Equal(6, share.Host.ConnectionCount);
    }
}
