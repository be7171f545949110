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
    public Span<byte> Args;

    /// <summary>The FUSE_EXT_GROUPS group of this request, when it carried exactly one and the guest may send it.</summary>
    public uint SupplementaryGroup;
    public bool HasSupplementaryGroup;

    public FuseCall(FuseWorker worker, in FuseInHeader header, ReadOnlySpan<IoSegment> request, ReadOnlySpan<IoSegment> reply, ulong replyRoom)
    {
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
    /// Returns 0 or an errno; <paramref name="next"/> is the offset after the terminator.
    /// </summary>
    public readonly int TakeName(int offset, bool allowDots, out FuseName name, out int next)
    {
        name = default;
        next = offset;
        if (offset < 0 || offset >= Args.Length) return FuseErrno.EINVAL;
        Span<byte> rest = Args[offset..];
        int length = rest.IndexOf((byte)0);
        if (length < 0) return FuseErrno.EINVAL;                     // no terminator inside the arguments
        if (length == 0) return FuseErrno.EINVAL;
        if (length > NameMax) return FuseErrno.ENAMETOOLONG;
        ReadOnlySpan<byte> bytes = rest[..length];
        if (bytes.IndexOf((byte)'/') >= 0) return FuseErrno.EINVAL;  // one component only: never a path
        name = new FuseName(rest[..(length + 1)]);
        if (!allowDots && (name.IsDot || name.IsDotDot)) return FuseErrno.EINVAL;
        next = offset + length + 1;
        return 0;
    }

    /// <summary>Takes a NUL-terminated string of at most <paramref name="maxLength"/> bytes (no other checks).</summary>
    public readonly int TakeString(int offset, int maxLength, out ReadOnlySpan<byte> withTerminator, out int next)
    {
        withTerminator = default;
        next = offset;
        if (offset < 0 || offset >= Args.Length) return FuseErrno.EINVAL;
        Span<byte> rest = Args[offset..];
        int length = rest.IndexOf((byte)0);
        if (length < 0) return FuseErrno.EINVAL;
        if (length > maxLength) return FuseErrno.ENAMETOOLONG;
        withTerminator = rest[..(length + 1)];
        next = offset + length + 1;
        return 0;
    }

    /// <summary>NAME_MAX.</summary>
    public const int NameMax = 255;

    public readonly int Error(int errno)
    {
        Worker.LastError = errno;
        return WriteHeader(FuseConstants.OutHeaderSize, -errno);
    }

    public readonly int Ok() => WriteHeader(FuseConstants.OutHeaderSize, 0);

    public readonly int Ok<T>(in T body) where T : unmanaged
    {
        if (!HasRoom((ulong)sizeof(T))) return Error(FuseErrno.EINVAL);
        fixed (T* p = &body)
        {
            SegmentIo.TryCopyIn(Reply, FuseConstants.OutHeaderSize, new ReadOnlySpan<byte>(p, sizeof(T)));
        }
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
