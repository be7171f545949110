using VirtioFs.Backend.Fuse.Abi;

namespace VirtioFs.Backend.Fuse;

// Operations on names and attributes: LOOKUP, GETATTR, SETATTR, READLINK, SYMLINK, MKNOD, MKDIR, UNLINK, RMDIR,
// RENAME(2), LINK.
public sealed unsafe partial class FuseServer
{
    /// <summary>PATH_MAX without the terminator: the longest symlink target.</summary>
    private const int SymlinkTargetMax = 4095;

    private int Lookup(ref FuseCall call)
    {
        if (!call.HasRoom((ulong)sizeof(FuseEntryOut))) return call.Reject(FuseErrno.EINVAL, FuseRejection.ReplyTooSmall);
        // "." and ".." may be looked up (the file system confines them); every other op refuses them.
        int errno = call.TakeName(0, allowDots: true, out FuseName name, out _);
        if (errno != 0) return call.Error(errno);
        errno = _fs.Lookup(call.Context, call.NodeId, name, out FuseEntryOut entry);
        return errno != 0 ? call.Error(errno) : call.Ok(entry);
    }

    private int GetAttr(ref FuseCall call)
    {
        if (!call.TryArg(0, out FuseGetAttrIn args)) return call.Reject(FuseErrno.EINVAL, FuseRejection.TruncatedArguments);
        if (!call.HasRoom((ulong)sizeof(FuseAttrOut))) return call.Reject(FuseErrno.EINVAL, FuseRejection.ReplyTooSmall);
        bool useHandle = (args.GetAttrFlags & FuseConstants.GetAttrFh) != 0;
        int errno = _fs.GetAttr(call.Context, call.NodeId, args.Fh, useHandle, out FuseAttrOut attr);
        return errno != 0 ? call.Error(errno) : call.Ok(attr);
    }

    private int SetAttr(ref FuseCall call)
    {
        if (!call.TryArg(0, out FuseSetAttrIn args)) return call.Reject(FuseErrno.EINVAL, FuseRejection.TruncatedArguments);
        if (!call.HasRoom((ulong)sizeof(FuseAttrOut))) return call.Reject(FuseErrno.EINVAL, FuseRejection.ReplyTooSmall);
        int errno = _fs.SetAttr(call.Context, call.NodeId, args, out FuseAttrOut attr);
        return errno != 0 ? call.Error(errno) : call.Ok(attr);
    }

    private int ReadLink(ref FuseCall call)
    {
        // READLINK has no arguments to keep, so the target is staged at the start of scratch.
        Span<byte> target = call.Worker.Scratch[..(SymlinkTargetMax + 1)];
        int errno = _fs.ReadLink(call.Context, call.NodeId, target, out int length);
        if (errno != 0) return call.Error(errno);
        if (unchecked((uint)length) > (uint)target.Length) return call.Error(FuseErrno.EIO);
        if (!call.HasRoom((ulong)length)) return call.Reject(FuseErrno.ERANGE, FuseRejection.ReplyTooSmall);
        return call.OkBytes(target[..length]);
    }

    private int Symlink(ref FuseCall call)
    {
        if (!call.HasRoom((ulong)sizeof(FuseEntryOut))) return call.Reject(FuseErrno.EINVAL, FuseRejection.ReplyTooSmall);
        // Arguments: the new name, then the target, both NUL-terminated.
        int errno = call.TakeName(0, allowDots: false, out FuseName name, out int next);
        if (errno != 0) return call.Error(errno);
        errno = call.TakeString(next, SymlinkTargetMax, out ReadOnlySpan<byte> target, out _);
        if (errno != 0) return call.Error(errno);
        if (target.Length == 1) return call.Error(FuseErrno.ENOENT);   // empty target, as symlink(2) answers
        errno = _fs.Symlink(call.Context, call.NodeId, name, target, out FuseEntryOut entry);
        return errno != 0 ? call.Error(errno) : call.Ok(entry);
    }

