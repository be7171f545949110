using System.Globalization;

namespace VirtioFs.Backend.Share;

/// <summary>
/// CPU time of threads and processes as the scheduler counts it: the first field of /proc/…/schedstat, nanoseconds
/// on CPU (user and kernel), exact rather than in clock ticks like /proc/…/stat. For statistics, not the hot path:
/// every read opens a file.
/// </summary>
internal static class ThreadCpuClock
{
    /// <summary>Nanoseconds on CPU of thread <paramref name="tid"/> of this process; 0 if it has ended.</summary>
    public static long OfThread(int tid) => Read($"/proc/self/task/{tid}/schedstat");

    /// <summary>Nanoseconds on CPU of every thread of process <paramref name="pid"/> alive now (ended threads excluded).</summary>
    public static long OfProcess(int pid)
    {
        long total = 0;
        try
        {
            foreach (string task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                total += Read(Path.Combine(task, "schedstat"));
            }
        }
        catch (IOException)
        {
            // The process ended while we looked: what was read so far is all there is.
        }
        return total;
    }

    private static long Read(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (IOException)
        {
            return 0;   // the thread ended between listing and reading (DirectoryNotFound and FileNotFound are IOExceptions)
        }
        int end = text.IndexOf(' ');
        return long.TryParse(end < 0 ? text : text[..end], NumberStyles.None, CultureInfo.InvariantCulture, out long ns) ? ns : 0;
    }
}
