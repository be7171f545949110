namespace VirtioFs.Tests.Share;

/// <summary>
/// Open fds and guest-RAM mappings of this process, for leak checks. Objects that earlier tests dropped without
/// disposing are finalized first: otherwise a SafeHandle finalized in the middle of a test changes the count.
/// </summary>
internal static class ProcessCounts
{
    public const string GuestRamName = "virtiofs-frontend-guest-ram";

    public static int OpenFds()
    {
        Settle();
        return Directory.GetFiles("/proc/self/fd").Length;
    }

    public static int GuestRamMappings()
    {
        Settle();
        return File.ReadLines("/proc/self/maps").Count(l => l.Contains(GuestRamName, StringComparison.Ordinal));
    }

    private static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }
}
