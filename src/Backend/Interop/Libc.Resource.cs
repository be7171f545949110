using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Interop;

// sys/resource.h: resource limits (per process; glibc's wrappers are plain syscalls).
internal static unsafe partial class Libc
{
    [StructLayout(LayoutKind.Sequential)]
    internal struct rlimit
    {
        public ulong rlim_cur;
        public ulong rlim_max;
    }

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int getrlimit(int resource, rlimit* rlim);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int setrlimit(int resource, rlimit* rlim);

    internal const int RLIMIT_NOFILE = 7;
}
