using VirtioFs.Backend.Fuse;
using VirtioFs.Backend.Interop;
using VirtioFs.Backend.Passthrough;
using VirtioFs.Backend.VhostUser;

namespace VirtioFs.Backend.Share;

/// <summary>
/// One running share: the listening socket, the connection thread that speaks vhost-user with one front-end at a
/// time, a worker thread per started queue, the FUSE server and the passthrough file system, and live statistics.
/// Start returns once the socket listens; Stop (idempotent, any thread) closes the socket, every fd and every mapping.
/// </summary>
public sealed class ShareHost : IDisposable, IRingWorkerFactory
{
    private readonly ShareLog _log;
    private readonly QueueStatistics[] _statistics;
    private readonly object _stateLock = new();
    private readonly ManualResetEventSlim _stopped = new(false);
    private VhostUserListener? _listener;
    private VhostUserConnection? _connection;
    private PassthroughFileSystem? _fileSystem;
    private FuseServer? _server;
    private Thread? _thread;
    private int _stopRequested;
    private long _internalErrorsAtStop;
    private Exception? _lastInternalErrorAtStop;

    public ShareHost(ShareOptions options, ShareLog? log = null)
    {
        Options = options;
        _log = log ?? ShareLog.Null;
        _statistics = new QueueStatistics[1 + options.RequestQueues];
        for (int i = 0; i < _statistics.Length; i++) _statistics[i] = new QueueStatistics(i);
    }

    public ShareOptions Options { get; }

    public string Name => Options.DisplayName;

    public ShareState State { get; private set; } = ShareState.NotStarted;

    /// <summary>The error that stopped the share, when <see cref="State"/> is Failed.</summary>
    public Exception? Failure { get; private set; }

    /// <summary>The socket path we listen on (null when listening on an inherited fd).</summary>
    public string? SocketPath => _listener?.SocketPath ?? Options.SocketPath;

    public DateTimeOffset? StartTime { get; private set; }

    /// <summary>The connected front-end ("pid 1234 (qemu-system-x86), uid 0"), or null.</summary>
    public string? Frontend { get; private set; }

    /// <summary>Front-ends served since the start.</summary>
    public int ConnectionCount { get; private set; }

    /// <summary>
    /// Requests that hit a bug in the FUSE server or the file system (answered EIO, never the guest's fault). Should
    /// stay 0; hostile-guest tests and the fuzzer assert it. Survives Stop, so it can be read afterwards.
    /// </summary>
    public long InternalErrors => _server?.InternalErrors ?? _internalErrorsAtStop;

    /// <summary>The exception behind the last internal error, for diagnostics (null if none).</summary>
    public Exception? LastInternalError => _server?.LastInternalError ?? _lastInternalErrorAtStop;

    public event EventHandler<ShareState>? StateChanged;

    /// <summary>
    /// A front-end's connection ended with an error: a <see cref="VhostUserProtocolException"/> (it broke the protocol)
    /// or an <see cref="ErrnoException"/> (a system call on the connection failed). Raised on the connection thread,
    /// before the error line is logged; the share then waits for the next front-end. A handler that throws is logged
    /// as a warning, never thrown into the connection thread.
    /// </summary>
    public event EventHandler<Exception>? ConnectionFailed;

    /// <summary>Validates the options, opens the directory, listens, and starts the connection thread.</summary>
    public void Start()
    {
        lock (_stateLock)
        {
            if (State != ShareState.NotStarted) throw new InvalidOperationException($"Share '{Name}' was already started.");
            Options.Validate();
            try
            {
                _fileSystem = new PassthroughFileSystem(ToPassthroughOptions(Options));
                _server = new FuseServer(_fileSystem, new FuseServerOptions(), FuseLogOf(_log, Name));
                _listener = Options.SocketPath is not null
                    ? VhostUserListener.Create(Options.SocketPath)
                    : VhostUserListener.FromFd(Options.ListenFd!.Value);
            }
            catch
            {
                ReleaseResources();
                throw;
            }
            StartTime = DateTimeOffset.Now;
            _thread = new Thread(ServeConnections) { IsBackground = true, Name = $"virtiofs {Name} vhost-user" };
            SetState(ShareState.Listening);
            _thread.Start();
        }
        _log.Info($"share '{Name}': serving '{Options.SharedDirectory}' on {SocketPath ?? $"fd {Options.ListenFd}"}");
    }

    /// <summary>Refused FUSE requests go to the rate-limited guest log, internal errors to the error log.</summary>
    private static FuseLog FuseLogOf(ShareLog log, string name) => new(
        (opcode, unique, reason) => log.GuestError((name, opcode, unique, reason),
            static s => $"share '{s.name}': refused {FuseOpcodeNames.Of(s.opcode)} request (unique {s.unique}): {s.reason}"),
        (opcode, exception) => log.Error($"share '{name}': internal error in {FuseOpcodeNames.Of(opcode)}, answered EIO: {exception}"));

    internal static PassthroughOptions ToPassthroughOptions(ShareOptions o) => new()
    {
        SharedDirectory = o.SharedDirectory,
        Cache = o.Cache,
        ReadOnly = o.ReadOnly,
        Xattr = o.Xattr,
        ReaddirPlus = o.ReaddirPlus,
        Writeback = o.Writeback,
        Timeout = o.Timeout,
        PosixLocks = o.PosixLocks,
        Flock = o.Flock,
        AnnounceSubmounts = o.AnnounceSubmounts,
        KillprivV2 = o.KillprivV2,
        AllowDirectIo = o.AllowDirectIo,
        XattrMap = o.XattrMap,
        RlimitNofile = o.RlimitNofile,
        InodeFileHandles = o.InodeFileHandles,
    };

