using VirtioFs.Backend.Fuse.Abi;
using VirtioFs.Backend.Memory;

namespace VirtioFs.Backend.Fuse;

/// <summary>
/// The transport-agnostic FUSE server: decodes one request from the device-readable segments, validates it (the
/// guest is hostile), calls the <see cref="IFileSystem"/>, and encodes the reply into the device-writable segments.
/// Safe to call from several threads at once, each with its own <see cref="FuseWorker"/>.
/// </summary>
public sealed partial class FuseServer
{
    private readonly IFileSystem _fs;
    private readonly object _initGate = new();
    private volatile bool _initialized;
    private FuseInitFlags _negotiated;
    private uint _guestMinor;
    private long _internalErrors;

    /// <param name="log">Where refused requests and internal errors are reported (null: nowhere; they are still counted).</param>
    public FuseServer(IFileSystem fileSystem, FuseServerOptions options, IFuseLog? log = null)
    {
        ArgumentNullException.ThrowIfNull(fileSystem);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _fs = fileSystem;
        Options = options;
        Log = log;
        _lockWaiter = new LockWaiter(fileSystem, exception =>
        {
            CountInternalError(exception);
            Log?.InternalError((uint)FuseOpcode.SetLkw, exception);
        });
    }

    /// <summary>Where refused requests and internal errors are reported, or null.</summary>
    public IFuseLog? Log { get; }

    private readonly LockWaiter _lockWaiter;

    private void CountInternalError(Exception exception)
    {
        Interlocked.Increment(ref _internalErrors);
        LastInternalError = exception;
    }

    public FuseServerOptions Options { get; }

    /// <summary>True between a successful INIT and DESTROY / <see cref="Reset"/>.</summary>
    public bool IsInitialized => _initialized;

    /// <summary>The capabilities both sides agreed on at the last INIT.</summary>
    public FuseInitFlags NegotiatedFlags => _negotiated;

    /// <summary>The minor protocol version the guest announced at the last INIT.</summary>
    public uint GuestMinorVersion => _guestMinor;

    /// <summary>Requests that hit a bug in this server or the file system (answered EIO). Should stay 0.</summary>
    public long InternalErrors => Interlocked.Read(ref _internalErrors);

    /// <summary>The exception behind the last internal error, for diagnostics (null if none).</summary>
    public Exception? LastInternalError { get; private set; }

    /// <summary>
    /// Handles one request. <paramref name="request"/> holds the device-readable segments (fuse_in_header, arguments,
    /// write payload), <paramref name="reply"/> the device-writable ones. Returns the bytes written into the reply
    /// (the used length); 0 means no reply (FORGET, BATCH_FORGET, INTERRUPT, or a request too broken to answer).
    /// Never throws for anything the guest sent, and never touches memory outside the segments.
    /// </summary>
    public int HandleRequest(FuseWorker worker, SegmentList request, SegmentList reply)
    {
        ArgumentNullException.ThrowIfNull(worker);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(reply);
        worker.BeginRequest();
        Span<byte> scratch = worker.Scratch;
        ReadOnlySpan<IoSegment> requestSegments = request.AsSpan();
        ulong total = request.TotalLength;

        // Step 1: validate the header. Without a whole header we cannot even name the request (no unique): drop it.
        if (total < FuseConstants.InHeaderSize || !SegmentIo.TryRead(requestSegments, 0, out FuseInHeader header))
        {
            worker.LastError = FuseErrno.EINVAL;
            Log?.Rejected(0, 0, FuseRejection.HeaderTruncated);
            return 0;
        }
        worker.LastOpcode = header.Opcode;
        var call = new FuseCall(worker, header, requestSegments, reply.AsSpan(), reply.TotalLength, Log);
        var opcode = (FuseOpcode)header.Opcode;
        // NOTIFY_REPLY answers a retrieve notification (we never send one); the kernel expects no reply to it either.
        bool noReply = opcode is FuseOpcode.Forget or FuseOpcode.BatchForget or FuseOpcode.Interrupt or FuseOpcode.NotifyReply;

        // Who might lie: the guest writes in_header.len and total_extlen; both must describe exactly the bytes given.
        ulong extensionBytes = (ulong)header.TotalExtLen * 8;
        if (header.Len != total || extensionBytes > total - FuseConstants.InHeaderSize)
        {
            string reason = header.Len != total ? FuseRejection.LengthMismatch : FuseRejection.ExtensionTooLong;
            if (noReply)
            {
                worker.LastError = FuseErrno.EINVAL;
                Log?.Rejected(header.Opcode, header.Unique, reason);
                return 0;
            }
            return call.Reject(FuseErrno.EINVAL, reason);
        }
        ulong argsLength = total - FuseConstants.InHeaderSize - extensionBytes;
        if (extensionBytes != 0 && (_negotiated & FuseInitFlags.CreateSuppGroup) != 0)
        {
            ReadSupplementaryGroup(ref call, FuseConstants.InHeaderSize + argsLength, extensionBytes);
        }

        try
        {
            if (noReply)
            {
                if (_initialized) HandleNoReply(ref call, opcode, argsLength);
                return 0;
            }
            if (call.ReplyRoom < FuseConstants.OutHeaderSize)
            {
                worker.LastError = FuseErrno.EINVAL;
                Log?.Rejected(header.Opcode, header.Unique, FuseRejection.NoRoomForHeader);
                return 0;
            }
            if (!_initialized && opcode != FuseOpcode.Init) return call.Reject(FuseErrno.EIO, FuseRejection.BeforeInit);

            // Step 2: copy the arguments out of guest memory (WRITE's payload stays where it is: zero copy).
            if (opcode != FuseOpcode.Write)
            {
                if (argsLength > (ulong)scratch.Length) return call.Reject(FuseErrno.EINVAL, FuseRejection.ArgumentsTooLarge);
                call.Args = scratch[..(int)argsLength];
                if (!SegmentIo.TryCopyOut(requestSegments, FuseConstants.InHeaderSize, call.Args))
                    return call.Reject(FuseErrno.EINVAL, FuseRejection.ArgumentsUnreadable);
            }

            // Step 3: dispatch.
            return Dispatch(ref call, opcode);
        }
        catch (Exception exception)
        {
            // A bug, not the guest's fault: answer EIO so the share keeps serving, count it and log it.
            CountInternalError(exception);
            Log?.InternalError(header.Opcode, exception);
            return noReply ? 0 : call.Error(FuseErrno.EIO);
        }
    }

