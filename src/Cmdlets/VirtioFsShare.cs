using System.ComponentModel;
using System.Management.Automation;
using VirtioFs.Backend.Share;
using VirtioFs.Backend.VhostUser;

namespace VirtioFs.Cmdlets;

/// <summary>
/// A running share as a PowerShell job (PSJobTypeName "VirtioFsShare"), so Get-Job, Wait-Job, Receive-Job, Stop-Job
/// and Remove-Job work on it as on a ThreadJob. The work runs on the share's own threads (the vhost-user connection
/// thread and one thread per queue, all in <see cref="ShareHost"/>); the job is the PowerShell face of those threads:
/// its state follows the share's, and the share's log lands in the job's streams (errors in Error, warnings in Warning,
/// info lines in Information, debug lines in Debug), which Receive-Job returns.
/// <para>
/// Job states: NotStarted → Running (listening or connected) → Stopping → Stopped (stopped on request), Completed
/// (the front-end left and the share was told not to wait for another, -StopOnDisconnect) or Failed (an error stopped
/// it; the ErrorRecord is in Error). PowerShellStandard has no SetJobState(state, reason): the reason goes to Error
/// before the state changes, which is where Receive-Job shows it anyway.
/// </para>
/// </summary>
public sealed class VirtioFsShare : Job2
{
    public const string JobTypeName = "VirtioFsShare";

    private readonly object _jobLock = new();
    private int _stopRequested;
    private bool _disposed;

    // The managed id of the thread that just reported a failed connection through ShareHost.ConnectionFailed, 0 when
    // none: the share logs the same failure next, on that same thread, and that Error line must not become a second
    // record. Keyed by thread rather than by the line's wording, so a reworded log line cannot break it.
    private int _reportedFailureThread;

    internal VirtioFsShare(ShareOptions options, ShareLogLevel logLevel, string command)
        : base(command, options.DisplayName)
    {
        PSJobTypeName = JobTypeName;
        Options = options;
        // Receive-Job must not block on a running share: it reads what is there and returns.
        Output.EnumeratorNeverBlocks = true;
        Error.EnumeratorNeverBlocks = true;
        Warning.EnumeratorNeverBlocks = true;
        Information.EnumeratorNeverBlocks = true;
        Verbose.EnumeratorNeverBlocks = true;
        Debug.EnumeratorNeverBlocks = true;
        Progress.EnumeratorNeverBlocks = true;
        Host = new ShareHost(options, new ShareLog(WriteLog, logLevel));
        Host.StateChanged += OnShareStateChanged;
        Host.ConnectionFailed += OnConnectionFailed;
    }

    /// <summary>The mount tag (the guest runs mount -t virtiofs TAG /mnt).</summary>
    public string Tag => Options.Tag ?? "";

    /// <summary>The shared host directory.</summary>
    public string Path => Options.SharedDirectory;

    /// <summary>The vhost-user socket QEMU connects to.</summary>
    public string? SocketPath => Host.SocketPath;

    /// <summary>The share's own state (Listening, Connected, Stopping, Stopped, Failed); the job state summarizes it.</summary>
    public ShareState ShareState => Host.State;

    /// <summary>The connected front-end ("pid 1234 (qemu-system-x86), uid 0"), or null.</summary>
    public string? Frontend => Host.Frontend;

    /// <summary>Front-ends served since the start.</summary>
    public int ConnectionCount => Host.ConnectionCount;

    public DateTimeOffset? StartTime => Host.StartTime;

    /// <summary>Every option the share was started with (cache policy, queues, read-only, ...).</summary>
    public ShareOptions Options { get; }

    /// <summary>
    /// The options in one line, virtiofsd's -o names: cache policy and queues always, the rest when not the default
    /// ("cache=auto, queues=1, xattr, posix_lock"). Format-List shows it; Options holds every value.
    /// </summary>
    public string OptionSummary => ShareOptionsSummary.Describe(Options);

    /// <summary>The error that stopped the share, when ShareState is Failed.</summary>
    public Exception? Failure => Host.Failure;

    internal ShareHost Host { get; }

    /// <summary>One snapshot per queue (hiprio first). Counters may be one request behind a queue thread.</summary>
    public IReadOnlyList<QueueStatisticsSnapshot> GetQueueStatistics() => Host.GetQueueStatistics();

    public override bool HasMoreData
        => Output.Count > 0 || Error.Count > 0 || Warning.Count > 0 || Information.Count > 0 || Verbose.Count > 0 || Debug.Count > 0;

    public override string Location => SocketPath ?? "";

    public override string StatusMessage => Frontend is null ? ShareState.ToString() : $"{ShareState}: {Frontend}";

    /// <summary>Listens on the socket; returns once it listens (the cmdlet then hands the job to the JobManager).</summary>
    public override void StartJob()
    {
        if (JobStateInfo.State != JobState.NotStarted || Host.State != ShareState.NotStarted)
            throw new InvalidOperationException(Strings.ShareNotStartable);
        Host.Start();
    }

    public override void StartJobAsync()
    {
        ThreadPool.QueueUserWorkItem(_ =>
        {
            Exception? error = null;
            try { StartJob(); } catch (Exception e) { error = e; }
            OnStartJobCompleted(new AsyncCompletedEventArgs(error, false, null));
        });
    }