    private int Mknod(ref FuseCall call)
    {
        if (!call.TryArg(0, out FuseMknodIn args)) return call.Reject(FuseErrno.EINVAL, FuseRejection.TruncatedArguments);
        if (!call.HasRoom((ulong)sizeof(FuseEntryOut))) return call.Reject(FuseErrno.EINVAL, FuseRejection.ReplyTooSmall);
        int errno = call.TakeName(sizeof(FuseMknodIn), allowDots: false, out FuseName name, out _);
        if (errno != 0) return call.Error(errno);
        errno = _fs.Mknod(call.Context, call.NodeId, name, args.Mode, args.Rdev, args.Umask, out FuseEntryOut entry);
        return errno != 0 ? call.Error(errno) : call.Ok(entry);
    }

    private int Mkdir(ref FuseCall call)
    {
        if (!call.TryArg(0, out FuseMkdirIn args)) return call.Reject(FuseErrno.EINVAL, FuseRejection.TruncatedArguments);
        if (!call.HasRoom((ulong)sizeof(FuseEntryOut))) return call.Reject(FuseErrno.EINVAL, FuseRejection.ReplyTooSmall);
        int errno = call.TakeName(sizeof(FuseMkdirIn), allowDots: false, out FuseName name, out _);
        if (errno != 0) return call.Error(errno);
        errno = _fs.Mkdir(call.Context, call.NodeId, name, args.Mode, args.Umask, out FuseEntryOut entry);
        return errno != 0 ? call.Error(errno) : call.Ok(entry);
    }

    private int Unlink(ref FuseCall call)
    {
        int errno = call.TakeName(0, allowDots: false, out FuseName name, out _);
        if (errno != 0) return call.Error(errno);
        return Result(ref call, _fs.Unlink(call.Context, call.NodeId, name));
    }

    private int Rmdir(ref FuseCall call)
    {
        int errno = call.TakeName(0, allowDots: false, out FuseName name, out _);
        if (errno != 0) return call.Error(errno);
        return Result(ref call, _fs.Rmdir(call.Context, call.NodeId, name));
    }

    private int Rename(ref FuseCall call, bool rename2)
    {
        ulong newDir;
        uint flags = 0;
        int offset;
        if (rename2)
        {
            if (!call.TryArg(0, out FuseRename2In args)) return call.Reject(FuseErrno.EINVAL, FuseRejection.TruncatedArguments);
            newDir = args.NewDir;
            flags = args.Flags;
            offset = sizeof(FuseRename2In);
        }
        else
        {
            if (!call.TryArg(0, out FuseRenameIn args)) return call.Reject(FuseErrno.EINVAL, FuseRejection.TruncatedArguments);
            newDir = args.NewDir;
            offset = sizeof(FuseRenameIn);
        }
        int errno = call.TakeName(offset, allowDots: false, out FuseName oldName, out int next);
        if (errno != 0) return call.Error(errno);
        errno = call.TakeName(next, allowDots: false, out FuseName newName, out _);
        if (errno != 0) return call.Error(errno);
        return Result(ref call, _fs.Rename(call.Context, call.NodeId, oldName, newDir, newName, flags));
    }

    private int Link(ref FuseCall call)
    {
        // in_header.nodeid is the new parent; fuse_link_in names the existing node.
        if (!call.TryArg(0, out FuseLinkIn args)) return call.Reject(FuseErrno.EINVAL, FuseRejection.TruncatedArguments);
        if (!call.HasRoom((ulong)sizeof(FuseEntryOut))) return call.Reject(FuseErrno.EINVAL, FuseRejection.ReplyTooSmall);
        int errno = call.TakeName(sizeof(FuseLinkIn), allowDots: false, out FuseName name, out _);
        if (errno != 0) return call.Error(errno);
        errno = _fs.Link(call.Context, args.OldNodeId, call.NodeId, name, out FuseEntryOut entry);
        return errno != 0 ? call.Error(errno) : call.Ok(entry);
    }
}
