using System.Runtime.InteropServices;

namespace VirtioFs.Backend.Interop;

// unistd.h / sys/fsuid.h / sched.h / sys/stat.h: the per-thread identity and file-system state of a serving thread.
// glibc's setgroups/setresuid/setresgid change every thread of the process (they broadcast with SIGSETXID), which
// inside PowerShell would change the user's whole session; the raw syscalls change only the calling thread.
internal static unsafe partial class Libc
{
    /// <summary>syscall(2) with up to three integer arguments (glibc's variadic entry passes them in registers).</summary>
    [LibraryImport(Lib, SetLastError = true)]
    internal static partial long syscall(long number, long arg1, long arg2, long arg3);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial uint umask(uint mask);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int unshare(int flags);

    /// <summary>CLONE_FS: cwd, root and umask stop being shared with the other threads.</summary>
    internal const int CLONE_FS = 0x200;

    // Syscall numbers: arch/x86/entry/syscalls/syscall_64.tbl and include/uapi/asm-generic/unistd.h (aarch64).
    internal static long SYS_setfsuid => IsArm64 ? 151 : 122;
    internal static long SYS_setfsgid => IsArm64 ? 152 : 123;
    internal static long SYS_setgroups => IsArm64 ? 159 : 116;
    internal static long SYS_getgroups => IsArm64 ? 158 : 115;

    /// <summary>The calling thread's fsuid becomes <paramref name="uid"/>; returns the previous fsuid (never fails visibly).</summary>
    internal static uint SetThreadFsuid(uint uid) => unchecked((uint)syscall(SYS_setfsuid, uid, 0, 0));

    /// <summary>The calling thread's fsgid becomes <paramref name="gid"/>; returns the previous fsgid.</summary>
    internal static uint SetThreadFsgid(uint gid) => unchecked((uint)syscall(SYS_setfsgid, gid, 0, 0));

    /// <summary>The calling thread's supplementary groups become <paramref name="groups"/> (0 or -errno).</summary>
    internal static int SetThreadGroups(ReadOnlySpan<uint> groups)
    {
        fixed (uint* list = groups)
        {
            return syscall(SYS_setgroups, groups.Length, (long)list, 0) == 0 ? 0 : NegErrno;
        }
    }

    /// <summary>How many supplementary groups the calling thread has (or -errno).</summary>
    internal static int ThreadGroupCount() => (int)syscall(SYS_getgroups, 0, 0, 0);
}
