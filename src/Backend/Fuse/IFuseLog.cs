namespace VirtioFs.Backend.Fuse;

/// <summary>
/// Where the FUSE layer reports what an administrator should see: requests refused as malformed or hostile (never an
/// ordinary errno such as ENOENT or EEXIST, which well-behaved guests get all the time), and bugs. Implementations must
/// be thread-safe, cheap, and rate limit what a guest can trigger at will (<see cref="Rejected"/>); they must not throw.
/// </summary>
public interface IFuseLog
{
    /// <summary>
    /// A request was refused because no honest guest kernel sends it: bad framing, truncated arguments, an invalid
    /// name, an id never issued, an oversized transfer. <paramref name="reason"/> is a constant string (building the
    /// line is the log's business, only when it writes it).
    /// </summary>
    void Rejected(uint opcode, ulong unique, string reason);

    /// <summary>A request hit a bug in the server or the file system; it was answered EIO and the share goes on.</summary>
    void InternalError(uint opcode, Exception exception);
}
