using VirtioFs.Backend.Fuse.Abi;

namespace VirtioFs.Backend.Fuse;

// STATFS, ACCESS and the extended-attribute operations.
public sealed unsafe partial class FuseServer
{
    /// <summary>XATTR_SIZE_MAX: the largest extended-attribute value or list.</summary>
    private const int XattrSizeMax = 64 << 10;

    /// <summary>Where xattr values are staged: behind the first MiB of scratch, clear of the copied arguments' names.</summary>
    private const int XattrStagingOffset = 1 << 20;

    private int StatFs(ref FuseCall call)
    {
        if (!call.HasRoom((ulong)sizeof(FuseKstatfs))) return call.Reject(FuseErrno.EINVAL, FuseRejection.ReplyTooSmall);
        int errno = _fs.StatFs(call.Context, call.NodeId, out FuseKstatfs statfs);
        return errno != 0 ? call.Error(errno) : call.Ok(statfs);
    }

    private int SyncFs(ref FuseCall call)
    {
        // fuse_syncfs_in is 8 bytes of padding: nothing to check but its presence.
        if (call.Args.Length < 8) return call.Reject(FuseErrno.EINVAL, FuseRejection.TruncatedArguments);
        return Result(ref call, _fs.SyncFs(call.Context, call.NodeId));
    }

    private int Access(ref FuseCall call)
    {
        if (!call.TryArg(0, out FuseAccessIn args)) return call.Reject(FuseErrno.EINVAL, FuseRejection.TruncatedArguments);
        return Result(ref call, _fs.Access(call.Context, call.NodeId, args.Mask));
    }

    private int GetXattr(ref FuseCall call)
    {
        if (!call.TryArg(0, out FuseGetxattrIn args)) return call.Reject(FuseErrno.EINVAL, FuseRejection.TruncatedArguments);
        int errno = TakeXattrName(ref call, sizeof(FuseGetxattrIn), out FuseName name, out _);
        if (errno != 0) return call.Error(errno);
        Span<byte> buffer = XattrBuffer(call.Worker, call.BodyRoom, args.Size, out errno);
        if (errno != 0) return call.Error(errno);
        errno = _fs.GetXattr(call.Context, call.NodeId, name, buffer, out int length);
        return XattrReply(ref call, errno, buffer, length);
    }

    private int ListXattr(ref FuseCall call)
    {
        if (!call.TryArg(0, out FuseGetxattrIn args)) return call.Reject(FuseErrno.EINVAL, FuseRejection.TruncatedArguments);
        Span<byte> buffer = XattrBuffer(call.Worker, call.BodyRoom, args.Size, out int errno);
        if (errno != 0) return call.Error(errno);
        errno = _fs.ListXattr(call.Context, call.NodeId, buffer, out int length);
        return XattrReply(ref call, errno, buffer, length);
    }

    private int SetXattr(ref FuseCall call)
    {
        // fuse_setxattr_in is 8 bytes unless FUSE_SETXATTR_EXT was negotiated (we never offer it).
        bool extended = (_negotiated & FuseInitFlags.SetxattrExt) != 0;
        int headerSize = extended ? sizeof(FuseSetxattrIn) : 8;
        if (call.Args.Length < headerSize) return call.Reject(FuseErrno.EINVAL, FuseRejection.TruncatedArguments);
        FuseSetxattrIn args = default;
        call.Args[..headerSize].CopyTo(new Span<byte>(&args, headerSize));
        int errno = TakeXattrName(ref call, headerSize, out FuseName name, out int next);
        if (errno != 0) return call.Error(errno);
        // Who might lie: the value size must match the bytes that follow the name.
        if (args.Size > XattrSizeMax) return call.Reject(FuseErrno.E2BIG, FuseRejection.XattrValueTooLarge);
        if ((ulong)(call.Args.Length - next) != args.Size) return call.Reject(FuseErrno.EINVAL, FuseRejection.XattrValueSizeMismatch);
        ReadOnlySpan<byte> value = call.Args.Slice(next, (int)args.Size);
        return Result(ref call, _fs.SetXattr(call.Context, call.NodeId, name, value, args.Flags));
    }

    private int RemoveXattr(ref FuseCall call)
    {
        int errno = TakeXattrName(ref call, 0, out FuseName name, out _);
        if (errno != 0) return call.Error(errno);
        return Result(ref call, _fs.RemoveXattr(call.Context, call.NodeId, name));
    }

    /// <summary>Attribute names are not path components ('/' is allowed) but are non-empty and at most 255 bytes.</summary>
    private static int TakeXattrName(ref FuseCall call, int offset, out FuseName name, out int next)
    {
        name = default;
        int errno = call.TakeString(offset, FuseCall.NameMax, out ReadOnlySpan<byte> text, out next);
        if (errno != 0) return errno == FuseErrno.ENAMETOOLONG ? FuseErrno.ERANGE : errno;
        if (text.Length == 1) return call.Refuse(FuseErrno.EINVAL, FuseRejection.XattrNameEmpty);
        name = new FuseName(text);
        return 0;
    }

    // Request size 0 asks for the length only (fuse_getxattr_out, empty buffer); otherwise the value itself is
    // staged in scratch, at most what the guest asked for and what its reply buffer can take.
    private static Span<byte> XattrBuffer(FuseWorker worker, ulong bodyRoom, uint size, out int errno)
    {
        errno = 0;
        if (size == 0)
        {
            if (bodyRoom < (ulong)sizeof(FuseGetxattrOut)) errno = FuseErrno.EINVAL;
            return default;
        }
        int capacity = (int)Math.Min(Math.Min(size, (uint)XattrSizeMax), bodyRoom);
        if (capacity == 0)
        {
            errno = FuseErrno.ERANGE;
            return default;
        }
        return worker.Scratch.Slice(XattrStagingOffset, capacity);
    }

    private static int XattrReply(ref FuseCall call, int errno, Span<byte> buffer, int length)
    {
        if (errno != 0) return call.Error(errno);
        if (buffer.IsEmpty) return call.Ok(new FuseGetxattrOut { Size = unchecked((uint)length) });
        if (unchecked((uint)length) > (uint)buffer.Length) return call.Error(FuseErrno.EIO);
        return call.OkBytes(buffer[..length]);
    }
}
