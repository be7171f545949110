using VirtioFs.Backend.Fuse.Abi;

namespace VirtioFs.Backend.Fuse;

// INIT, DESTROY and the requests that get no reply.
public sealed partial class FuseServer
{
    /// <summary>Capabilities always offered (virtiofsd's set, minus those we do not implement).</summary>
    internal const FuseInitFlags AlwaysOffered =
        FuseInitFlags.AsyncRead | FuseInitFlags.ParallelDirops | FuseInitFlags.BigWrites | FuseInitFlags.AutoInvalData |
        FuseInitFlags.AsyncDio | FuseInitFlags.HasIoctlDir | FuseInitFlags.AtomicOTrunc | FuseInitFlags.MaxPages |
        FuseInitFlags.InitExt | FuseInitFlags.CreateSuppGroup;

    /// <summary>Optional capabilities a file system may ask for in <see cref="IFileSystem.Init"/>.</summary>
    internal const FuseInitFlags FileSystemOptional =
        FuseInitFlags.DoReaddirplus | FuseInitFlags.ReaddirplusAuto | FuseInitFlags.WritebackCache |
        FuseInitFlags.PosixLocks | FuseInitFlags.FlockLocks | FuseInitFlags.HandleKillprivV2 | FuseInitFlags.Submounts |
        FuseInitFlags.DirectIoAllowMmap;

    private unsafe int Init(ref FuseCall call)
    {
        // Kernels before 7.36 send 16 bytes (no flags2); accept anything from 16 to the full struct.
        if (call.Args.Length < 16) return call.Reject(FuseErrno.EINVAL, FuseRejection.TruncatedArguments);
        FuseInitIn init = default;
        call.Args[..Math.Min(call.Args.Length, sizeof(FuseInitIn))].CopyTo(new Span<byte>(&init, sizeof(FuseInitIn)));

        if (init.Major < FuseConstants.KernelVersion) return call.Reject(FuseErrno.EPROTO, FuseRejection.OldProtocol);
        if (init.Major > FuseConstants.KernelVersion)
        {
            // A newer major: tell the kernel ours, it retries INIT with it.
            return call.Ok(new FuseInitOut { Major = FuseConstants.KernelVersion, Minor = FuseConstants.KernelMinorVersion });
        }
        if (init.Minor < FuseConstants.MinKernelMinorVersion) return call.Reject(FuseErrno.EPROTO, FuseRejection.OldProtocol);

        var capable = (FuseInitFlags)init.Flags;
        if ((capable & FuseInitFlags.InitExt) != 0 && call.Args.Length >= 20) capable |= (FuseInitFlags)((ulong)init.Flags2 << 32);

        FuseInitFlags negotiated;
        lock (_initGate)
        {
            // INIT wipes earlier state: DESTROY may never have come (guest reboot, crashed driver).
            _initialized = false;
            _lockWaiter.CancelAll();
            _fs.Destroy();
            FuseInitFlags wanted = _fs.Init(capable) & FileSystemOptional;
            negotiated = (AlwaysOffered | wanted) & capable;
            _negotiated = negotiated;
            _guestMinor = init.Minor;
            _initialized = true;
        }

        var reply = new FuseInitOut
        {
            Major = FuseConstants.KernelVersion,
            Minor = FuseConstants.KernelMinorVersion,
            MaxReadahead = init.MaxReadahead,
            Flags = unchecked((uint)negotiated),
            Flags2 = (negotiated & FuseInitFlags.InitExt) != 0 ? (uint)((ulong)negotiated >> 32) : 0,
            MaxBackground = Options.MaxBackground,
            CongestionThreshold = Options.CongestionThreshold,
            MaxWrite = Options.MaxWrite,
            TimeGran = Options.TimeGran,
            MaxPages = Options.MaxPages,
        };
        return call.Ok(reply);
    }

    private int Destroy(ref FuseCall call)
    {
        lock (_initGate)
        {
            _initialized = false;
            _lockWaiter.CancelAll();
            _fs.Destroy();
        }
        return call.Ok();
    }

    private void HandleNoReply(ref FuseCall call, FuseOpcode opcode, ulong argsLength)
    {
        switch (opcode)
        {
            case FuseOpcode.Forget:
                if (argsLength < 8 || !SegmentIo.TryRead(call.Request, FuseConstants.InHeaderSize, out FuseForgetIn forget))
                {
                    call.Worker.LastError = FuseErrno.EINVAL;
                    call.Log?.Rejected(call.Header.Opcode, call.Header.Unique, FuseRejection.ForgetTruncated);
                    return;
                }
                _fs.Forget(call.NodeId, forget.Nlookup);
                break;
            case FuseOpcode.BatchForget:
                if (argsLength < 8 || !SegmentIo.TryRead(call.Request, FuseConstants.InHeaderSize, out FuseBatchForgetIn batch))
                {
                    call.Worker.LastError = FuseErrno.EINVAL;
                    call.Log?.Rejected(call.Header.Opcode, call.Header.Unique, FuseRejection.BatchForgetTruncated);
                    return;
                }
                // Who might lie: the guest's count; only entries whose bytes are present are processed.
                ulong present = (argsLength - 8) / 16;
                ulong count = Math.Min(batch.Count, present);
                ulong offset = FuseConstants.InHeaderSize + 8;
                for (ulong i = 0; i < count; i++, offset += 16)
                {
                    if (!SegmentIo.TryRead(call.Request, offset, out FuseForgetOne one)) break;
                    _fs.Forget(one.NodeId, one.Nlookup);
                }
                if (batch.Count > present)
                {
                    call.Worker.LastError = FuseErrno.EINVAL;
                    call.Log?.Rejected(call.Header.Opcode, call.Header.Unique, FuseRejection.BatchForgetTruncated);
                }
                break;
            case FuseOpcode.Interrupt:
                // Only a parked SETLKW can be interrupted (every other request is answered before the next is read):
                // it is answered EINTR. The INTERRUPT itself gets no reply.
                if (argsLength >= 8 && SegmentIo.TryRead(call.Request, FuseConstants.InHeaderSize, out FuseInterruptIn interrupt))
                {
                    _lockWaiter.Cancel(interrupt.Unique);
                }
                else
                {
                    call.Worker.LastError = FuseErrno.EINVAL;
                    call.Log?.Rejected(call.Header.Opcode, call.Header.Unique, FuseRejection.InterruptTruncated);
                }
                break;
            case FuseOpcode.NotifyReply:
                // We never send FUSE_NOTIFY_RETRIEVE, so there is nothing to match it with: dropped, as virtiofsd does.
                break;
        }
    }
}
