using VirtioFs.Backend.Fuse.Abi;
using VirtioFs.Backend.Memory;

namespace VirtioFs.Backend.Fuse;

// File data: OPEN, CREATE, READ, WRITE, FLUSH, RELEASE, FSYNC, LSEEK, FALLOCATE.
public sealed unsafe partial class FuseServer
{
    private int Open(ref FuseCall call)
    {
        if (!call.TryArg(0, out FuseOpenIn args)) return call.Reject(FuseErrno.EINVAL, FuseRejection.TruncatedArguments);
        if (!call.HasRoom((ulong)sizeof(FuseOpenOut))) return call.Reject(FuseErrno.EINVAL, FuseRejection.ReplyTooSmall);
        int errno = _fs.Open(call.Context, call.NodeId, args.Flags, args.OpenFlags, out ulong fh, out FuseOpenOutFlags openFlags);
        return errno != 0 ? call.Error(errno) : call.Ok(new FuseOpenOut { Fh = fh, OpenFlags = (uint)openFlags });
    }

    private int Create(ref FuseCall call)
    {
        if (!call.TryArg(0, out FuseCreateIn args)) return call.Reject(FuseErrno.EINVAL, FuseRejection.TruncatedArguments);
        if (!call.HasRoom((ulong)(sizeof(FuseEntryOut) + sizeof(FuseOpenOut)))) return call.Reject(FuseErrno.EINVAL, FuseRejection.ReplyTooSmall);
        int errno = call.TakeName(sizeof(FuseCreateIn), allowDots: false, out FuseName name, out _);
        if (errno != 0) return call.Error(errno);
        errno = _fs.Create(call.Context, call.NodeId, name, args.Mode, args.Flags, args.Umask, args.OpenFlags,
            out FuseEntryOut entry, out ulong fh, out FuseOpenOutFlags openFlags);
        if (errno != 0) return call.Error(errno);
        return call.Ok(entry, new FuseOpenOut { Fh = fh, OpenFlags = (uint)openFlags });
    }

    private int Read(ref FuseCall call)
    {
        if (!call.TryArg(0, out FuseReadIn args)) return call.Reject(FuseErrno.EINVAL, FuseRejection.TruncatedArguments);
        // Who might lie: the guest's size. It must fit both our limit and the reply buffer it gave us.
        if (args.Size > Options.MaxWrite || !call.HasRoom(args.Size)) return call.Reject(FuseErrno.EINVAL, FuseRejection.ReadTooLarge);

        // Zero copy: the file data goes straight into the reply segments behind the out header.
        Span<IoSegment> into = call.Worker.DataSegments(call.Reply.Length);
        int count = SegmentIo.Slice(call.Reply, FuseConstants.OutHeaderSize, args.Size, into);
        if (count < 0) return call.Reject(FuseErrno.EINVAL, FuseRejection.DataOutsideBuffers);
        int errno = _fs.Read(call.Context, call.NodeId, args.Fh, args.Offset, into[..count], out int bytesRead);
        if (errno != 0) return call.Error(errno);
        if (unchecked((uint)bytesRead) > args.Size) return call.Error(FuseErrno.EIO);
        call.Worker.LastDataRead = bytesRead;
        return call.OkPlaced(bytesRead);
    }

    private int Write(ref FuseCall call)
    {
        // WRITE's arguments were not copied: fuse_write_in is read from the request, the payload used in place.
        ulong argsLength = call.Header.Len - (ulong)FuseConstants.InHeaderSize - (ulong)call.Header.TotalExtLen * 8;
        if (argsLength < (ulong)sizeof(FuseWriteIn) ||
            !SegmentIo.TryRead(call.Request, FuseConstants.InHeaderSize, out FuseWriteIn args))
        {
            return call.Reject(FuseErrno.EINVAL, FuseRejection.TruncatedArguments);
        }
        // Who might lie: fuse_write_in.size must match the payload actually present, and our negotiated max_write.
        if (args.Size != argsLength - (ulong)sizeof(FuseWriteIn) || args.Size > Options.MaxWrite) return call.Reject(FuseErrno.EINVAL, FuseRejection.WriteSizeMismatch);
        if (!call.HasRoom((ulong)sizeof(FuseWriteOut))) return call.Reject(FuseErrno.EINVAL, FuseRejection.ReplyTooSmall);

        Span<IoSegment> from = call.Worker.DataSegments(call.Request.Length);
        int count = SegmentIo.Slice(call.Request, (ulong)(FuseConstants.InHeaderSize + sizeof(FuseWriteIn)), args.Size, from);
        if (count < 0) return call.Reject(FuseErrno.EINVAL, FuseRejection.DataOutsideBuffers);
        int errno = _fs.Write(call.Context, call.NodeId, args.Fh, args.Offset, from[..count], args.WriteFlags, out int written);
        if (errno != 0) return call.Error(errno);
        if (unchecked((uint)written) > args.Size) return call.Error(FuseErrno.EIO);
        call.Worker.LastDataWritten = written;
        return call.Ok(new FuseWriteOut { Size = (uint)written });
    }

