using System.Diagnostics;
using System.Text;
using VirtioFs.Frontend.Fuse;
using VirtioFs.Frontend.Interop;
using VirtioFs.Tests.Hostile;
using Xunit;
using Xunit.Abstractions;
using static VirtioFs.Frontend.Fuse.FuseConstants;

namespace VirtioFs.Tests.Robustness;

/// <summary>
/// A random-operation soak: three request queues, each driven by its own thread over its own small tree (create,
/// write, read-and-verify, truncate, rename, unlink, hard link, symlink, chmod, mkdir, rmdir), each step checked
/// against an in-memory model; afterwards the host-side tree must equal the models exactly: names, types, contents,
/// permissions, link counts, symlink targets. 8 s in the default run; scripts/fuzz.sh --soak --seconds N for more.
/// </summary>
public sealed class SoakTests(ITestOutputHelper output)
{
    private const int Queues = 3;
    private const int MaxFileSize = 48 * 1024;

    private const int MaxOperationsPerWorker = 12_000;

    private static TimeSpan Duration => TimeSpan.FromSeconds(int.TryParse(Environment.GetEnvironmentVariable("VIRTIOFS_SOAK_SECONDS"), out int s) ? s : 8);

    [Fact]
    public void RandomOperationsFromSeveralQueuesLoseOrCorruptNothing()
    {
        using var share = new ConfinedShare(requestQueues: Queues, clientTimeout: TimeSpan.FromSeconds(10), maxPayload: 64 * 1024);
        var workers = new Worker[Queues];
        for (int q = 0; q < Queues; q++)
        {
            FuseClient client = q == 0 ? share.Client : share.ClientOn(q + 1);
            workers[q] = new Worker(client, $"w{q}", seed: 1000 + q);
        }
        var stop = new CancellationTokenSource(Duration);
        var threads = workers.Select(w => new Thread(() => w.Run(stop.Token)) { IsBackground = true }).ToArray();
        foreach (Thread t in threads) t.Start();
        foreach (Thread t in threads) Assert.True(t.Join(Duration + TimeSpan.FromSeconds(60)), "a soak worker hung");

        var problems = new List<string>();
        foreach (Worker w in workers)
        {
            output.WriteLine($"{w.Root}: {w.Operations} operations ({string.Join(", ", w.Counts.OrderBy(c => c.Key).Select(c => $"{c.Key} {c.Value}"))}); {w.Model.Count} entries at the end");
            problems.AddRange(w.Problems);
            problems.AddRange(w.CompareWithHost(Path.Combine(share.SharedDir, w.Root)));
        }
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems.Take(30)));
        share.AssertConfined();
    }

    private abstract class Node;

    private sealed class FileNode : Node
    {
        public byte[] Data = [];
        public uint Mode = 0x1A4;
    }

    private sealed class LinkNode(string target) : Node
    {
        public string Target { get; } = target;
    }

    private sealed class DirNode : Node;

    private sealed class Worker(FuseClient client, string root, int seed)
    {
        private static readonly string[] Names = ["a", "b", "c", "d", "e", "sub/a", "sub/b", "sub/c"];
        private static readonly string[] Dirs = ["x", "y", "sub/z"];

        private readonly Random _random = new(seed);

        public string Root { get; } = root;
        public Dictionary<string, Node> Model { get; } = new(StringComparer.Ordinal);
        public List<string> Problems { get; } = [];
        public Dictionary<string, int> Counts { get; } = new();
        public long Operations { get; private set; }

        public void Run(CancellationToken stop)
        {
            try
            {
                Expect(client.Mkdir(1, Root, 0x1ED, out _), "mkdir root");
                Expect(client.LookupPath(Root, out FuseEntry r), "lookup root");
                Expect(client.Mkdir(r.NodeId, "sub", 0x1ED, out _), "mkdir sub");
                // Bounded by count as well as time: this frontend never sends FORGET, and every unlinked inode it still
                // knows keeps a descriptor (a handle cannot reopen an unlinked file), so an unbounded fast run would
                // correctly hit the fd quota (ENFILE). 12,000 operations pin ~1,000 descriptors per worker.
                while (!stop.IsCancellationRequested && Problems.Count == 0 && Operations < MaxOperationsPerWorker)
                {
                    Step();
                    Operations++;
                }
            }
            catch (Exception e)
            {
                Problems.Add($"{Root}: {e}");
            }
        }

        private void Count(string op) => Counts[op] = Counts.GetValueOrDefault(op) + 1;

        private void Expect(int errno, string what)
        {
            if (errno != 0) Problems.Add($"{Root}: {what}: errno {errno}");
        }

        private (ulong Parent, string Name) Split(string path)
        {
            int slash = path.LastIndexOf('/');
            string dir = slash < 0 ? Root : $"{Root}/{path[..slash]}";
            Expect(client.LookupPath(dir, out FuseEntry parent), $"lookup {dir}");
            return (parent.NodeId, path[(slash + 1)..]);
        }

        private ulong Node(string path)
        {
            Expect(client.LookupPath($"{Root}/{path}", out FuseEntry e), $"lookup {path}");
            return e.NodeId;
        }

        private string Pick(Func<string, bool> where, string[] from)
        {
            var candidates = from.Where(where).ToArray();
            return candidates.Length == 0 ? "" : candidates[_random.Next(candidates.Length)];
        }

        private bool IsFile(string p) => Model.TryGetValue(p, out Node? n) && n is FileNode;
        private bool Absent(string p) => !Model.ContainsKey(p);

        private void Step()
        {
            string file = Pick(IsFile, Names);
            string absent = Pick(Absent, Names);
            string any = Pick(p => Model.TryGetValue(p, out Node? n) && n is not DirNode, Names);
            switch (_random.Next(11))
            {
                case 0 when absent != "":
                {
                    Count("create");
                    var (parent, name) = Split(absent);
                    Expect(client.Create(parent, name, O_CREAT | O_EXCL | O_RDWR, S_IFREG | 0x1A4, out FuseEntry created, out FuseOpenOut open), $"create {absent}");
                    Expect(client.Release(created.NodeId, open.Fh), $"release {absent}");
                    Model[absent] = new FileNode();
                    break;
                }
                case 1 or 2 when file != "":
                {
                    Count("write");
                    var node = (FileNode)Model[file];
                    int offset = _random.Next(Math.Min(node.Data.Length + 100, MaxFileSize - 1));
                    byte[] data = new byte[_random.Next(1, Math.Min(8192, MaxFileSize - offset))];
                    _random.NextBytes(data);
                    ulong id = Node(file);
                    Expect(client.Open(id, O_RDWR, out FuseOpenOut open), $"open {file}");
                    Expect(client.Write(id, open.Fh, (ulong)offset, data, out uint written), $"write {file}");
                    if (written != data.Length) Problems.Add($"{Root}: write {file}: {written} of {data.Length} bytes");
                    Expect(client.Release(id, open.Fh), $"release {file}");
                    if (node.Data.Length < offset + data.Length) Array.Resize(ref node.Data, offset + data.Length);
                    data.CopyTo(node.Data, offset);
                    break;
                }
                case 3 when file != "":
                {
                    Count("read");
                    var node = (FileNode)Model[file];
                    ulong id = Node(file);
                    Expect(client.Open(id, O_RDONLY, out FuseOpenOut open), $"open {file}");
                    Expect(client.Read(id, open.Fh, 0, MaxFileSize + 4096, out byte[] data), $"read {file}");
                    if (!data.AsSpan().SequenceEqual(node.Data)) Problems.Add($"{Root}: read {file}: {data.Length} bytes differ from the {node.Data.Length} written");
                    Expect(client.Release(id, open.Fh), $"release {file}");
                    break;
                }
                case 4 when file != "":
                {
                    Count("truncate");
                    var node = (FileNode)Model[file];
                    int size = _random.Next(MaxFileSize);
                    Expect(client.Setattr(Node(file), FuseSetattrIn.Truncate((ulong)size), out FuseAttr attr), $"truncate {file}");
                    Array.Resize(ref node.Data, size);
                    if (attr.Size != (ulong)size) Problems.Add($"{Root}: truncate {file} to {size}: attr says {attr.Size}");
                    break;
                }
                case 5 when any != "":
                {
                    Count("rename");
                    string to = _random.Next(2) == 0 && absent != "" ? absent : Pick(p => p != any && Model.TryGetValue(p, out Node? n) && n is not DirNode, Names);
                    if (to == "") break;
                    var (fromParent, fromName) = Split(any);
                    var (toParent, toName) = Split(to);
                    Expect(client.Rename(fromParent, fromName, toParent, toName), $"rename {any} -> {to}");
                    // rename(2): two hard links of the same file stay as they are, and the call succeeds.
                    if (Model.TryGetValue(to, out Node? replaced) && ReferenceEquals(replaced, Model[any])) break;
                    Model[to] = Model[any];
                    Model.Remove(any);
                    break;
                }
                case 6 when any != "":
                {
                    Count("unlink");
                    var (parent, name) = Split(any);
                    Expect(client.Unlink(parent, name), $"unlink {any}");
                    Model.Remove(any);
                    break;
                }
                case 7 when file != "" && absent != "":
                {
                    Count("link");
                    var (parent, name) = Split(absent);
                    Expect(client.Link(Node(file), parent, name, out _), $"link {file} -> {absent}");
                    Model[absent] = Model[file];
                    break;
                }
                case 8 when absent != "":
                {
                    Count("symlink");
                    string target = _random.Next(3) == 0 ? "/etc/passwd" : $"../{Names[_random.Next(Names.Length)]}-{_random.Next(1000)}";
                    var (parent, name) = Split(absent);
                    Expect(client.Symlink(parent, name, target, out _), $"symlink {absent}");
                    Model[absent] = new LinkNode(target);
                    break;
                }
                case 9 when file != "":
                {
                    Count("chmod");
                    uint mode = (uint)_random.Next(0x40, 0x200) | 0x180;   // owner keeps rw, as a guest tool would
                    Expect(client.Setattr(Node(file), FuseSetattrIn.Chmod(mode), out _), $"chmod {file}");
                    ((FileNode)Model[file]).Mode = mode;
                    break;
                }
                case 10:
                {
                    string dir = Dirs[_random.Next(Dirs.Length)];
                    var (parent, name) = Split(dir);
                    if (Model.ContainsKey(dir))
                    {
                        Count("rmdir");
                        Expect(client.Rmdir(parent, name), $"rmdir {dir}");
                        Model.Remove(dir);
                    }
                    else
                    {
                        Count("mkdir");
                        Expect(client.Mkdir(parent, name, 0x1ED, out _), $"mkdir {dir}");
                        Model[dir] = new DirNode();
                    }
                    break;
                }
            }
        }

        /// <summary>Every model entry exists on the host exactly as modelled, and nothing else does.</summary>
        public List<string> CompareWithHost(string hostRoot)
        {
            var problems = new List<string>();
            var onHost = Directory.EnumerateFileSystemEntries(hostRoot, "*", SearchOption.AllDirectories)
                .Select(p => Path.GetRelativePath(hostRoot, p)).Where(p => p != "sub").ToHashSet(StringComparer.Ordinal);
            foreach ((string path, Node node) in Model)
            {
                string host = Path.Combine(hostRoot, path);
                if (!onHost.Remove(path))
                {
                    problems.Add($"{Root}/{path}: lost (the model has a {node.GetType().Name})");
                    continue;
                }
                var status = HostFileStatus.Of(host);
                switch (node)
                {
                    case FileNode f:
                        int links = Model.Values.Count(n => ReferenceEquals(n, f));
                        if (status.FileType != S_IFREG) problems.Add($"{Root}/{path}: type {status.FileType:x}, expected a file");
                        else if (!File.ReadAllBytes(host).AsSpan().SequenceEqual(f.Data)) problems.Add($"{Root}/{path}: content differs ({status.Size} bytes on the host, {f.Data.Length} in the model)");
                        if (status.Permissions != f.Mode) problems.Add($"{Root}/{path}: mode {Convert.ToString(status.Permissions, 8)}, expected {Convert.ToString(f.Mode, 8)}");
                        if (status.Nlink != (uint)links) problems.Add($"{Root}/{path}: {status.Nlink} links, expected {links}");
                        break;
                    case LinkNode l:
                        if (status.FileType != S_IFLNK) problems.Add($"{Root}/{path}: type {status.FileType:x}, expected a symlink");
                        else if (new FileInfo(host).LinkTarget != l.Target) problems.Add($"{Root}/{path}: symlink to {new FileInfo(host).LinkTarget}, expected {l.Target}");
                        break;
                    case DirNode:
                        if (status.FileType != S_IFDIR) problems.Add($"{Root}/{path}: type {status.FileType:x}, expected a directory");
                        break;
                }
            }
            foreach (string extra in onHost) problems.Add($"{Root}/{extra}: on the host but not in the model");
            return problems;
        }
    }
}
