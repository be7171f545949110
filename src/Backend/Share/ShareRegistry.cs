namespace VirtioFs.Backend.Share;

/// <summary>
/// The shares of one process, in start order, with what must be unique among the live ones: the name, the tag and
/// the socket path. The cmdlets keep their share objects (PowerShell jobs) here; <typeparamref name="TShare"/> is that
/// object, and <c>hostOf</c> finds its <see cref="ShareHost"/>. Thread-safe: shares stop on their own threads while a
/// pipeline starts others. A stopped or failed share stays listed (as a finished job stays in Get-Job) until it is
/// removed, but no longer holds its name, tag or socket.
/// </summary>
public sealed class ShareRegistry<TShare> where TShare : class
{
    /// <summary>What a new share collides with.</summary>
    public enum Conflict
    {
        None,
        Name,
        Tag,
        SocketPath,
    }

    private readonly Func<TShare, ShareHost> _hostOf;
    private readonly object _lock = new();
    private readonly List<TShare> _shares = new();

    public ShareRegistry(Func<TShare, ShareHost> hostOf)
    {
        _hostOf = hostOf;
    }

    /// <summary>Every registered share, live or finished, in the order they were added.</summary>
    public IReadOnlyList<TShare> All
    {
        get
        {
            lock (_lock) return _shares.ToArray();
        }
    }

    /// <summary>
    /// Adds <paramref name="share"/> unless a live share already has its name (case-insensitive, as PowerShell
    /// compares names), its tag (byte for byte, as the guest compares tags) or its socket path (full path). Check and
    /// add are one step, so two pipelines cannot both take the same socket.
    /// </summary>
    public Conflict TryAdd(TShare share, out TShare? holder)
    {
        ShareHost host = _hostOf(share);
        string? socket = FullSocketPath(host);
        lock (_lock)
        {
            foreach (TShare other in _shares)
            {
                holder = other;
                if (ReferenceEquals(other, share)) return Conflict.Name;
                ShareHost otherHost = _hostOf(other);
                if (!IsLive(otherHost)) continue;
                if (string.Equals(otherHost.Name, host.Name, StringComparison.OrdinalIgnoreCase)) return Conflict.Name;
                if (host.Options.Tag is not null && string.Equals(otherHost.Options.Tag, host.Options.Tag, StringComparison.Ordinal)) return Conflict.Tag;
                if (socket is not null && string.Equals(FullSocketPath(otherHost), socket, StringComparison.Ordinal)) return Conflict.SocketPath;
            }
            _shares.Add(share);
        }
        holder = null;
        return Conflict.None;
    }

    public bool Remove(TShare share)
    {
        lock (_lock) return _shares.Remove(share);
    }

    /// <summary>Shares whose name matches any of <paramref name="patterns"/> (wildcards allowed); all when null.</summary>
    public IReadOnlyList<TShare> FindByName(IReadOnlyCollection<string>? patterns)
        => Find(patterns, s => _hostOf(s).Name, ignoreCase: true);

    /// <summary>Shares whose tag matches any of <paramref name="patterns"/> (case-sensitive, as tags are); all when null.</summary>
    public IReadOnlyList<TShare> FindByTag(IReadOnlyCollection<string>? patterns)
        => Find(patterns, s => _hostOf(s).Options.Tag, ignoreCase: false);

    private IReadOnlyList<TShare> Find(IReadOnlyCollection<string>? patterns, Func<TShare, string?> key, bool ignoreCase)
    {
        TShare[] all = All.ToArray();
        if (patterns is null) return all;
        return all.Where(s => key(s) is string value && patterns.Any(p => IsMatch(p, value, ignoreCase))).ToArray();
    }

    /// <summary>True when the share is not yet stopped or failed (it holds its name, tag and socket).</summary>
    public static bool IsLive(ShareHost host) => host.State is not (ShareState.Stopped or ShareState.Failed);

    private static string? FullSocketPath(ShareHost host)
        => host.Options.SocketPath is string path ? Path.GetFullPath(path) : null;

    /// <summary>
    /// A share name ends up in a file name (the default socket) and in thread names: 1 to 64 characters, none of them
    /// '/', NUL or a control character, not "." or "..", and no wildcard characters (a name must find itself).
    /// </summary>
    public static void ValidateName(string name)
    {
        if (name.Length is 0 or > 64)
            throw new ArgumentException($"A share name must be 1 to 64 characters; '{name}' has {name.Length}. Choose a shorter name.", nameof(name));
        if (name is "." or ".." || name.Any(c => c == '/' || char.IsControl(c)) || HasWildcard(name))
            throw new ArgumentException($"'{name}' cannot be a share name: it must not be '.' or '..' nor contain '/', control characters or the wildcards * ? [ ]. Choose another name.", nameof(name));
    }

