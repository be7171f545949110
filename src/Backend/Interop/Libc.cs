using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Interop;

/// <summary>
/// Our own bindings to glibc, one file per header (Libc.Socket.cs, Libc.Mman.cs, ...), C names kept verbatim so the
/// man pages apply. Functions take raw <c>int</c> descriptors: ownership lives in <see cref="SafeFd"/>, and the
/// objects that use a descriptor on a hot path (queue threads) are stopped before its owner closes it.
/// Linux x86_64 and aarch64 with glibc; structs use the LP64 layout.
/// </summary>
internal static unsafe partial class Libc
{
    /// <summary>glibc's soname. "libc.so" is a linker script on Debian and cannot be dlopen()ed.</summary>
    internal const string Lib = "libc.so.6";

    /// <summary>errno of the last call made with SetLastError = true on this thread.</summary>
    internal static Errno LastErrno => (Errno)Marshal.GetLastPInvokeError();

    /// <summary>-errno of the last failed call: the form FUSE replies carry.</summary>
    internal static int NegErrno => -Marshal.GetLastPInvokeError();
}
