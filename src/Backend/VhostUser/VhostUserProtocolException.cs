namespace VirtioFs.Backend.VhostUser;

/// <summary>
/// The front-end broke the vhost-user protocol (bad size, bad fd count, unknown request, out-of-range queue index...).
/// The connection is closed with this message in the log; the share keeps listening for the next front-end.
/// </summary>
public sealed class VhostUserProtocolException : Exception
{
    public VhostUserProtocolException(string message) : base(message) { }

    public VhostUserProtocolException(string message, Exception inner) : base(message, inner) { }
}
