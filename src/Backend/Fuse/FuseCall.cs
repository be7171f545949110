using System.Runtime.CompilerServices;
using VirtioFs.Backend.Fuse.Abi;
using VirtioFs.Backend.Memory;

namespace VirtioFs.Backend.Fuse;

/// <summary>
/// One request being served: the decoded header, the arguments (a private copy in worker scratch, so the guest
/// cannot change them after we checked them), and the reply segments, with the reply-framing helpers.
/// Every reply helper returns the used length; fuse_out_header.len always equals the bytes written.
/// </summary>
internal unsafe ref struct FuseCall
{
    public readonly FuseWorker Worker;
    public readonly FuseInHeader Header;
    public readonly ReadOnlySpan<IoSegment> Request;
    public readonly ReadOnlySpan<IoSegment> Reply;
    public readonly ulong ReplyRoom;
    public readonly IFuseLog? Log;
    public Span<byte> Args;

    /// <summary>Set when a name or string argument was refused (<see cref="TakeName"/>): <see cref="Error"/> logs it.</summary>
    private string? _rejection;

    /// <summary>The FUSE_EXT_GROUPS group of this request, when it carried exactly one and the guest may send it.</summary>
    public uint SupplementaryGroup;
    public bool HasSupplementaryGroup;

    public FuseCall(FuseWorker worker, in FuseInHeader header, ReadOnlySpan<IoSegment> request, ReadOnlySpan<IoSegment> reply, ulong replyRoom,
        IFuseLog? log = null)
    {
        Log = log;
        _rejection = null;
        Worker = worker;
        Header = header;
        Request = request;
        Reply = reply;
        ReplyRoom = replyRoom;
        Args = default;
        SupplementaryGroup = 0;
        HasSupplementaryGroup = false;
    }

    public readonly FuseContext Context => HasSupplementaryGroup
        ? new(Header.Uid, Header.Gid, Header.Pid, Header.Unique, SupplementaryGroup)
        : new(Header.Uid, Header.Gid, Header.Pid, Header.Unique);

    public readonly ulong NodeId => Header.NodeId;

    /// <summary>True when the reply can take an out header plus <paramref name="bodySize"/> bytes.</summary>
    public readonly bool HasRoom(ulong bodySize) => ReplyRoom >= FuseConstants.OutHeaderSize + bodySize;

    /// <summary>Bytes available for a reply body.</summary>
    public readonly ulong BodyRoom => ReplyRoom - FuseConstants.OutHeaderSize;

    /// <summary>Reads a fixed-size argument at <paramref name="offset"/> of the copied arguments.</summary>
    public readonly bool TryArg<T>(int offset, out T value) where T : unmanaged
    {
        if (offset < 0 || Args.Length - offset < sizeof(T))
        {
            value = default;
            return false;
        }
        value = Unsafe.ReadUnaligned<T>(ref Args[offset]);
        return true;
    }

    /// <summary>
    /// Takes the NUL-terminated name at <paramref name="offset"/> and validates it as one path component.
    /// Returns 0 or an errno (the refusal is logged when the reply is sent); <paramref name="next"/> is the offset
    /// after the terminator.
    /// </summary>
    public int TakeName(int offset, bool allowDots, out FuseName name, out int next)
    {
        name = default;
        next = offset;
        if (offset < 0 || offset >= Args.Length) return Refuse(FuseErrno.EINVAL, FuseRejection.NameUnterminated);
        Span<byte> rest = Args[offset..];
        int length = rest.IndexOf((byte)0);
        if (length < 0) return Refuse(FuseErrno.EINVAL, FuseRejection.NameUnterminated);   // no terminator inside the arguments
        if (length == 0) return Refuse(FuseErrno.EINVAL, FuseRejection.NameEmpty);
        if (length > NameMax) return Refuse(FuseErrno.ENAMETOOLONG, FuseRejection.NameTooLong);
        ReadOnlySpan<byte> bytes = rest[..length];
        if (bytes.IndexOf((byte)'/') >= 0) return Refuse(FuseErrno.EINVAL, FuseRejection.NameWithSlash);  // one component only: never a path
        name = new FuseName(rest[..(length + 1)]);
        if (!allowDots && (name.IsDot || name.IsDotDot))
        {
            name = default;
            return Refuse(FuseErrno.EINVAL, FuseRejection.NameIsDots);
        }
        next = offset + length + 1;
        return 0;
    }

    /// <summary>Takes a NUL-terminated string of at most <paramref name="maxLength"/> bytes (no other checks).</summary>
    public int TakeString(int offset, int maxLength, out ReadOnlySpan<byte> withTerminator, out int next)
    {
        withTerminator = default;
        next = offset;
        if (offset < 0 || offset >= Args.Length) return Refuse(FuseErrno.EINVAL, FuseRejection.StringUnterminated);
        Span<byte> rest = Args[offset..];
        int length = rest.IndexOf((byte)0);
        if (length < 0) return Refuse(FuseErrno.EINVAL, FuseRejection.StringUnterminated);
        if (length > maxLength) return Refuse(FuseErrno.ENAMETOOLONG, FuseRejection.StringTooLong);
        withTerminator = rest[..(length + 1)];
        next = offset + length + 1;
        return 0;
    }

    /// <summary>Records why an argument was refused (logged by <see cref="Error"/>) and returns the errno.</summary>
    public int Refuse(int errno, string reason)
    {
        _rejection = reason;
        return errno;
    }

    /// <summary>NAME_MAX.</summary>
    public const int NameMax = 255;

    /// <summary>
    /// Answers <paramref name="errno"/>. A refusal recorded by <see cref="Refuse"/>, and any EBADF (node ids and
    /// handles are ours: an honest guest only sends back live ones), is reported to the log as a rejection.
    /// </summary>
    public readonly int Error(int errno)
    {
        Worker.LastError = errno;
        string? reason = _rejection ?? (errno == FuseErrno.EBADF ? FuseRejection.UnknownId : null);
        if (reason is not null) Log?.Rejected(Header.Opcode, Header.Unique, reason);
        return WriteHeader(FuseConstants.OutHeaderSize, -errno);
    }

    /// <summary>Answers <paramref name="errno"/> for a request refused as malformed or hostile, and logs why.</summary>
    public int Reject(int errno, string reason)
    {
        _rejection = reason;
        return Error(errno);
    }

    public readonly int Ok() => WriteHeader(FuseConstants.OutHeaderSize, 0);

    public readonly int Ok<T>(in T body) where T : unmanaged
    {
        if (!HasRoom((ulong)sizeof(T))) return Error(FuseErrno.EINVAL);
        SegmentIo.TryWrite(Reply, FuseConstants.OutHeaderSize, body);
        return WriteHeader(FuseConstants.OutHeaderSize + sizeof(T), 0);
    }

    /// <summary>A reply whose body is two structs back to back (CREATE: entry_out then open_out).</summary>
    public readonly int Ok<T1, T2>(in T1 first, in T2 second) where T1 : unmanaged where T2 : unmanaged
    {
        if (!HasRoom((ulong)(sizeof(T1) + sizeof(T2)))) return Error(FuseErrno.EINVAL);
        SegmentIo.TryWrite(Reply, FuseConstants.OutHeaderSize, first);
        SegmentIo.TryWrite(Reply, (ulong)(FuseConstants.OutHeaderSize + sizeof(T1)), second);
        return WriteHeader(FuseConstants.OutHeaderSize + sizeof(T1) + sizeof(T2), 0);
    }

    public readonly int OkBytes(ReadOnlySpan<byte> body)
    {
        if (!HasRoom((ulong)body.Length)) return Error(FuseErrno.EINVAL);
        SegmentIo.TryCopyIn(Reply, FuseConstants.OutHeaderSize, body);
        return WriteHeader(FuseConstants.OutHeaderSize + body.Length, 0);
    }

    /// <summary>Success with <paramref name="bodyLength"/> bytes the handler already placed after the header.</summary>
    public readonly int OkPlaced(int bodyLength) => WriteHeader(FuseConstants.OutHeaderSize + bodyLength, 0);

    private readonly int WriteHeader(int length, int error)
    {
        if (ReplyRoom < FuseConstants.OutHeaderSize) return 0;
        var header = new FuseOutHeader { Len = (uint)length, Error = error, Unique = Header.Unique };
        SegmentIo.TryWrite(Reply, 0, header);
        return length;
    }
}
