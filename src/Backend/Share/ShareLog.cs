namespace VirtioFs.Backend.Share;

/// <summary>
/// A share's log. Lines go to a sink (stderr for the standalone host, the job's streams in PowerShell). What a guest
/// can trigger at will (rejected requests, bad chains) goes through <see cref="GuestError"/>, which is rate limited:
/// a hostile guest cannot flood the host's log, and the count of suppressed lines is reported with the next line.
/// </summary>
public sealed class ShareLog
{
    /// <summary>Guest-triggered lines allowed per window; the rest are counted, not written.</summary>
    public const int GuestLinesPerWindow = 20;

    private static readonly long WindowTicks = System.Diagnostics.Stopwatch.Frequency * 10;

    private readonly Action<ShareLogLevel, string> _sink;
    private readonly object _rateLock = new();
    private long _windowStart;
    private int _linesInWindow;
    private long _suppressed;

    public ShareLog(Action<ShareLogLevel, string> sink, ShareLogLevel level = ShareLogLevel.Info)
    {
        _sink = sink;
        Level = level;
    }

    /// <summary>A log that writes nothing.</summary>
    public static ShareLog Null { get; } = new((_, _) => { }, ShareLogLevel.Error);

    public ShareLogLevel Level { get; set; }

    /// <summary>Guest-triggered lines dropped by the rate limit so far.</summary>
    public long SuppressedCount => Interlocked.Read(ref _suppressed);

    public bool IsEnabled(ShareLogLevel level) => level <= Level;

    public void Error(string message) => Write(ShareLogLevel.Error, message);
    public void Warning(string message) => Write(ShareLogLevel.Warning, message);
    public void Info(string message) => Write(ShareLogLevel.Info, message);
    public void Debug(string message) => Write(ShareLogLevel.Debug, message);

    public void Write(ShareLogLevel level, string message)
    {
        if (!IsEnabled(level)) return;
        try
        {
            _sink(level, message);
        }
        catch (Exception)
        {
            // A broken sink (closed stderr, a disposed PowerShell stream) must never take the share down.
        }
    }

    /// <summary>
    /// Logs something the guest caused, at warning level, unless the guest has already caused
    /// <see cref="GuestLinesPerWindow"/> lines in the last 10 seconds. The message is built only when written.
    /// </summary>
    public void GuestError<TState>(TState state, Func<TState, string> format)
    {
        if (!IsEnabled(ShareLogLevel.Warning)) return;
        long suppressedBefore;
        lock (_rateLock)
        {
            long now = System.Diagnostics.Stopwatch.GetTimestamp();
            if (now - _windowStart > WindowTicks)
            {
                _windowStart = now;
                _linesInWindow = 0;
            }
            if (_linesInWindow >= GuestLinesPerWindow)
            {
                _suppressed++;
                return;
            }
            _linesInWindow++;
            suppressedBefore = _suppressed;
            _suppressed = 0;
        }
        string text = format(state);
        Write(ShareLogLevel.Warning, suppressedBefore == 0 ? text : $"{text} ({suppressedBefore} similar lines suppressed)");
    }
}
