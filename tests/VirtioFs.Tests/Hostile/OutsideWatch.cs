using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using VirtioFs.Backend.Interop;

namespace VirtioFs.Tests.Hostile;

/// <summary>
/// Everything next to the shared directory that a confined share must never read, create, change or open: inotify
/// watches on the parent directory and on a sentinel tree (files, a sub-directory, a FIFO) report every open, access,
/// create, attribute change and move; a snapshot (type, mode, owner, size, link count, times, content hash) catches
/// what inotify cannot. Events about the shared directory itself and the socket directory are expected and ignored.
/// </summary>
internal sealed unsafe class OutsideWatch : IDisposable
{
    private readonly SafeFd _inotify;
    private readonly Dictionary<int, string> _watched = new();
    private readonly string _root;
    private readonly HashSet<string> _insideNames;
    private Dictionary<string, string> _snapshot;

    /// <summary>
    /// Watches <paramref name="root"/> (ignoring events on its children named in <paramref name="insideNames"/>) and
    /// every directory below it that is not one of those children.
    /// </summary>
    public OutsideWatch(string root, params string[] insideNames)
    {
        _root = root;
        _insideNames = new HashSet<string>(insideNames, StringComparer.Ordinal);
        _inotify = SafeFd.Check(HostileLibc.inotify_init1(HostileLibc.IN_NONBLOCK | HostileLibc.IN_CLOEXEC), "inotify_init1");
        Watch(root);
        foreach (string dir in Directory.EnumerateDirectories(root, "*", SearchOption.AllDirectories))
        {
            if (!IsInside(dir)) Watch(dir);
        }
        _snapshot = Snapshot();
    }

    private bool IsInside(string path)
    {
        string relative = Path.GetRelativePath(_root, path);
        string first = relative.Split('/')[0];
        return _insideNames.Contains(first);
    }

    private void Watch(string dir)
    {
        int wd = HostileLibc.inotify_add_watch(_inotify.Value, dir, HostileLibc.IN_ALL_EVENTS);
        if (wd < 0) throw ErrnoException.FromLast("inotify_add_watch", dir);
        _watched[wd] = dir;
    }

    // Outside events read by Collect and not yet taken, and what was opened in the same window.
    private readonly List<string> _collected = new();
    private readonly HashSet<string> _opened = new(StringComparer.Ordinal);

    /// <summary>Events since the last call (or the start), as "IN_OPEN outside/secret.txt" lines; inside events dropped.</summary>
    public List<string> TakeEvents()
    {
        Collect();
        var events = new List<string>(_collected);
        _collected.Clear();
        _opened.Clear();
        return events;
    }

    /// <summary>
    /// Reads the kernel's event queue now, keeping the outside events for <see cref="TakeEvents"/>: a long run calls it
    /// from time to time, because the (ignored) events on the shared directory's own entry would otherwise fill the
    /// queue (max_queued_events) and lose the ones that matter.
    /// </summary>
    public void Collect()
    {
        List<string> events = _collected;
        HashSet<string> opened = _opened;
        byte[] buffer = new byte[64 * 1024];
        fixed (byte* b = buffer)
        {
            while (true)
            {
                nint n = Libc.read(_inotify.Value, b, (nuint)buffer.Length);
                if (n <= 0) break;
                int offset = 0;
                while (offset < n)
                {
                    int wd = *(int*)(b + offset);
                    uint mask = *(uint*)(b + offset + 4);
                    uint len = *(uint*)(b + offset + 12);
                    string name = len == 0 ? "" : Encoding.UTF8.GetString(new ReadOnlySpan<byte>(b + offset + 16, (int)len)).TrimEnd('\0');
                    offset += 16 + (int)len;
                    if ((mask & HostileLibc.IN_Q_OVERFLOW) != 0)
                    {
                        events.Add("IN_Q_OVERFLOW (events were lost)");
                        continue;
                    }
                    string dir = _watched.TryGetValue(wd, out string? d) ? d : $"wd {wd}";
                    if (dir == _root && _insideNames.Contains(name)) continue;
                    string where = Path.GetRelativePath(_root, name.Length == 0 ? dir : Path.Combine(dir, name));
                    if ((mask & HostileLibc.IN_OPEN) != 0) opened.Add(where);
                    // A directory closed with no open in this window was opened by our own Snapshot (whose events
                    // were discarded) and closed just after the discard; the open is what shows an access.
                    if (mask == (HostileLibc.IN_CLOSE_NOWRITE | HostileLibc.IN_ISDIR) && !opened.Contains(where)) continue;
                    events.Add($"{Describe(mask)} {where}");
                }
            }
        }
    }

