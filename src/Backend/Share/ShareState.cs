namespace VirtioFs.Backend.Share;

/// <summary>Where a share is in its life.</summary>
public enum ShareState
{
    /// <summary>Created, not started.</summary>
    NotStarted,
    /// <summary>The socket listens; no front-end is connected.</summary>
    Listening,
    /// <summary>A front-end (QEMU) is connected.</summary>
    Connected,
    /// <summary>Stop was requested; threads are finishing.</summary>
    Stopping,
    /// <summary>Stopped on request; everything is released.</summary>
    Stopped,
    /// <summary>Stopped by an error (see <see cref="ShareHost.Failure"/>); everything is released.</summary>
    Failed,
}
