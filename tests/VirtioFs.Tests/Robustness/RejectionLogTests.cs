using VirtioFs.Backend.Share;
using VirtioFs.Frontend.Fuse;
using VirtioFs.Frontend.Virtqueue;
using VirtioFs.Tests.Hostile;
using Xunit;
using R = VirtioFs.Frontend.VhostUser.VhostUserRequest;

namespace VirtioFs.Tests.Robustness;

/// <summary>
/// Whatever the other side can trigger at will is logged with its reason, but rate limited: a flood of bad chains or
/// refused vhost-user messages costs the host's log at most <see cref="ShareLog.GuestLinesPerWindow"/> lines per window,
/// and the rest is counted as suppressed.
/// </summary>
public sealed class RejectionLogTests : IDisposable
{
    private const int Flood = 500;

    private readonly ConfinedShare _share = new(clientTimeout: TimeSpan.FromSeconds(5));

    public void Dispose() => _share.Dispose();

    [Fact]
    public void AFloodOfBadChainsIsLoggedWithItsReasonButRateLimited()
    {
        VirtqueueDriver queue = _share.Client.RequestQueue;
        ushort[] d = queue.ReserveDescriptors(1);
        for (int i = 0; i < Flood; i++)
        {
            queue.WriteDescriptor(d[0], _share.Frontend.Memory.Size + 4096, 64, 0, 0);   // outside guest memory
            queue.PublishAvail(d[0]);
            queue.ForceKick();
            Assert.True(queue.WaitUsed(TimeSpan.FromSeconds(5), out _, out uint used));
            Assert.Equal(0u, used);
        }
        int lines = _share.LogCount("dropped descriptor chain");
        Assert.InRange(lines, 1, ShareLog.GuestLinesPerWindow);
        Assert.True(_share.LogContains("descriptor buffer is not inside one guest memory region"));
        Assert.Equal(Flood - lines, _share.ShareLog.SuppressedCount);
        Assert.Equal(Flood, _share.Host.GetQueueStatistics()[1].DroppedChains);
        _share.AssertServes();
    }

    [Fact]
    public void AFloodOfRefusedVhostUserMessagesIsRateLimited()
    {
        for (int i = 0; i < Flood; i++) _share.Frontend.SendRaw(R.SetConfig, R.FlagVersion, new byte[16], []);
        _share.AssertServes();   // the messages before it are handled in order
        int lines = _share.LogCount("SET_CONFIG refused");
        Assert.InRange(lines, 1, ShareLog.GuestLinesPerWindow);
        Assert.True(_share.Frontend.IsBackendConnected());
    }
}
