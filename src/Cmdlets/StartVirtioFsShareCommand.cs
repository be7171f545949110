using System.Management.Automation;
using VirtioFs.Backend.Interop;
using VirtioFs.Backend.Passthrough;
using VirtioFs.Backend.Share;
using VirtioFs.Backend.VhostUser;

namespace VirtioFs.Cmdlets;

/// <summary>
/// Start-VirtioFsShare: shares a host directory over a vhost-user socket and returns the share (a job) once the socket
/// listens. Binds, checks, asks ShouldProcess, registers; the share itself is <see cref="ShareHost"/>.
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "VirtioFsShare", SupportsShouldProcess = true)]
[OutputType(typeof(VirtioFsShare))]
public sealed class StartVirtioFsShareCommand : PSCmdlet
{
    /// <summary>The host directory to share. Accepts Get-Item output through its FullName.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>The mount tag the guest uses: mount -t virtiofs TAG /mnt. 1 to 36 UTF-8 bytes.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    public string Tag { get; set; } = "";

    /// <summary>The share's name in this session. Default: the tag.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    /// <summary>The socket to listen on. Default: $env:XDG_RUNTIME_DIR/virtiofs/NAME.sock, else /run/virtiofs/NAME.sock.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SocketPath { get; set; }

    /// <summary>virtiofsd --cache. Default Auto.</summary>
    [Parameter]
    public CachePolicy Cache { get; set; } = CachePolicy.Auto;

    /// <summary>virtiofsd --xattr.</summary>
    [Parameter]
    public SwitchParameter Xattr { get; set; }

    /// <summary>virtiofsd --readonly.</summary>
    [Parameter]
    public SwitchParameter ReadOnly { get; set; }

    /// <summary>virtiofsd --writeback.</summary>
    [Parameter]
    public SwitchParameter Writeback { get; set; }

    /// <summary>virtiofsd --no-readdirplus.</summary>
    [Parameter]
    public SwitchParameter NoReaddirPlus { get; set; }

    /// <summary>Request queues served, each on its own thread. Default 1.</summary>
    [Parameter]
    [ValidateRange(1, 255)]
    public int RequestQueues { get; set; } = 1;

    /// <summary>The largest virtqueue size accepted from the front-end, a power of two. Default 32768.</summary>
    [Parameter]
    [ValidateRange(1, 32768)]
    public int QueueSize { get; set; } = 32768;

    /// <summary>virtiofsd --tag: answer GET_CONFIG with the tag. Off by default: QEMU 7.1 to 8.0 crash on it.</summary>
    [Parameter]
    public SwitchParameter AdvertiseTag { get; set; }

    /// <summary>Worker threads per request queue (virtiofsd --thread-pool-size). Default 0: the queue's own thread serves.</summary>
    [Parameter]
    [ValidateRange(0, 1024)]
    public int ThreadPoolSize { get; set; }

    /// <summary>Remote POSIX record locks (the C virtiofsd's -o posix_lock). Off by default: lock requests answer ENOSYS.</summary>
    [Parameter]
    public SwitchParameter PosixLock { get; set; }

    /// <summary>Remote BSD flock (the C virtiofsd's -o flock). Off by default.</summary>
    [Parameter]
    public SwitchParameter Flock { get; set; }

    /// <summary>xattr name mapping rules in virtiofsd's --xattrmap syntax; needs -Xattr.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ValidateXattrMap]
    public string? XattrMap { get; set; }

    /// <summary>Do not flag host mounts inside the share as submounts (virtiofsd --no-announce-submounts).</summary>
    [Parameter]
    public SwitchParameter NoAnnounceSubmounts { get; set; }

    /// <summary>FUSE_HANDLE_KILLPRIV_V2 (virtiofsd --killpriv-v2): the share clears set-id bits and capabilities on write.</summary>
    [Parameter]
    public SwitchParameter KillprivV2 { get; set; }

    /// <summary>Honour the guest's O_DIRECT (virtiofsd --allow-direct-io). Off by default: O_DIRECT is stripped.</summary>
    [Parameter]
    public SwitchParameter AllowDirectIo { get; set; }

    /// <summary>
    /// Entry and attribute timeout in seconds (the C virtiofsd's -o timeout=), fractions allowed. Default: from -Cache
    /// (Never 0, Metadata 86400, Auto 1, Always 86400).
    /// </summary>
    [Parameter]
    [ValidateRange(0.0, 4294967295.0)]
    public double Timeout { get; set; }

