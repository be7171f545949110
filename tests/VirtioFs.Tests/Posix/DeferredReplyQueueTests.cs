using System.Runtime.CompilerServices;
using VirtioFs.Backend.Fuse;
using VirtioFs.Backend.Fuse.Abi;
using VirtioFs.Backend.Interop;
using VirtioFs.Backend.Passthrough;
using VirtioFs.Tests.Fuse;
using Xunit;

namespace VirtioFs.Tests.Posix;

/// <summary>The queue a virtqueue thread would use to finish deferred requests on its own thread.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed unsafe class DeferredReplyQueueTests
{
    [Fact]
    public void ADeferredSetlkwComesBackThroughTheEventfdWithItsToken()
    {
        using var h = new FuseHarness(share => new PassthroughOptions { SharedDirectory = share, PosixLocks = true });
        var dropped = new List<object>();
        int nextToken = 0;
        using var queue = new DeferredReplyQueue(() => ++nextToken, dropped.Add);
        using var worker = new FuseWorker { DeferredReplies = queue };
        var (node, fh) = h.CreateOk(1, "f");
        byte[] Lk(ulong owner, uint type) => new ArgsBuilder().Add(new FuseLkIn { Fh = fh, Owner = owner, Lk = new FuseFileLock { End = long.MaxValue, Type = type } });
        Assert.Equal(0, h.Send(FuseOpcode.SetLk, node, Lk(1, 1)).Errno);
        byte[] request = h.BuildRequest(FuseOpcode.SetLkw, node, Lk(2, 1));
        Assert.Equal(FuseServer.DeferredReply, h.SendRaw(request, null, new[] { 4096 }, worker).UsedLength);
        Assert.Equal(1, queue.Outstanding);
        Assert.False(queue.TryTake(out _, out _));

        Assert.Equal(0, h.Send(FuseOpcode.SetLk, node, Lk(1, 2)).Errno);
        var poll = new Libc.pollfd { fd = queue.EventFd, events = Libc.POLLIN };
        Assert.Equal(1, Libc.poll(&poll, 1, 10_000));
        queue.ClearSignal();
        Assert.True(queue.TryTake(out object token, out byte[] reply));
        Assert.Equal(1, token);
        var header = Unsafe.ReadUnaligned<FuseOutHeader>(ref reply[0]);
        Assert.Equal((16u, 0, BitConverter.ToUInt64(request, 8)), (header.Len, header.Error, header.Unique));
        Assert.Equal(0, queue.Outstanding);

        // Into reply segments, as the queue thread would.
        byte[] target = new byte[64];
        fixed (byte* t = target)
        {
            Assert.True(DeferredReplyQueue.CopyReply(new[] { new VirtioFs.Backend.Memory.IoSegment(t, 8), new VirtioFs.Backend.Memory.IoSegment(t + 8, 56) }, reply));
        }
        Assert.Equal(reply, target[..16]);
        Assert.Empty(dropped);
    }

    [Fact]
    public void CompletionsAfterDisposeAreDroppedNotLost()
    {
        var dropped = new List<object>();
        var queue = new DeferredReplyQueue(() => "t", dropped.Add);
        IFuseDeferredReplies replies = queue;
        object first = replies.Defer(), second = replies.Defer();
        replies.Complete(first, new byte[16]);
        queue.Dispose();                          // the queued one is dropped...
        replies.Complete(second, new byte[16]);   // ...and so is a late one
        Assert.Equal(2, dropped.Count);
        Assert.Equal(0, queue.Outstanding);
        queue.Dispose();
    }
}
