namespace VirtioFs.Backend.Interop;

/// <summary>A failed system call, named with its errno so that the message says what went wrong.</summary>
public sealed class ErrnoException : IOException
{
    public ErrnoException(string call, Errno errno, string? detail = null)
        : base(detail is null ? $"{call} failed: {errno.Describe()}" : $"{call} failed for {detail}: {errno.Describe()}", (int)errno)
    {
        Call = call;
        Errno = errno;
    }

    public string Call { get; }
    public Errno Errno { get; }

    /// <summary>Throws with the calling thread's errno. Use right after the failing call.</summary>
    internal static ErrnoException FromLast(string call, string? detail = null) => new(call, Libc.LastErrno, detail);
}
