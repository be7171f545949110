namespace VirtioFs.Backend.Fuse;

/// <summary>An <see cref="IFuseLog"/> from two delegates, so a host wires the FUSE layer's reports to its own log.</summary>
public sealed class FuseLog : IFuseLog
{
    private readonly Action<uint, ulong, string> _rejected;
    private readonly Action<uint, Exception> _internalError;

    public FuseLog(Action<uint, ulong, string> rejected, Action<uint, Exception> internalError)
    {
        ArgumentNullException.ThrowIfNull(rejected);
        ArgumentNullException.ThrowIfNull(internalError);
        _rejected = rejected;
        _internalError = internalError;
    }

    public void Rejected(uint opcode, ulong unique, string reason)
    {
        try
        {
            _rejected(opcode, unique, reason);
        }
        catch (Exception)
        {
            // A broken log must never turn a refused request into an internal error.
        }
    }

    public void InternalError(uint opcode, Exception exception)
    {
        try
        {
            _internalError(opcode, exception);
        }
        catch (Exception)
        {
        }
    }
}