    private int Flush(ref FuseCall call)
    {
        if (!call.TryArg(0, out FuseFlushIn args)) return call.Reject(FuseErrno.EINVAL, FuseRejection.TruncatedArguments);
        return Result(ref call, _fs.Flush(call.Context, call.NodeId, args.Fh, args.LockOwner));
    }

    private int Release(ref FuseCall call)
    {
        if (!call.TryArg(0, out FuseReleaseIn args)) return call.Reject(FuseErrno.EINVAL, FuseRejection.TruncatedArguments);
        return Result(ref call, _fs.Release(call.Context, call.NodeId, args.Fh, args.Flags, args.ReleaseFlags, args.LockOwner));
    }

    private int Fsync(ref FuseCall call)
    {
        if (!call.TryArg(0, out FuseFsyncIn args)) return call.Reject(FuseErrno.EINVAL, FuseRejection.TruncatedArguments);
        bool dataSync = (args.FsyncFlags & FuseConstants.FsyncFdatasync) != 0;
        return Result(ref call, _fs.Fsync(call.Context, call.NodeId, args.Fh, dataSync));
    }

    private int Lseek(ref FuseCall call)
    {
        if (!call.TryArg(0, out FuseLseekIn args)) return call.Reject(FuseErrno.EINVAL, FuseRejection.TruncatedArguments);
        if (!call.HasRoom((ulong)sizeof(FuseLseekOut))) return call.Reject(FuseErrno.EINVAL, FuseRejection.ReplyTooSmall);
        int errno = _fs.Lseek(call.Context, call.NodeId, args.Fh, args.Offset, args.Whence, out ulong result);
        return errno != 0 ? call.Error(errno) : call.Ok(new FuseLseekOut { Offset = result });
    }

    private int TmpFile(ref FuseCall call)
    {
        // fuse_create_in, then a name the kernel makes up for the unnamed dentry ("/" on 6.x): never used.
        if (!call.TryArg(0, out FuseCreateIn args)) return call.Reject(FuseErrno.EINVAL, FuseRejection.TruncatedArguments);
        if (!call.HasRoom((ulong)(sizeof(FuseEntryOut) + sizeof(FuseOpenOut)))) return call.Reject(FuseErrno.EINVAL, FuseRejection.ReplyTooSmall);
        int errno = _fs.TmpFile(call.Context, call.NodeId, args.Mode, args.Flags, args.Umask,
            out FuseEntryOut entry, out ulong fh, out FuseOpenOutFlags openFlags);
        if (errno != 0) return call.Error(errno);
        return call.Ok(entry, new FuseOpenOut { Fh = fh, OpenFlags = (uint)openFlags });
    }

    private int CopyFileRange(ref FuseCall call)
    {
        if (!call.TryArg(0, out FuseCopyFileRangeIn args)) return call.Reject(FuseErrno.EINVAL, FuseRejection.TruncatedArguments);
        if (!call.HasRoom((ulong)sizeof(FuseWriteOut))) return call.Reject(FuseErrno.EINVAL, FuseRejection.ReplyTooSmall);
        int errno = _fs.CopyFileRange(call.Context, call.NodeId, args.FhIn, args.OffIn, args.NodeIdOut, args.FhOut, args.OffOut,
            args.Len, args.Flags, out ulong copied);
        if (errno != 0) return call.Error(errno);
        // fuse_write_out.size is 32 bits: the kernel never asks for more than fits (it clamps len to UINT_MAX... minus
        // a page); a file system reporting more is a bug.
        if (copied > uint.MaxValue || copied > args.Len) return call.Error(FuseErrno.EIO);
        call.Worker.LastDataWritten = (long)copied;
        return call.Ok(new FuseWriteOut { Size = (uint)copied });
    }

    private int Fallocate(ref FuseCall call)
    {
        if (!call.TryArg(0, out FuseFallocateIn args)) return call.Reject(FuseErrno.EINVAL, FuseRejection.TruncatedArguments);
        return Result(ref call, _fs.Fallocate(call.Context, call.NodeId, args.Fh, args.Mode, args.Offset, args.Length));
    }
}
