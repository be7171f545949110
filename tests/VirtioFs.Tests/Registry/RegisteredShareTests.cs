using Xunit;
using VirtioFs.Backend.Share;
using VirtioFs.Tests.Share;

namespace VirtioFs.Tests.Registry;

/// <summary>
/// What the cmdlets do with a registered share, below PowerShell: find it by name and tag, read its queue statistics
/// before and after I/O from a real front-end, stop it, and see its name, tag and socket released.
/// </summary>
[Collection(ProcessWideCountsCollection.Name)]
public sealed class RegisteredShareTests
{
    [Fact]
    public void StatisticsOfAFoundShareChangeAfterIoAndStoppingReleasesItsNames()
    {
        using var running = new RunningShare();
        File.WriteAllText(Path.Combine(running.SharedDir, "hello.txt"), "hello");
        var registry = new ShareRegistry<ShareHost>(h => h);
        Assert.Equal(ShareRegistry<ShareHost>.Conflict.None, registry.TryAdd(running.Host, out _));

        ShareHost found = Assert.Single(registry.FindByName(new[] { "TE*" }));
        Assert.Same(running.Host, found);
        long before = found.GetQueueStatistics()[1].Requests;   // INIT went through already

        Assert.Equal(0, running.Client.Lookup(1, "hello.txt", out _));
        Assert.NotEqual(0, running.Client.Lookup(1, "absent.txt", out _));

        QueueStatisticsSnapshot after = found.GetQueueStatistics()[1];
        Assert.Equal("request", after.Kind);
        Assert.Equal(before + 2, after.Requests);
        Assert.Equal(2, after.Operations["Lookup"]);
        Assert.True(after.Errors >= 1);
        Assert.True(ShareRegistry<ShareHost>.IsSocketListening(running.SocketPath));

        running.Disconnect();
        found.Stop();
        Assert.False(ShareRegistry<ShareHost>.IsLive(found));
        Assert.False(ShareRegistry<ShareHost>.IsSocketListening(running.SocketPath));
        var again = new ShareHost(new ShareOptions { SharedDirectory = running.SharedDir, SocketPath = running.SocketPath, Name = "test" });
        Assert.Equal(ShareRegistry<ShareHost>.Conflict.None, registry.TryAdd(again, out _));
        again.Dispose();
    }
}
