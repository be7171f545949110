using Xunit;
using VirtioFs.Frontend;
using VirtioFs.Frontend.VhostUser;
using Xunit.Abstractions;

namespace VirtioFs.Tests.Frontend;

public sealed class HandshakeTests(ITestOutputHelper output)
{
    [Fact]
    public void Connects_to_virtiofsd_and_negotiates_like_qemu()
    {
        using var s = BackendSession.Start(BackendSession.Kind.Virtiofsd);
        var f = s.Frontend;
        foreach (string line in f.HandshakeLog) output.WriteLine(line);
        output.WriteLine($"features 0x{f.BackendFeatures:x}, protocol offer 0x{f.BackendProtocolFeatures:x}, negotiated 0x{f.ProtocolFeatures:x}, "
            + $"queues {f.BackendQueueNum}, mem slots {f.BackendMaxMemSlots}, INIT {s.Fuse.Session}");
        Assert.True(VhostUserFeatures.Has(f.BackendFeatures, VhostUserFeatures.Version1));
        Assert.True(VhostUserFeatures.Has(f.BackendFeatures, VhostUserFeatures.ProtocolFeatures));
        Assert.True(f.ReplyAckNegotiated);
        Assert.True(f.EventIdxNegotiated);
        Assert.True(f.BackendQueueNum >= 2, $"GET_QUEUE_NUM = {f.BackendQueueNum}");
        Assert.NotNull(s.Fuse.Session);
        Assert.Equal(7u, s.Fuse.Session!.Value.Major);
        Assert.True(s.Daemon.HasExited == false, s.Daemon.Log);
    }
}
