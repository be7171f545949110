using VirtioFs.Backend.Fuse.Abi;

namespace VirtioFs.Backend.Fuse;

// Directory handles: OPENDIR, READDIR, READDIRPLUS, RELEASEDIR, FSYNCDIR.
public sealed unsafe partial class FuseServer
{
    private int OpenDir(ref FuseCall call)
    {
        if (!call.TryArg(0, out FuseOpenIn args)) return call.Reject(FuseErrno.EINVAL, FuseRejection.TruncatedArguments);
        if (!call.HasRoom((ulong)sizeof(FuseOpenOut))) return call.Reject(FuseErrno.EINVAL, FuseRejection.ReplyTooSmall);
        int errno = _fs.OpenDir(call.Context, call.NodeId, args.Flags, out ulong fh, out FuseOpenOutFlags openFlags);
        return errno != 0 ? call.Error(errno) : call.Ok(new FuseOpenOut { Fh = fh, OpenFlags = (uint)openFlags });
    }

    private int ReadDir(ref FuseCall call, bool plus)
    {
        if (!call.TryArg(0, out FuseReadIn args)) return call.Reject(FuseErrno.EINVAL, FuseRejection.TruncatedArguments);
        // Who might lie: the guest's size; we fill at most what fits the reply and our own limit.
        int size = (int)Math.Min(Math.Min(args.Size, call.BodyRoom), Options.MaxWrite);

        // Entries are written straight into the reply when its body lies in one segment, else staged in scratch
        // (READDIR's arguments were already decoded into `args`, so scratch is free).
        IoSegmentView direct = FindContiguousBody(ref call, size);
        Span<byte> buffer = direct.IsValid ? direct.Span : call.Worker.Scratch[..size];
        var writer = new FuseDirentWriter(buffer);
        int errno = _fs.ReadDir(call.Context, call.NodeId, args.Fh, args.Offset, plus, ref writer, call.Worker.FileSystemScratch);
        if (errno != 0 && writer.BytesWritten == 0) return call.Error(errno);
        if (writer.BytesWritten > size) return call.Error(FuseErrno.EIO);
        if (direct.IsValid) return call.OkPlaced(writer.BytesWritten);
        return call.OkBytes(buffer[..writer.BytesWritten]);
    }

    private int ReleaseDir(ref FuseCall call)
    {
        if (!call.TryArg(0, out FuseReleaseIn args)) return call.Reject(FuseErrno.EINVAL, FuseRejection.TruncatedArguments);
        return Result(ref call, _fs.ReleaseDir(call.Context, call.NodeId, args.Fh, args.Flags));
    }

    private int FsyncDir(ref FuseCall call)
    {
        if (!call.TryArg(0, out FuseFsyncIn args)) return call.Reject(FuseErrno.EINVAL, FuseRejection.TruncatedArguments);
        bool dataSync = (args.FsyncFlags & FuseConstants.FsyncFdatasync) != 0;
        return Result(ref call, _fs.FsyncDir(call.Context, call.NodeId, args.Fh, dataSync));
    }

    /// <summary>The reply bytes [16, 16 + size) when one segment holds them all.</summary>
    private static IoSegmentView FindContiguousBody(ref FuseCall call, int size)
    {
        ulong offset = FuseConstants.OutHeaderSize;
        foreach (var segment in call.Reply)
        {
            if (offset < segment.Length)
            {
                return segment.Length - offset >= (ulong)size
                    ? new IoSegmentView(segment.Address + offset, size)
                    : default;
            }
            offset -= segment.Length;
        }
        return default;
    }

    private readonly ref struct IoSegmentView
    {
        private readonly byte* _address;
        private readonly int _length;

        public IoSegmentView(byte* address, int length)
        {
            _address = address;
            _length = length;
        }

        public bool IsValid => _address != null;

        public Span<byte> Span => new(_address, _length);
    }
}
