using VirtioFs.Bench.Targets;
using VirtioFs.Frontend;
using VirtioFs.Frontend.Fuse;

namespace VirtioFs.Bench.Measure;

/// <summary>
/// Resident memory of an idle, connected share and what each inode (LOOKUP without FORGET) and each open handle
/// (OPEN without RELEASE) adds. For a daemon process: its RssAnon (private memory; guest RAM is shared and excluded).
/// For the in-process share: the managed heap after a full GC, plus the process's RssAnon as a coarse check.
/// Kernel memory per fd (each inode holds an O_PATH fd, each handle an open file) is not in either figure.
/// </summary>
internal static class MemoryProbe
{
    public sealed record Figures(string Target, string Measure, double IdleKiB, double PerInodeBytes, double PerHandleBytes, int Inodes, int Handles);

    public static Figures Measure(Target target, PreparedDirectory dir, int inodes, int handles)
    {
        bool inProcess = target is InProcessTarget;
        long heapBaseline = inProcess ? GC.GetTotalMemory(forceFullCollection: true) : 0;
        target.Start();
        using var frontend = VhostUserFrontend.Connect(target.SocketPath, new FrontendOptions { MemorySize = 16UL << 20 }, TimeSpan.FromSeconds(15));
        var fuse = new FuseClient(frontend, 1, new FuseClientOptions { MaxPayload = 64 << 10, MaxInFlight = 1 });
        if (fuse.Init(out _) != 0) throw new InvalidOperationException($"{target.Name}: INIT failed");
        Thread.Sleep(300);
        int pid = target.DaemonPid ?? Environment.ProcessId;

        double idleKiB;
        long before;
        if (inProcess)
        {
            // RssAnon of a process that also runs the GC heap and the frontend moves by megabytes on its own; the
            // managed heap after a full GC is the share's steady footprint (plus its native scratch, shown apart).
            before = GC.GetTotalMemory(forceFullCollection: true);
            idleKiB = (before - heapBaseline) / 1024.0;
        }
        else
        {
            idleKiB = Status(pid, "VmRSS:");
            before = Status(pid, "RssAnon:") * 1024;
        }

        if (fuse.Lookup(FuseConstants.RootNodeId, PreparedDirectory.InodeDir, out FuseEntry inodeDir) != 0)
            throw new InvalidOperationException($"{target.Name}: LOOKUP {PreparedDirectory.InodeDir} failed");
        for (int i = 0; i < inodes; i++)
        {
            if (fuse.Lookup(inodeDir.NodeId, "i" + i, out _) != 0) throw new InvalidOperationException($"{target.Name}: LOOKUP i{i} failed");
        }
        long afterInodes = Measure(inProcess, pid);
        if (fuse.Lookup(FuseConstants.RootNodeId, PreparedDirectory.BigFile, out FuseEntry big) != 0)
            throw new InvalidOperationException($"{target.Name}: LOOKUP big file failed");
        for (int i = 0; i < handles; i++)
        {
            if (fuse.Open(big.NodeId, FuseConstants.O_RDONLY, out _) != 0) throw new InvalidOperationException($"{target.Name}: OPEN #{i} failed");
        }
        long afterHandles = Measure(inProcess, pid);
        return new Figures(target.Name, inProcess ? "managed heap after full GC (+ native scratch per queue thread, see notes)" : "VmRSS; per item: RssAnon",
            idleKiB, (afterInodes - before) / (double)inodes, (afterHandles - afterInodes) / (double)handles, inodes, handles);
    }

    private static long Measure(bool inProcess, int pid)
    {
        if (inProcess) return GC.GetTotalMemory(forceFullCollection: true);
        Thread.Sleep(100);
        return Status(pid, "RssAnon:") * 1024;
    }

    /// <summary>A "kB" line of /proc/PID/status.</summary>
    public static long Status(int pid, string field)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (!line.StartsWith(field, StringComparison.Ordinal)) continue;
            string[] parts = line[field.Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return long.Parse(parts[0]);
        }
        return 0;
    }
}
