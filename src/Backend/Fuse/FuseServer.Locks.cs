using VirtioFs.Backend.Fuse.Abi;

namespace VirtioFs.Backend.Fuse;

// Remote locks: GETLK, SETLK, SETLKW (POSIX record locks and, with FUSE_LK_FLOCK, BSD flock).
public sealed unsafe partial class FuseServer
{
    /// <summary>What <see cref="HandleRequest"/> returns for a request whose reply comes later (see <see cref="IFuseDeferredReplies"/>).</summary>
    public const int DeferredReply = -1;

    private const uint F_RDLCK = 0, F_WRLCK = 1, F_UNLCK = 2;

    /// <summary>SETLKW requests waiting for a lock right now.</summary>
    public int WaitingLocks => _lockWaiter.Count;

    private int GetLk(ref FuseCall call)
    {
        if (!call.TryArg(0, out FuseLkIn args)) return call.Reject(FuseErrno.EINVAL, FuseRejection.TruncatedArguments);
        if (!call.HasRoom((ulong)sizeof(FuseLkOut))) return call.Reject(FuseErrno.EINVAL, FuseRejection.ReplyTooSmall);
        if (!ValidLock(args.Lk)) return call.Reject(FuseErrno.EINVAL, FuseRejection.InvalidLock);
        int errno = _fs.GetLk(call.Context, call.NodeId, args.Fh, args.Owner, args.Lk, out FuseFileLock conflict);
        return errno != 0 ? call.Error(errno) : call.Ok(new FuseLkOut { Lk = conflict });
    }

    private int SetLk(ref FuseCall call, bool wait)
    {
        if (!call.TryArg(0, out FuseLkIn args)) return call.Reject(FuseErrno.EINVAL, FuseRejection.TruncatedArguments);
        if (!ValidLock(args.Lk)) return call.Reject(FuseErrno.EINVAL, FuseRejection.InvalidLock);
        bool flock = (args.LkFlags & FuseConstants.LkFlock) != 0;
        FuseContext context = call.Context;
        int errno = _fs.SetLk(context, call.NodeId, args.Fh, args.Owner, args.Lk, flock);
        if (errno != FuseErrno.EAGAIN || !wait || args.Lk.Type == F_UNLCK) return Result(ref call, errno);

        // SETLKW on a held lock: wait elsewhere, never on this thread (the holder's unlock may be queued behind us).
        IFuseDeferredReplies? transport = call.Worker.DeferredReplies;
        if (transport is null) return call.Error(FuseErrno.EOPNOTSUPP);   // what the C virtiofsd answers to every SETLKW
        object token = transport.Defer();
        _lockWaiter.Add(new PendingLock(context, call.NodeId, args, transport, token));
        return DeferredReply;
    }

    /// <summary>
    /// Who might lie: the guest's lock. The type must be one of the three, and the range must be one fcntl can express
    /// (start and end at most OFFSET_MAX, start not after end).
    /// </summary>
    private static bool ValidLock(in FuseFileLock lk)
        => lk.Type is F_RDLCK or F_WRLCK or F_UNLCK &&
           lk.Start <= FuseConstants.OffsetMax && lk.End <= FuseConstants.OffsetMax && lk.Start <= lk.End;
}
