namespace VirtioFs.Bench.Targets;

/// <summary>
/// The process that does the work: the C virtiofsd with its namespace sandbox forks once and serves from the child,
/// while the parent only waits; so follow /proc/PID/task/PID/children down to the last descendant.
/// </summary>
internal static class ProcessTree
{
    public static int Deepest(int pid)
    {
        for (int depth = 0; depth < 4; depth++)
        {
            string path = $"/proc/{pid}/task/{pid}/children";
            if (!File.Exists(path)) return pid;
            string children = File.ReadAllText(path).Trim();
            if (children.Length == 0) return pid;
            pid = int.Parse(children.Split(' ')[0]);
        }
        return pid;
    }
}