    /// <summary>Forgets all guest state (every node but the root, every handle): a new frontend or VHOST_USER_RESET_DEVICE.</summary>
    public void Reset()
    {
        lock (_initGate)
        {
            _initialized = false;
            _negotiated = FuseInitFlags.None;
            _lockWaiter.CancelAll();
            _fs.Destroy();
        }
    }

    private int Dispatch(ref FuseCall call, FuseOpcode opcode) => opcode switch
    {
        FuseOpcode.Init => Init(ref call),
        FuseOpcode.Destroy => Destroy(ref call),
        FuseOpcode.Lookup => Lookup(ref call),
        FuseOpcode.GetAttr => GetAttr(ref call),
        FuseOpcode.SetAttr => SetAttr(ref call),
        FuseOpcode.ReadLink => ReadLink(ref call),
        FuseOpcode.Symlink => Symlink(ref call),
        FuseOpcode.Mknod => Mknod(ref call),
        FuseOpcode.Mkdir => Mkdir(ref call),
        FuseOpcode.Unlink => Unlink(ref call),
        FuseOpcode.Rmdir => Rmdir(ref call),
        FuseOpcode.Rename => Rename(ref call, rename2: false),
        FuseOpcode.Rename2 => Rename(ref call, rename2: true),
        FuseOpcode.Link => Link(ref call),
        FuseOpcode.Open => Open(ref call),
        FuseOpcode.Create => Create(ref call),
        FuseOpcode.Read => Read(ref call),
        FuseOpcode.Write => Write(ref call),
        FuseOpcode.Flush => Flush(ref call),
        FuseOpcode.Release => Release(ref call),
        FuseOpcode.Fsync => Fsync(ref call),
        FuseOpcode.Lseek => Lseek(ref call),
        FuseOpcode.Fallocate => Fallocate(ref call),
        FuseOpcode.OpenDir => OpenDir(ref call),
        FuseOpcode.ReadDir => ReadDir(ref call, plus: false),
        FuseOpcode.ReadDirPlus => ReadDir(ref call, plus: true),
        FuseOpcode.ReleaseDir => ReleaseDir(ref call),
        FuseOpcode.FsyncDir => FsyncDir(ref call),
        FuseOpcode.StatFs => StatFs(ref call),
        FuseOpcode.Access => Access(ref call),
        FuseOpcode.GetXattr => GetXattr(ref call),
        FuseOpcode.ListXattr => ListXattr(ref call),
        FuseOpcode.SetXattr => SetXattr(ref call),
        FuseOpcode.RemoveXattr => RemoveXattr(ref call),
        FuseOpcode.GetLk => GetLk(ref call),
        FuseOpcode.SetLk => SetLk(ref call, wait: false),
        FuseOpcode.SetLkw => SetLk(ref call, wait: true),
        FuseOpcode.CopyFileRange => CopyFileRange(ref call),
        FuseOpcode.SyncFs => SyncFs(ref call),
        FuseOpcode.TmpFile => TmpFile(ref call),
        // IOCTL and POLL: ENOSYS, as both virtiofsd answer (the guest then stops sending POLL and fails the ioctl with
        // ENOTTY); BMAP (block devices only), DAX mappings (never negotiated), STATX and anything unknown: ENOSYS.
        _ => call.Error(FuseErrno.ENOSYS),
    };

    /// <summary>
    /// Finds FUSE_EXT_GROUPS among the request extensions (fuse_ext_header records after the arguments). Who might
    /// lie: the guest writes every size; a record that does not fit, or a group list other than exactly one group
    /// (all the kernel ever sends), is ignored, so the request runs with the caller's own gid only.
    /// </summary>
    private static void ReadSupplementaryGroup(ref FuseCall call, ulong offset, ulong length)
    {
        ulong end = offset + length;
        while (end - offset >= 8)
        {
            if (!SegmentIo.TryRead(call.Request, offset, out ulong record)) return;
            uint size = unchecked((uint)record);
            uint type = (uint)(record >> 32);
            if (size < 8 || size % 8 != 0 || size > end - offset) return;
            if (type == FuseConstants.ExtGroups && size >= 16 &&
                SegmentIo.TryRead(call.Request, offset + 8, out ulong groups) && unchecked((uint)groups) == 1)
            {
                call.SupplementaryGroup = (uint)(groups >> 32);
                call.HasSupplementaryGroup = true;
                return;
            }
            offset += size;
        }
    }

    /// <summary>Answers with <paramref name="errno"/> when non-zero, else runs the success reply.</summary>
    private static int Result(ref FuseCall call, int errno) => errno == 0 ? call.Ok() : call.Error(errno);
}