    /// <summary>
    /// Where a share listens unless told otherwise: <c>$XDG_RUNTIME_DIR/virtiofs/NAME.sock</c> (the user's private
    /// runtime directory), else <c>/run/virtiofs/NAME.sock</c> (root's).
    /// </summary>
    public static string DefaultSocketPath(string name, string? xdgRuntimeDir)
    {
        ValidateName(name);
        string root = string.IsNullOrEmpty(xdgRuntimeDir) || !Path.IsPathFullyQualified(xdgRuntimeDir) ? "/run" : xdgRuntimeDir;
        return Path.Combine(root, "virtiofs", name + ".sock");
    }

    /// <summary>
    /// True when some process (this one included) listens on the UNIX socket at <paramref name="path"/>, read from
    /// /proc/net/unix (flag __SO_ACCEPTCON, 0x10000) rather than by connecting: a probe connection would look like a
    /// front-end to the daemon there, and the C virtiofsd exits when its one front-end goes away.
    /// </summary>
    public static bool IsSocketListening(string path, string procNetUnix = "/proc/net/unix")
    {
        string full = Path.GetFullPath(path);
        foreach (string line in File.ReadLines(procNetUnix).Skip(1))
        {
            // "Num: RefCount Protocol Flags Type St Inode Path": the path is everything after the seventh field.
            string[] fields = line.Split(' ', 8, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 8 || fields[7] != full) continue;
            if (int.TryParse(fields[3], System.Globalization.NumberStyles.HexNumber, null, out int flags) && (flags & 0x10000) != 0) return true;
        }
        return false;
    }

    /// <summary>True when <paramref name="pattern"/> has an unescaped *, ? or [.</summary>
    public static bool HasWildcard(string pattern)
    {
        for (int i = 0; i < pattern.Length; i++)
        {
            if (pattern[i] == '`') { i++; continue; }
            if (pattern[i] is '*' or '?' or '[') return true;
        }
        return false;
    }

    /// <summary>
    /// PowerShell's wildcard language: * any run, ? one character, [abc] and [a-z] one of a set, ` escapes the next
    /// character. (The backend has no PowerShell reference, so this is ours; the cmdlets rely on it behaving alike.)
    /// </summary>
    public static bool IsMatch(string pattern, string value, bool ignoreCase)
        => MatchFrom(pattern, 0, value, 0, ignoreCase);

    private static bool MatchFrom(string p, int pi, string v, int vi, bool ignoreCase)
    {
        while (pi < p.Length)
        {
            char c = p[pi];
            if (c == '*')
            {
                while (pi < p.Length && p[pi] == '*') pi++;
                if (pi == p.Length) return true;
                for (int start = vi; start <= v.Length; start++)
                {
                    if (MatchFrom(p, pi, v, start, ignoreCase)) return true;
                }
                return false;
            }
            if (vi == v.Length) return false;
            if (c == '?')
            {
                pi++;
            }
            else if (c == '[')
            {
                int close = p.IndexOf(']', pi + 1);
                if (close < 0) return false;   // an unclosed set matches nothing, as WildcardPattern treats it as invalid
                if (!InSet(p.AsSpan(pi + 1, close - pi - 1), v[vi], ignoreCase)) return false;
                pi = close + 1;
            }
            else
            {
                if (c == '`' && pi + 1 < p.Length) c = p[++pi];
                if (!Same(c, v[vi], ignoreCase)) return false;
                pi++;
            }
            vi++;
        }
        return vi == v.Length;
    }

    private static bool InSet(ReadOnlySpan<char> set, char c, bool ignoreCase)
    {
        for (int i = 0; i < set.Length; i++)
        {
            if (i + 2 < set.Length && set[i + 1] == '-')
            {
                char low = set[i], high = set[i + 2];
                if (InRange(c, low, high) || (ignoreCase && (InRange(char.ToLowerInvariant(c), low, high) || InRange(char.ToUpperInvariant(c), low, high)))) return true;
                i += 2;
            }
            else if (Same(set[i], c, ignoreCase))
            {
                return true;
            }
        }
        return false;
    }

    private static bool InRange(char c, char low, char high) => c >= low && c <= high;

    private static bool Same(char a, char b, bool ignoreCase)
        => a == b || (ignoreCase && char.ToUpperInvariant(a) == char.ToUpperInvariant(b));
}
