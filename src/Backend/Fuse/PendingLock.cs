using VirtioFs.Backend.Fuse.Abi;

namespace VirtioFs.Backend.Fuse;

/// <summary>A SETLKW that found the lock held: parked with its transport until the lock is free or it is interrupted.</summary>
internal sealed class PendingLock
{
    public PendingLock(in FuseContext context, ulong nodeId, in FuseLkIn request, IFuseDeferredReplies transport, object token)
    {
        Context = context;
        NodeId = nodeId;
        Request = request;
        Transport = transport;
        Token = token;
    }

    public FuseContext Context { get; }
    public ulong NodeId { get; }
    public FuseLkIn Request { get; }
    public IFuseDeferredReplies Transport { get; }
    public object Token { get; }

    /// <summary>The guest's request id, which INTERRUPT names.</summary>
    public ulong Unique => Context.Unique;

    public bool IsFlock => (Request.LkFlags & FuseConstants.LkFlock) != 0;

    /// <summary>Set by INTERRUPT or a reset; the waiter then answers EINTR. Guarded by the waiter's lock.</summary>
    public bool Cancelled;
}