    /// <summary>Stops the share: closes the socket and the connection, joins every thread, releases fds and mappings.</summary>
    public override void StopJob()
    {
        Interlocked.Exchange(ref _stopRequested, 1);
        Host.Stop();
        // A share that was never started has no thread to report the end: report it here.
        lock (_jobLock)
        {
            if (!_disposed && JobStateInfo.State == JobState.NotStarted) SetJobState(JobState.Stopped);
        }
    }

    public override void StopJob(bool force, string reason) => StopJob();

    /// <summary>Stop-Job and Remove-Job -Force call this and wait for StopJobCompleted.</summary>
    public override void StopJobAsync()
    {
        ThreadPool.QueueUserWorkItem(_ =>
        {
            Exception? error = null;
            try { StopJob(); } catch (Exception e) { error = e; }
            OnStopJobCompleted(new AsyncCompletedEventArgs(error, false, null));
        });
    }

    public override void StopJobAsync(bool force, string reason) => StopJobAsync();

    public override void SuspendJob() => throw new NotSupportedException(Strings.ShareCannotSuspend);
    public override void SuspendJob(bool force, string reason) => throw new NotSupportedException(Strings.ShareCannotSuspend);
    public override void SuspendJobAsync() => throw new NotSupportedException(Strings.ShareCannotSuspend);
    public override void SuspendJobAsync(bool force, string reason) => throw new NotSupportedException(Strings.ShareCannotSuspend);
    public override void ResumeJob() => throw new NotSupportedException(Strings.ShareCannotSuspend);
    public override void ResumeJobAsync() => throw new NotSupportedException(Strings.ShareCannotSuspend);
    public override void UnblockJob() => throw new NotSupportedException(Strings.ShareCannotSuspend);
    public override void UnblockJobAsync() => throw new NotSupportedException(Strings.ShareCannotSuspend);

    private void OnShareStateChanged(object? sender, ShareState state)
    {
        // The connection thread leaves its catch block and reports Listening (or Stopped): whatever it reported is
        // logged by now, so nothing more from this thread is the event's line.
        Interlocked.CompareExchange(ref _reportedFailureThread, 0, Environment.CurrentManagedThreadId);
        lock (_jobLock)
        {
            if (_disposed) return;
            JobState current = JobStateInfo.State;
            if (current is JobState.Stopped or JobState.Completed or JobState.Failed) return;
            switch (state)
            {
                case ShareState.Listening or ShareState.Connected when current == JobState.NotStarted:
                    SetJobState(JobState.Running);
                    break;
                case ShareState.Stopping when current == JobState.Running:
                    SetJobState(JobState.Stopping);
                    break;
                case ShareState.Stopped:
                    SetJobState(Volatile.Read(ref _stopRequested) != 0 ? JobState.Stopped : JobState.Completed);
                    break;
                case ShareState.Failed:
                    // Before the state: a finished job closes its streams.
                    Exception failure = Host.Failure ?? new InvalidOperationException(state.ToString());
                    Error.Add(new ErrorRecord(failure, ErrorIds.ShareFailed, ErrorCategory.OperationStopped, this)
                    {
                        ErrorDetails = new ErrorDetails(string.Format(Strings.ShareFailed, Name, failure.Message)),
                    });
                    SetJobState(JobState.Failed);
                    break;
            }
        }
    }

    /// <summary>
    /// A front-end broke the protocol or its connection failed (ShareHost.ConnectionFailed, on the connection thread,
    /// just before the share logs it): one error record with the real exception. The share keeps running.
    /// </summary>
    private void OnConnectionFailed(object? sender, Exception failure)
    {
        if (_disposed) return;
        Volatile.Write(ref _reportedFailureThread, Environment.CurrentManagedThreadId);
        Error.Add(failure is VhostUserProtocolException
            ? new ErrorRecord(failure, ErrorIds.VhostUserProtocolViolation, ErrorCategory.ProtocolError, this)
            {
                ErrorDetails = new ErrorDetails(string.Format(Strings.VhostUserProtocolViolation, Name, failure.Message)),
            }
            : new ErrorRecord(failure, ErrorIds.FrontendConnectionFailed, ErrorCategory.ConnectionError, this)
            {
                ErrorDetails = new ErrorDetails(string.Format(Strings.FrontendConnectionFailed, Name, failure.Message)),
            });
    }

    /// <summary>The share's log sink; called on the share's threads. ShareLog swallows what a closed stream throws.</summary>
    private void WriteLog(ShareLogLevel level, string line)
    {
        if (_disposed) return;
        switch (level)
        {
            case ShareLogLevel.Error:
                int thread = Environment.CurrentManagedThreadId;
                if (Interlocked.CompareExchange(ref _reportedFailureThread, 0, thread) == thread) break;   // OnConnectionFailed wrote it
                Error.Add(new ErrorRecord(new IOException(line), ErrorIds.ShareLogError, ErrorCategory.NotSpecified, this));
                break;
            case ShareLogLevel.Warning:
                Warning.Add(new WarningRecord(line));
                break;
            case ShareLogLevel.Info:
                Information.Add(new InformationRecord(line, Name));
                break;
            default:
                Debug.Add(new DebugRecord(line));
                break;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            lock (_jobLock)
            {
                if (_disposed) return;
            }
            StopJob();
            lock (_jobLock)
            {
                _disposed = true;
                Host.StateChanged -= OnShareStateChanged;
                Host.ConnectionFailed -= OnConnectionFailed;
            }
            Host.Dispose();
        }
        base.Dispose(disposing);
    }
}
