namespace VirtioFs.Bench;

/// <summary>
/// The directory every daemon shares, prepared once: a big file for reads, a file for writes, a directory of 1,000
/// empty files (lookup, readdirplus), an empty directory for create/unlink, and a directory of files whose inodes the
/// memory probe looks up. The files are written through the page cache, so reads hit it, for every daemon alike.
/// </summary>
internal sealed class PreparedDirectory : IDisposable
{
    public const string BigFile = "big.dat";
    public const string WriteFile = "write.dat";
    public const string ListDir = "list1000";
    public const string CreateDir = "create";
    public const string InodeDir = "inodes";

    private readonly bool _owned;

    public PreparedDirectory(string? root, long bigFileSize, long writeFileSize, int listEntries, int inodeFiles)
    {
        _owned = root is null;
        Root = root ?? CreateDefault(bigFileSize + writeFileSize + (64L << 20));
        Directory.CreateDirectory(Root);
        BigFileSize = bigFileSize;
        WriteFileSize = writeFileSize;
        ListEntries = listEntries;
        InodeFiles = inodeFiles;
        WriteFileOfSize(Path.Combine(Root, BigFile), bigFileSize);
        WriteFileOfSize(Path.Combine(Root, WriteFile), writeFileSize);
        FillDirectory(Path.Combine(Root, ListDir), "f", listEntries);
        FillDirectory(Path.Combine(Root, InodeDir), "i", inodeFiles);
        string create = Path.Combine(Root, CreateDir);
        if (Directory.Exists(create)) Directory.Delete(create, recursive: true);
        Directory.CreateDirectory(create);
    }

    public string Root { get; }

    /// <summary>The file system type the directory lives on (from /proc/self/mounts), for the report.</summary>
    public string FileSystemType => FileSystemTypeOf(Root);

    /// <summary>
    /// A new directory in /dev/shm when it is a writable tmpfs with room for the files, else in the temporary directory. On tmpfs the figures measure the daemons,
    /// not the disk file system's own quirks (ext4's inode allocator, for one, slows create+unlink loops down by
    /// several times as it runs, and by different amounts from run to run). --dir measures any other place.
    /// </summary>
    private static string CreateDefault(long bytesNeeded)
    {
        const string shm = "/dev/shm";
        try
        {
            // A container's /dev/shm is often 64 MiB: too small for the files, so the temporary directory it is.
            if (Directory.Exists(shm) && FileSystemTypeOf(shm) == "tmpfs" && new DriveInfo(shm).AvailableFreeSpace >= bytesNeeded)
                return CreateUnder(shm);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return CreateUnder(Path.GetTempPath());
    }

    private static string CreateUnder(string parent)
    {
        string path = Path.Combine(parent, $"virtiofs-bench-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }

    private static string FileSystemTypeOf(string path)
    {
        string full = Path.GetFullPath(path);
        string best = "", type = "?";
        foreach (string line in File.ReadLines("/proc/self/mounts"))
        {
            string[] f = line.Split(' ');
            if (f.Length < 3) continue;
            string mountPoint = f[1].Replace("\\040", " ");
            bool covers = full == mountPoint || full.StartsWith(mountPoint.TrimEnd('/') + "/", StringComparison.Ordinal);
            if (covers && mountPoint.Length >= best.Length)
            {
                best = mountPoint;
                type = f[2];
            }
        }
        return type;
    }
    public long BigFileSize { get; }
    public long WriteFileSize { get; }
    public int ListEntries { get; }
    public int InodeFiles { get; }

    private static void WriteFileOfSize(string path, long size)
    {
        if (File.Exists(path) && new FileInfo(path).Length == size) return;
        var block = new byte[1 << 20];
        new Random(42).NextBytes(block);
        using var f = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        for (long done = 0; done < size; done += block.Length) f.Write(block, 0, (int)Math.Min(block.Length, size - done));
    }

    private static void FillDirectory(string dir, string prefix, int count)
    {
        Directory.CreateDirectory(dir);
        if (Directory.GetFiles(dir).Length == count) return;
        foreach (string f in Directory.GetFiles(dir)) File.Delete(f);
        for (int i = 0; i < count; i++) File.WriteAllBytes(Path.Combine(dir, prefix + i), []);
    }

    public void Dispose()
    {
        if (_owned) Directory.Delete(Root, recursive: true);
    }
}
