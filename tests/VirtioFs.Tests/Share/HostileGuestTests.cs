using VirtioFs.Frontend.Fuse;
using VirtioFs.Frontend.Virtqueue;
using Xunit;

namespace VirtioFs.Tests.Share;

/// <summary>
/// What a modified guest driver can send: each bad request gets an error reply or a dropped chain (used length 0),
/// the share logs why, keeps serving the next request, and nothing appears outside the shared directory.
/// </summary>
public sealed class HostileGuestTests : IDisposable
{
    private readonly RunningShare _share = new();

    public void Dispose() => _share.Dispose();

    private FuseClient Client => _share.Client;

    private void StillServes()
    {
        Assert.Equal(0, Client.Getattr(1, out FuseAttr attr));
        Assert.Equal(0x4000u, attr.FileType);
    }

    private uint SubmitAndWait(VirtqueueDriver queue, ushort head)
    {
        queue.PublishAvail(head);
        queue.ForceKick();
        Assert.True(queue.WaitUsed(TimeSpan.FromSeconds(5), out ushort usedHead, out uint length), "the share did not return the chain");
        Assert.Equal(head, usedHead);
        return length;
    }

    [Fact]
    public void ADescriptorOutsideGuestMemoryIsDropped()
    {
        VirtqueueDriver queue = Client.RequestQueue;
        ushort[] d = queue.ReserveDescriptors(2);
        ulong reply = _share.Frontend!.Memory.Allocate(4096);
        queue.WriteDescriptor(d[0], _share.Frontend.Memory.Size + 0x10000, 64, VirtqDescriptorFlags.Next, d[1]);
        queue.WriteDescriptor(d[1], reply, 4096, VirtqDescriptorFlags.Write, 0);
        Assert.Equal(0u, SubmitAndWait(queue, d[0]));
        queue.ReturnDescriptors(d);
        Assert.True(_share.LogContains("dropped descriptor chain"));
        Assert.Equal(1, _share.Host.GetQueueStatistics()[1].DroppedChains);
        StillServes();
    }

    [Fact]
    public void ALoopingChainIsDropped()
    {
        VirtqueueDriver queue = Client.RequestQueue;
        ushort[] d = queue.ReserveDescriptors(2);
        ulong buffer = _share.Frontend!.Memory.Allocate(4096);
        queue.WriteDescriptor(d[0], buffer, 64, VirtqDescriptorFlags.Next, d[1]);
        queue.WriteDescriptor(d[1], buffer + 64, 64, VirtqDescriptorFlags.Next, d[0]);
        Assert.Equal(0u, SubmitAndWait(queue, d[0]));
        queue.ReturnDescriptors(d);
        StillServes();
    }

    [Fact]
    public void ReadableAfterWritableIsDropped()
    {
        VirtqueueDriver queue = Client.RequestQueue;
        ushort[] d = queue.ReserveDescriptors(2);
        ulong buffer = _share.Frontend!.Memory.Allocate(4096);
        queue.WriteDescriptor(d[0], buffer, 64, VirtqDescriptorFlags.Next | VirtqDescriptorFlags.Write, d[1]);
        queue.WriteDescriptor(d[1], buffer + 64, 64, 0, 0);
        Assert.Equal(0u, SubmitAndWait(queue, d[0]));
        queue.ReturnDescriptors(d);
        StillServes();
    }

    [Theory]
    [InlineData(39u)]     // shorter than the header itself
    [InlineData(41u)]     // one byte more than sent
    [InlineData(4096u)]   // far more than sent
    public void AHeaderLengthThatDisagreesWithTheBuffersGetsEinval(uint claimedLength)
    {
        byte[] request = FuseClient.BuildRequest(FuseOpcode.Getattr, Client.NextUnique(), 1, new byte[16], claimedLength);
        FuseRawReply reply = Client.SendRaw(request, 256);
        Assert.Equal(22, reply.Errno);   // EINVAL
        Assert.Equal(reply.UsedLength, reply.HeaderLength);
        StillServes();
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("../escape")]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("")]
    [InlineData("/etc/passwd")]
    public void NamesThatAreNotOneComponentAreRefused(string name)
    {
        Assert.Equal(22, Client.Mkdir(1, name, 0x1ED, out _));
        Assert.Equal(22, Client.Create(1, name, 2, 0x1A4, out _, out _));
        Assert.Equal(22, Client.Symlink(1, name, "/", out _));
        Assert.Equal(22, Client.Mknod(1, name, 0x1000 | 0x1A4, 0, out _));   // a FIFO
        Assert.Equal(Directory.GetFileSystemEntries(_share.Outside).OrderBy(x => x), new[] { _share.SharedDir, _share.SocketPath }.OrderBy(x => x));
        Assert.Empty(Directory.GetFileSystemEntries(_share.SharedDir));
        StillServes();
    }

    [Fact]
    public void DotDotOfTheRootIsTheRoot()
    {
        Assert.Equal(0, Client.Lookup(1, "..", out FuseEntry entry));
        Assert.Equal(1UL, entry.NodeId);
        Assert.Equal(0, Client.Lookup(1, ".", out entry));
        Assert.Equal(1UL, entry.NodeId);
    }

    [Fact]
    public void ASymlinkPlantedInTheShareIsNeverFollowed()
    {
        File.CreateSymbolicLink(Path.Combine(_share.SharedDir, "evil"), "/");
        File.WriteAllText(Path.Combine(_share.Outside, "secret"), "host only");
        File.CreateSymbolicLink(Path.Combine(_share.SharedDir, "evil2"), "../secret");
        Assert.Equal(0, Client.Lookup(1, "evil", out FuseEntry evil));
        Assert.Equal(0xA000u, evil.Attr.FileType);   // the link itself, not the host's /
        Assert.NotEqual(0, Client.Lookup(evil.NodeId, "etc", out _));
        Assert.NotEqual(0, Client.Opendir(evil.NodeId, out _));
        Assert.Equal(0, Client.Lookup(1, "evil2", out FuseEntry evil2));
        Assert.NotEqual(0, Client.Open(evil2.NodeId, 0, out _));   // O_RDONLY through the link: refused
        StillServes();
    }
}
