namespace VirtioFs.Backend.Virtqueue;

/// <summary>
/// A queue configuration from the frontend that cannot work: a size that is not a power of two, ring addresses outside
/// the memory table or misaligned. The vhost-user layer turns it into an error reply and a log line; it is never
/// thrown for what the guest writes into the rings (that is <see cref="PopResult.BadChain"/> or
/// <see cref="PopResult.BrokenRing"/>).
/// </summary>
public sealed class VirtqueueException : Exception
{
    public VirtqueueException(string message) : base(message) { }

    public VirtqueueException(string message, Exception innerException) : base(message, innerException) { }
}
