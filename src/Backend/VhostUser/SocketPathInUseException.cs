namespace VirtioFs.Backend.VhostUser;

/// <summary>
/// Another process (or another listener of ours) already listens on the socket path, so creating ours would steal its
/// front-ends. An <see cref="IOException"/>, as before this type existed; callers that must tell it apart (the
/// cmdlets' SocketPathInUse error) catch it by type.
/// </summary>
public sealed class SocketPathInUseException : IOException
{
    public SocketPathInUseException(string socketPath)
        : base($"Another daemon is already listening on '{socketPath}'. Stop it or choose another socket path.")
    {
        SocketPath = socketPath;
    }

    /// <summary>The path something listens on.</summary>
    public string SocketPath { get; }
}