    /// <summary>
    /// RLIMIT_NOFILE to raise the process to (virtiofsd --rlimit-nofile); never lowered, 0 leaves it alone. Default:
    /// min(1,000,000, fs.nr_open).
    /// </summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int RlimitNofile { get; set; }

    /// <summary>
    /// How inodes are held (virtiofsd --inode-file-handles): Prefer (default) keeps a file handle per inode where the
    /// file system supports it, so a huge tree costs no descriptors; Never holds an O_PATH descriptor per inode;
    /// Mandatory refuses to start without file handles.
    /// </summary>
    [Parameter]
    public InodeFileHandles InodeFileHandles { get; set; } = InodeFileHandles.Prefer;

    /// <summary>End the share when the front-end disconnects, instead of waiting for the next one.</summary>
    [Parameter]
    public SwitchParameter StopOnDisconnect { get; set; }

    /// <summary>What of the share's log reaches the job's streams. Default Info.</summary>
    [Parameter]
    public ShareLogLevel LogLevel { get; set; } = ShareLogLevel.Info;

    protected override void BeginProcessing()
    {
        try
        {
            ShareOptions.ValidateTag(Tag);
        }
        catch (ArgumentException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, ErrorIds.InvalidTag, ErrorCategory.InvalidArgument, Tag)
            {
                ErrorDetails = new ErrorDetails(string.Format(Strings.InvalidTag, e.Message)),
            });
        }
        if (XattrMap is not null && !Xattr)
        {
            // Without -Xattr every xattr request answers ENOSYS, so the rules would silently never apply.
            ThrowTerminatingError(new ErrorRecord(
                new ArgumentException(Strings.XattrMapNeedsXattr, nameof(XattrMap)),
                ErrorIds.InvalidShareOption, ErrorCategory.InvalidArgument, XattrMap));
        }
        if (Name is not null)
        {
            try
            {
                ShareRegistry<VirtioFsShare>.ValidateName(Name);
            }
            catch (ArgumentException e)
            {
                ThrowTerminatingError(new ErrorRecord(e, ErrorIds.InvalidShareName, ErrorCategory.InvalidArgument, Name));
            }
        }
    }

    protected override void ProcessRecord()
    {
        string directory = GetUnresolvedProviderPathFromPSPath(Path);
        if (!Directory.Exists(directory))
        {
            WriteError(new ErrorRecord(
                new ItemNotFoundException(string.Format(Strings.SharedDirectoryNotFound, directory)),
                ErrorIds.SharedDirectoryNotFound, ErrorCategory.ObjectNotFound, directory));
            return;
        }
        string name = Name ?? Tag;
        string socket;
        try
        {
            socket = SocketPath is null
                ? ShareRegistry<VirtioFsShare>.DefaultSocketPath(name, Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR"))
                : GetUnresolvedProviderPathFromPSPath(SocketPath);
        }
        catch (ArgumentException e)
        {
            // The tag is a valid tag but not a valid file name (it contains '/'): ask for a name.
            WriteError(new ErrorRecord(e, ErrorIds.InvalidShareName, ErrorCategory.InvalidArgument, name));
            return;
        }

        var options = new ShareOptions
        {
            SharedDirectory = directory,
            SocketPath = socket,
            Name = name,
            Tag = Tag,
            AdvertiseConfig = AdvertiseTag,
            RequestQueues = RequestQueues,
            MaxQueueSize = (ushort)QueueSize,
            Cache = Cache,
            ReadOnly = ReadOnly,
            Xattr = Xattr,
            ReaddirPlus = !NoReaddirPlus,
            Writeback = Writeback,
            ThreadPoolSize = ThreadPoolSize,
            PosixLocks = PosixLock,
            Flock = Flock,
            XattrMap = XattrMap,
            AnnounceSubmounts = !NoAnnounceSubmounts,
            KillprivV2 = KillprivV2,
            AllowDirectIo = AllowDirectIo,
            // Not given means "from the cache policy" (null), which no number can say.
            Timeout = MyInvocation.BoundParameters.ContainsKey(nameof(Timeout)) ? Timeout : null,
            RlimitNofile = MyInvocation.BoundParameters.ContainsKey(nameof(RlimitNofile)) ? (ulong)RlimitNofile : null,
            InodeFileHandles = InodeFileHandles,
            Relisten = !StopOnDisconnect,
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            WriteError(new ErrorRecord(e, ErrorIds.InvalidShareOption, ErrorCategory.InvalidArgument, options));
            return;
        }

        if (!ShouldProcess(directory, string.Format(Strings.StartAction, socket, Tag))) return;

        // The job's Command: what would start this share again.
        string command = $"Start-VirtioFsShare -Path '{directory.Replace("'", "''")}' -Tag '{Tag.Replace("'", "''")}' -Name '{name.Replace("'", "''")}'";
        var share = new VirtioFsShare(options, LogLevel, command);
        if (!Register(share)) return;
        try
        {
            share.StartJob();
        }
        catch (Exception e)
        {
            ShareSession.Registry.Remove(share);
            share.Dispose();
            WriteError(StartFailure(e, name, socket, directory));
            return;
        }
        JobManager.NewJob(new JobInvocationInfo(
            new JobDefinition(typeof(VirtioFsJobSourceAdapter), share.Command, name),
            new Dictionary<string, object> { [VirtioFsJobSourceAdapter.ShareParameter] = share }));
        WriteObject(share);
    }

    /// <summary>Takes the name, tag and socket in the registry, or says who has them.</summary>
    private bool Register(VirtioFsShare share)
    {
        ShareRegistry<VirtioFsShare>.Conflict conflict = ShareSession.Registry.TryAdd(share, out VirtioFsShare? holder);
        string socket = share.Options.SocketPath!;
        ErrorRecord? error = conflict switch
        {
            ShareRegistry<VirtioFsShare>.Conflict.None when ShareRegistry<VirtioFsShare>.IsSocketListening(socket)
                => InUse(ErrorIds.SocketPathInUse, string.Format(Strings.SocketPathInUse, socket), socket),
            ShareRegistry<VirtioFsShare>.Conflict.None => null,
            ShareRegistry<VirtioFsShare>.Conflict.Name => InUse(ErrorIds.ShareNameInUse, string.Format(Strings.ShareNameInUse, share.Name), share.Name),
            ShareRegistry<VirtioFsShare>.Conflict.Tag => InUse(ErrorIds.ShareTagInUse, string.Format(Strings.ShareTagInUse, share.Tag, holder!.Name), share.Tag),
            _ => InUse(ErrorIds.SocketPathInUse, string.Format(Strings.SocketPathInUseBySession, socket, holder!.Name), socket),
        };
        if (error is null) return true;
        if (conflict == ShareRegistry<VirtioFsShare>.Conflict.None) ShareSession.Registry.Remove(share);
        share.Dispose();
        WriteError(error);
        return false;
    }

    private static ErrorRecord InUse(string errorId, string message, object target)
        => new(new InvalidOperationException(message), errorId, ErrorCategory.ResourceExists, target);

    /// <summary>Maps what ShareHost.Start throws to an error record a script can act on.</summary>
    private static ErrorRecord StartFailure(Exception e, string name, string socket, string directory) => e switch
    {
        DirectoryNotFoundException
            => new ErrorRecord(new ItemNotFoundException(string.Format(Strings.SharedDirectoryNotFound, directory), e), ErrorIds.SharedDirectoryNotFound, ErrorCategory.ObjectNotFound, directory),
        ErrnoException { Errno: Errno.EACCES or Errno.EPERM or Errno.EROFS } or UnauthorizedAccessException
            => new ErrorRecord(new UnauthorizedAccessException(string.Format(Strings.SocketAccessDenied, socket, e.Message), e), ErrorIds.SocketAccessDenied, ErrorCategory.PermissionDenied, socket),
        ErrnoException { Errno: Errno.EADDRINUSE }
            => new ErrorRecord(new IOException(string.Format(Strings.SocketPathInUse, socket), e), ErrorIds.SocketPathInUse, ErrorCategory.ResourceExists, socket),
        // The back-end's own exception (with its SocketPath) stays the record's Exception; the details say it in
        // the cmdlet's terms (-SocketPath).
        SocketPathInUseException inUse
            => new ErrorRecord(inUse, ErrorIds.SocketPathInUse, ErrorCategory.ResourceExists, inUse.SocketPath)
            {
                ErrorDetails = new ErrorDetails(string.Format(Strings.SocketPathInUse, inUse.SocketPath)),
            },
        SocketPathNotASocketException notASocket
            => new ErrorRecord(notASocket, ErrorIds.SocketPathInUse, ErrorCategory.ResourceExists, notASocket.SocketPath)
            {
                ErrorDetails = new ErrorDetails(string.Format(Strings.SocketPathNotASocket, notASocket.SocketPath)),
            },
        ArgumentException
            => new ErrorRecord(e, ErrorIds.InvalidShareOption, ErrorCategory.InvalidArgument, name),
        _ => new ErrorRecord(new InvalidOperationException(string.Format(Strings.ShareStartFailed, name, e.Message), e), ErrorIds.ShareStartFailed, ErrorCategory.OpenError, name),
    };
}
