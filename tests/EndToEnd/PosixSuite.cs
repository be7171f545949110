namespace VirtioFs.EndToEnd;

/// <summary>
/// The host half of the POSIX suite; the guest half is tests/EndToEnd/guest/posix.sh running the static helper
/// tests/EndToEnd/helpers/posixcheck.c (keep the check names in step with its table).
/// </summary>
internal static class PosixSuite
{
    public const string TestName = "posix";

    /// <summary>posixcheck's checks, in its order; the guest reports each as px_NAME.</summary>
    public static readonly IReadOnlyList<string> HelperChecks =
    [
        "mkdir", "chmod", "chown", "link", "mkfifo", "open", "rename", "rmdir", "symlink", "truncate", "ftruncate",
        "unlink", "utimensat", "granular", "xattr_trusted", "xattr_user", "posix_lock", "posix_lock_wait", "flock",
        "fallocate", "fallocate_zero_range", "seek_hole", "copy_range", "tmpfile", "rename2", "setid_write",
        "cve_2022_0358", "sgid_dir", "umask_user", "special_files", "append_sparse", "hardlinks", "mmap", "dir_stream",
    ];

    /// <summary>Every check the guest reports (init's own around the suite's).</summary>
    public static readonly IReadOnlyList<string> ExpectedChecks =
        ["modules", "mount", .. HelperChecks.Select(c => "px_" + c), "umount"];

    /// <summary>
    /// Checks our daemon may fail, with the reason; each may fail only where the C virtiofsd fails it too.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> KnownGaps = new Dictionary<string, string>
    {
        // None: SETLKW on a held lock waits in a waiter thread and its reply comes back through the queue thread.
    };

    /// <summary>Options both daemons get: everything the suite exercises (the C virtiofsd's -o names).</summary>
    public static readonly IReadOnlyList<string> DaemonOptions = ["-o", "xattr,posix_lock,flock"];
}
