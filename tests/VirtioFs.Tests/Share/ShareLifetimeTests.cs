using VirtioFs.Backend.Share;
using VirtioFs.Frontend.Fuse;
using Xunit;

namespace VirtioFs.Tests.Share;

/// <summary>Stopping a share releases its socket, every fd (listener, connection, eventfds, inodes, handles) and every guest mapping.</summary>
[Collection(ProcessWideCountsCollection.Name)]
public sealed class ShareLifetimeTests
{
    private static int OpenFds() => ProcessCounts.OpenFds();

    private static int GuestRamMappings() => ProcessCounts.GuestRamMappings();

    [Fact]
    public void StopClosesTheSocketEveryFdAndEveryMapping()
    {
        int fdsBefore = OpenFds();
        var share = new RunningShare();
        File.WriteAllText(Path.Combine(share.SharedDir, "kept-open"), "data");
        Assert.Equal(0, share.Client.Lookup(1, "kept-open", out FuseEntry entry));
        Assert.Equal(0, share.Client.Open(entry.NodeId, 0, out FuseOpenOut open));     // a handle the guest never releases
        Assert.Equal(0, share.Client.Opendir(1, out _));
        Assert.Equal(2, GuestRamMappings());   // the frontend's own and the share's

        share.Host.Stop();
        Assert.Equal(ShareState.Stopped, share.Host.State);
        Assert.False(File.Exists(share.SocketPath));
        Assert.Equal(1, GuestRamMappings());   // only the frontend's own mapping is left
        share.Dispose();
        Assert.Equal(0, GuestRamMappings());
        Assert.Equal(fdsBefore, OpenFds());
    }

    [Fact]
    public void ManyConnectionsLeakNothing()
    {
        using var share = new RunningShare(connect: false);
        share.Connect();
        share.Disconnect();
        share.WaitFor(ShareState.Listening);
        int fdsAfterFirst = OpenFds();
        for (int i = 0; i < 20; i++)
        {
            share.Connect();
            File.WriteAllText(Path.Combine(share.SharedDir, $"f{i}"), "x");
            Assert.Equal(0, share.Client.Lookup(1, $"f{i}", out FuseEntry entry));
            Assert.Equal(0, share.Client.Open(entry.NodeId, 0, out _));
            share.Disconnect();
            share.WaitFor(ShareState.Listening);
        }
        Assert.Equal(fdsAfterFirst, OpenFds());
        Assert.Equal(0, GuestRamMappings());
    }

    [Fact]
    public void StopIsIdempotentAndWorksBeforeAnyFrontend()
    {
        using var share = new RunningShare(connect: false);
        share.Host.Stop();
        share.Host.Stop();
        Assert.Equal(ShareState.Stopped, share.Host.State);
        Assert.True(share.Host.Wait(TimeSpan.FromSeconds(1)));
    }
}