    // Drops what is queued or collected (our own snapshot's events, or a change the test made outside on purpose).
    private void DiscardEvents()
    {
        _collected.Clear();
        _opened.Clear();
        byte[] buffer = new byte[64 * 1024];
        fixed (byte* b = buffer)
        {
            while (Libc.read(_inotify.Value, b, (nuint)buffer.Length) > 0) { }
        }
    }

    /// <summary>What changed outside since construction or the last <see cref="Rebase"/>: lines "changed: path ...".</summary>
    public List<string> Differences()
    {
        Dictionary<string, string> now = Snapshot();
        var differences = new List<string>();
        foreach ((string path, string before) in _snapshot)
        {
            if (!now.TryGetValue(path, out string? after)) differences.Add($"removed: {path} (was {before})");
            else if (after != before) differences.Add($"changed: {path}: {before} -> {after}");
        }
        foreach ((string path, string after) in now)
        {
            if (!_snapshot.ContainsKey(path)) differences.Add($"appeared: {path} ({after})");
        }
        return differences;
    }

    /// <summary>Takes a new baseline (after the test itself changed something outside on purpose).</summary>
    public void Rebase() => _snapshot = Snapshot();

    /// <summary>All outside violations so far: inotify events plus snapshot differences (empty = confined).</summary>
    public List<string> Violations()
    {
        var all = TakeEvents();
        all.AddRange(Differences());
        return all;
    }

    private Dictionary<string, string> Snapshot()
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        Add(_root);
        foreach (string path in Directory.EnumerateFileSystemEntries(_root, "*", new EnumerationOptions { RecurseSubdirectories = false, AttributesToSkip = 0 }))
        {
            if (IsInside(path)) continue;
            Add(path);
            if (Directory.Exists(path) && !File.GetAttributes(path).HasFlag(FileAttributes.ReparsePoint))
            {
                foreach (string below in Directory.EnumerateFileSystemEntries(path, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
                    Add(below);
            }
        }
        // Reading the files ourselves generated events: drop them (callers take the real ones before snapshotting).
        DiscardEvents();
        return result;

        void Add(string path)
        {
            byte* st = stackalloc byte[256];
            byte[] name = Encoding.UTF8.GetBytes(path + "\0");
            fixed (byte* p = name)
            {
                if (Libc.statx(Libc.AT_FDCWD, p, Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_BASIC_STATS, (Libc.statx_t*)st) != 0) return;
            }
            var s = *(Libc.statx_t*)st;
            uint type = s.stx_mode & Libc.S_IFMT;
            string content = "";
            if (type == Libc.S_IFREG) content = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)))[..16];
            else if (type == Libc.S_IFLNK) content = new FileInfo(path).LinkTarget ?? "";
            result[Path.GetRelativePath(_root, path)] =
                $"mode {Convert.ToString(s.stx_mode, 8)} uid {s.stx_uid} gid {s.stx_gid} nlink {s.stx_nlink} size {s.stx_size} " +
                $"mtime {s.stx_mtime.tv_sec}.{s.stx_mtime.tv_nsec} ctime {s.stx_ctime.tv_sec}.{s.stx_ctime.tv_nsec} {content}";
        }
    }

    private static string Describe(uint mask)
    {
        var names = new List<string>();
        (uint bit, string name)[] bits =
        [
            (HostileLibc.IN_ACCESS, "IN_ACCESS"), (HostileLibc.IN_MODIFY, "IN_MODIFY"), (HostileLibc.IN_ATTRIB, "IN_ATTRIB"),
            (HostileLibc.IN_CLOSE_WRITE, "IN_CLOSE_WRITE"), (HostileLibc.IN_CLOSE_NOWRITE, "IN_CLOSE_NOWRITE"),
            (HostileLibc.IN_OPEN, "IN_OPEN"), (HostileLibc.IN_MOVED_FROM, "IN_MOVED_FROM"), (HostileLibc.IN_MOVED_TO, "IN_MOVED_TO"),
            (HostileLibc.IN_CREATE, "IN_CREATE"), (HostileLibc.IN_DELETE, "IN_DELETE"), (HostileLibc.IN_DELETE_SELF, "IN_DELETE_SELF"),
            (HostileLibc.IN_MOVE_SELF, "IN_MOVE_SELF"), (HostileLibc.IN_ISDIR, "IN_ISDIR"),
        ];
        foreach ((uint bit, string name) in bits)
        {
            if ((mask & bit) != 0) names.Add(name);
        }
        return string.Join('|', names);
    }

    public void Dispose() => _inotify.Dispose();
}
