using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Interop;

// stdio.h: renameat2 (glibc >= 2.28).
internal static unsafe partial class Libc
{
    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int renameat2(int olddirfd, byte* oldpath, int newdirfd, byte* newpath, uint flags);

    internal const uint RENAME_NOREPLACE = 1, RENAME_EXCHANGE = 2, RENAME_WHITEOUT = 4;
}
