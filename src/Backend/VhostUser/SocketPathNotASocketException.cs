namespace VirtioFs.Backend.VhostUser;

/// <summary>
/// The socket path holds something that is not a socket (a file, a directory, ...). It is never removed: only a stale
/// socket file is replaced. An <see cref="IOException"/>, as before this type existed.
/// </summary>
public sealed class SocketPathNotASocketException : IOException
{
    public SocketPathNotASocketException(string socketPath)
        : base($"'{socketPath}' exists and is not a socket. Remove it or choose another socket path.")
    {
        SocketPath = socketPath;
    }

    /// <summary>The path that holds something else.</summary>
    public string SocketPath { get; }
}
