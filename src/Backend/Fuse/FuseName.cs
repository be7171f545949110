using System.Text;

namespace VirtioFs.Backend.Fuse;

/// <summary>
/// A name from a request, already copied out of guest memory, NUL-terminated, and validated by the server:
/// for path components non-empty, at most 255 bytes, no '/', and not "." or ".." (LOOKUP alone may pass those).
/// </summary>
public readonly ref struct FuseName
{
    private readonly ReadOnlySpan<byte> _withTerminator;

    internal FuseName(ReadOnlySpan<byte> withTerminator)
    {
        System.Diagnostics.Debug.Assert(withTerminator.Length > 0 && withTerminator[^1] == 0);
        _withTerminator = withTerminator;
    }

    /// <summary>The name without its terminator.</summary>
    public ReadOnlySpan<byte> Bytes => _withTerminator[..^1];

    /// <summary>The name with its NUL terminator, ready for a system call.</summary>
    public ReadOnlySpan<byte> NulTerminated => _withTerminator;

    public bool IsDot => _withTerminator.Length == 2 && _withTerminator[0] == (byte)'.';

    public bool IsDotDot => _withTerminator.Length == 3 && _withTerminator[0] == (byte)'.' && _withTerminator[1] == (byte)'.';

    public override string ToString() => Encoding.UTF8.GetString(Bytes);
}