    private void ServeConnections()
    {
        var message = new VhostUserMessage();
        try
        {
            while (Volatile.Read(ref _stopRequested) == 0)
            {
                VhostUserConnection? connection = _listener!.Accept();
                if (connection is null) break;
                ServeOne(connection, message);
                if (!Options.Relisten) break;
            }
        }
        catch (Exception e)
        {
            Failure = e;
            _log.Error($"share '{Name}': stopped: {e.Message}");
        }
        finally
        {
            ReleaseResources();
            SetState(Failure is null ? ShareState.Stopped : ShareState.Failed);
            _stopped.Set();
        }
    }

    private void ServeOne(VhostUserConnection connection, VhostUserMessage message)
    {
        lock (_stateLock) _connection = connection;
        if (Volatile.Read(ref _stopRequested) != 0) connection.Shutdown();
        Frontend = connection.DescribePeer();
        ConnectionCount++;
        SetState(ShareState.Connected);
        _log.Info($"share '{Name}': front-end connected: {Frontend}");
        var device = new VhostUserDevice(
            new VhostUserDeviceOptions
            {
                RequestQueues = Options.RequestQueues,
                MaxQueueSize = Options.MaxQueueSize,
                ConfigTag = Options.AdvertiseConfig ? Options.Tag : null,
            },
            this,
            _log);
        try
        {
            while (connection.TryReceive(message))
            {
                device.Handle(message, connection);
                message.CloseUntakenFds();
            }
            _log.Info($"share '{Name}': front-end disconnected");
        }
        catch (VhostUserProtocolException e)
        {
            OnConnectionFailed(e);
            _log.Error($"share '{Name}': vhost-user protocol violation, connection closed: {e.Message}");
        }
        catch (ErrnoException e) when (Volatile.Read(ref _stopRequested) == 0)
        {
            OnConnectionFailed(e);
            _log.Error($"share '{Name}': connection failed and was closed: {e.Message}");
        }
        finally
        {
            message.CloseUntakenFds();
            device.Dispose();   // stops the queue threads, resets FUSE state, unmaps guest memory
            lock (_stateLock) _connection = null;
            connection.Dispose();
            Frontend = null;
            if (Volatile.Read(ref _stopRequested) == 0) SetState(ShareState.Listening);
        }
    }

    private void OnConnectionFailed(Exception e)
    {
        try
        {
            ConnectionFailed?.Invoke(this, e);
        }
        catch (Exception handlerError)
        {
            _log.Warning($"share '{Name}': a connection-failure handler failed: {handlerError.Message}");
        }
    }

    IRingWorker IRingWorkerFactory.Start(Vring ring, VhostUserDevice device)
        => new QueueWorker(Name, ring, device, _server!, _statistics[ring.Index], _log, Options.ThreadPoolSize);

    void IRingWorkerFactory.ResetDeviceState() => _server?.Reset();

    /// <summary>Stops the share and waits until every thread has ended and every resource is released.</summary>
    public void Stop()
    {
        Thread? thread;
        lock (_stateLock)
        {
            if (State is ShareState.NotStarted or ShareState.Stopped or ShareState.Failed)
            {
                if (State == ShareState.NotStarted) SetState(ShareState.Stopped);
                return;
            }
            if (Interlocked.Exchange(ref _stopRequested, 1) == 0) SetState(ShareState.Stopping);
            _listener?.Shutdown();
            _connection?.Shutdown();
            thread = _thread;
        }
        if (thread is not null && thread != Thread.CurrentThread) thread.Join();
    }

    /// <summary>Waits until the share has stopped; false on timeout.</summary>
    public bool Wait(TimeSpan timeout) => State == ShareState.NotStarted || _stopped.Wait(timeout);

    /// <summary>Inodes the guest knows right now, the root included (0 before the share starts); for tests.</summary>
    internal int InodeCount => _fileSystem?.InodeCount ?? 0;

    /// <summary>The live counters of each queue (hiprio first), for measurements that need more than a snapshot.</summary>
    internal IReadOnlyList<QueueStatistics> LiveStatistics => _statistics;

    public IReadOnlyList<QueueStatisticsSnapshot> GetQueueStatistics()
    {
        var result = new QueueStatisticsSnapshot[_statistics.Length];
        for (int i = 0; i < result.Length; i++) result[i] = _statistics[i].Snapshot(FuseOpcodeNames.Of);
        return result;
    }

    private void ReleaseResources()
    {
        _listener?.Dispose();
        _listener = null;
        _fileSystem?.Dispose();
        _fileSystem = null;
        if (_server is not null)
        {
            _internalErrorsAtStop = _server.InternalErrors;
            _lastInternalErrorAtStop = _server.LastInternalError;
        }
        _server = null;
    }

    private void SetState(ShareState state)
    {
        State = state;
        try
        {
            StateChanged?.Invoke(this, state);
        }
        catch (Exception e)
        {
            _log.Warning($"share '{Name}': a state-change handler failed: {e.Message}");
        }
    }

    public void Dispose()
    {
        Stop();
        _stopped.Dispose();
    }
}
