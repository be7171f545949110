using System.Buffers.Binary;
using VirtioFs.Frontend;
using VirtioFs.Frontend.Fuse;
using VirtioFs.Frontend.VhostUser;
using VirtioFs.Frontend.Virtqueue;
using Xunit;
using static VirtioFs.Frontend.Fuse.FuseConstants;

namespace VirtioFs.Tests.Frontend;

/// <summary>The raw building blocks hostile tests use, shown to produce what they claim against virtiofsd.</summary>
public sealed class RawProtocolTests
{
    [Fact]
    public void Hand_built_chain_through_raw_descriptors_is_served()
    {
        using var s = BackendSession.Start(BackendSession.Kind.Virtiofsd);
        var q = s.Frontend.Queue(1);
        var ram = s.Frontend.Memory;
        ulong request = ram.Allocate(4096);
        ulong reply = ram.Allocate(4096);
        byte[] getattr = FuseClient.BuildRequest(FuseOpcode.Getattr, s.Fuse.NextUnique(), RootNodeId, new byte[16]);
        ram.Write(request, getattr);

        ushort[] d = q.ReserveDescriptors(3);
        q.WriteDescriptor(d[0], request, 40, VirtqDescriptorFlags.Next, d[1]);
        q.WriteDescriptor(d[1], request + 40, 16, VirtqDescriptorFlags.Next, d[2]);
        q.WriteDescriptor(d[2], reply, 4096, VirtqDescriptorFlags.Write, 0);
        q.PublishAvail(d[0]);
        q.ForceKick();
        Assert.True(q.WaitUsed(TimeSpan.FromSeconds(10), out ushort head, out uint used));
        Assert.Equal(d[0], head);
        Assert.Equal((uint)(OutHeaderSize + AttrOutSize), used);
        Assert.Equal(0, BinaryPrimitives.ReadInt32LittleEndian(ram.GetSpan(reply + 4, 4)));
        q.ReturnDescriptors(d);
    }

    [Fact]
    public void Too_few_backend_queues_fail_the_handshake_clearly()
    {
        var options = new FrontendOptions { RequestQueues = 8 };
        var e = Assert.ThrowsAny<Exception>(() => BackendSession.Start(BackendSession.Kind.Virtiofsd, options: options));
        Assert.Contains("maximum number of queues supported by the backend is", e.ToString());
    }

    [Fact]
    public void Raw_vhost_user_message_gets_a_raw_reply()
    {
        using var s = BackendSession.Start(BackendSession.Kind.Virtiofsd);
        s.Frontend.SendRaw(VhostUserRequest.GetFeatures, VhostUserRequest.FlagVersion, [], []);
        Assert.True(s.Frontend.TryReceiveRaw(TimeSpan.FromSeconds(5), out uint request, out uint flags, out byte[] payload));
        Assert.Equal(VhostUserRequest.GetFeatures, request);
        Assert.Equal(VhostUserRequest.FlagVersion | VhostUserRequest.FlagReply, flags);
        Assert.Equal(s.Frontend.BackendFeatures, BinaryPrimitives.ReadUInt64LittleEndian(payload));
        Assert.False(s.Frontend.TryReceiveRaw(TimeSpan.FromMilliseconds(100), out _, out _, out _));
        Assert.True(s.Frontend.IsBackendConnected());
    }
}
