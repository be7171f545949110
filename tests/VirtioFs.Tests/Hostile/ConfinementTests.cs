using System.Text;
using VirtioFs.Frontend.Fuse;
using Xunit;
using static VirtioFs.Frontend.Fuse.FuseConstants;

namespace VirtioFs.Tests.Hostile;

/// <summary>
/// What a modified guest driver can name: every name-taking operation with paths, dots, empty, over-long and
/// NUL-laden names (GHSA-2gv2-cffp-j227, libkrun #329), ".." from the root, and operations through symlinks planted
/// in the share that point outside. Each gets an errno, the share keeps serving, and inotify plus a snapshot prove that
/// nothing outside the shared directory was opened, read, created or changed.
/// </summary>
public sealed class ConfinementTests : IDisposable
{
    private const int EINVAL = 22, ENOENT = 2, ENOTDIR = 20, ELOOP = 40;

    private readonly ConfinedShare _share = new(xattr: true, clientTimeout: TimeSpan.FromSeconds(5));

    public void Dispose() => _share.Dispose();

    private FuseClient Client => _share.Client;

    public static TheoryData<FuseOpcode> NameTakingOperations() => new()
    {
        FuseOpcode.Lookup, FuseOpcode.Mknod, FuseOpcode.Mkdir, FuseOpcode.Symlink, FuseOpcode.Link, FuseOpcode.Rename,
        FuseOpcode.Rename2, FuseOpcode.Unlink, FuseOpcode.Rmdir, FuseOpcode.Create, FuseOpcode.Tmpfile,
        FuseOpcode.Setxattr, FuseOpcode.Getxattr, FuseOpcode.Removexattr,
    };

    /// <summary>Names no operation may take as a path component; the bool says whether the part before the first NUL is a harmless plain name.</summary>
    private IEnumerable<(string Label, byte[] Name, bool PlainPrefix)> HostileNames()
    {
        yield return ("absolute /etc/x", Encoding.UTF8.GetBytes(EscapeProbe), false);
        yield return ("absolute path into the sentinel", Encoding.UTF8.GetBytes(Path.Combine(_share.OutsideDir, "pwn")), false);
        yield return ("a/b", "a/b"u8.ToArray(), false);
        yield return ("../outside/pwn", "../outside/pwn"u8.ToArray(), false);
        yield return ("..", ".."u8.ToArray(), false);
        yield return (".", "."u8.ToArray(), false);
        yield return ("empty", [], false);
        yield return ("256 bytes", Encoding.ASCII.GetBytes(new string('n', 256)), false);
        yield return ("4096 bytes", Encoding.ASCII.GetBytes(new string('n', 4096)), false);
        yield return ("NUL first", "\0../outside/pwn"u8.ToArray(), false);
        yield return ("NUL inside", "pwn\0/../../outside/pwn"u8.ToArray(), true);
    }

    /// <summary>An absolute host path a confined share can never create (checked before and after).</summary>
    private static readonly string EscapeProbe = $"/etc/vfs-hostile-escape-{Environment.ProcessId}";

    private byte[] RequestWithName(FuseOpcode opcode, byte[] name, ulong file, bool nameSecond)
    {
        ulong unique = Client.NextUnique();
        RawArgs args = opcode switch
        {
            FuseOpcode.Lookup or FuseOpcode.Unlink or FuseOpcode.Rmdir or FuseOpcode.Removexattr => new RawArgs().Name(name),
            FuseOpcode.Mknod => RawArgs.MknodIn(S_IFREG | 0x1A4, 0).Name(name),
            FuseOpcode.Mkdir => RawArgs.MkdirIn(0x1ED).Name(name),
            FuseOpcode.Symlink => new RawArgs().Name(name).Name("target"),
            FuseOpcode.Link => new RawArgs().U64(file).Name(name),
            FuseOpcode.Rename => nameSecond ? new RawArgs().U64(1).Name("file").Name(name) : new RawArgs().U64(1).Name(name).Name("renamed"),
            FuseOpcode.Rename2 => nameSecond ? new RawArgs().U64(1).U32(0).U32(0).Name("file").Name(name) : new RawArgs().U64(1).U32(0).U32(0).Name(name).Name("renamed"),
            FuseOpcode.Create => RawArgs.CreateIn(O_CREAT | O_RDWR, S_IFREG | 0x1A4).Name(name),
            FuseOpcode.Tmpfile => RawArgs.CreateIn(O_RDWR, S_IFREG | 0x1A4).Name(name),
            FuseOpcode.Setxattr => new RawArgs().U32(5).U32(0).Name(name).Bytes("value"u8),
            FuseOpcode.Getxattr => RawArgs.GetxattrIn(64).Name(name),
            _ => throw new ArgumentOutOfRangeException(nameof(opcode)),
        };
        return args.Request(opcode, unique, 1);
    }

    [Theory]
    [MemberData(nameof(NameTakingOperations))]
    public void EveryHostileNameGetsAnErrnoAndNothingEscapes(FuseOpcode opcode)
    {
        Assert.False(File.Exists(EscapeProbe));
        var problems = new List<string>();
        foreach (var (label, name, plainPrefix) in HostileNames())
        {
            foreach (bool nameSecond in opcode is FuseOpcode.Rename or FuseOpcode.Rename2 ? new[] { false, true } : new[] { false })
            {
                string what = $"{opcode} with name {label}{(nameSecond ? " (as the new name)" : "")}";
                ulong file = PrepareInside();
                FuseRawReply reply = Client.SendRaw(RequestWithName(opcode, name, file, nameSecond), 8192);
                Assert.True(reply.HasHeader, $"{what}: no reply header (used length {reply.UsedLength})");
                bool dotLookup = opcode == FuseOpcode.Lookup && label is "." or "..";
                if (dotLookup)
                {
                    // "." and ".." of the root are the root itself: never its host parent.
                    if (reply.Errno != 0 || FuseEntry.Decode(reply.Body).NodeId != 1) problems.Add($"{what}: errno {reply.Errno}, expected the root");
                }
                else if (reply.Errno == 0 && !plainPrefix && opcode != FuseOpcode.Tmpfile)
                {
                    // TMPFILE ignores its name (the kernel sends the "/" of the unnamed dentry, vfs_tmpfile) and makes
                    // an anonymous file in the parent: success is right for it, and what it may touch is checked below.
                    problems.Add($"{what}: succeeded");
                }
                string[] inside = Directory.GetFileSystemEntries(_share.SharedDir).Select(p => Path.GetFileName(p)!).Order().ToArray();
                string[] allowed = ["dir", "file", "pwn", "renamed"];
                if (inside.Except(allowed).Any()) problems.Add($"{what}: the share now holds {string.Join(", ", inside)}");
                if (File.Exists(EscapeProbe)) problems.Add($"{what}: created {EscapeProbe}");
                try
                {
                    _share.AssertConfined(what);
                }
                catch (Exception e)
                {
                    problems.Add(e.Message);
                }
            }
        }
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    /// <summary>Resets the share to shared/file + shared/dir and returns the file's node id.</summary>
    private ulong PrepareInside()
    {
        foreach (string entry in Directory.GetFileSystemEntries(_share.SharedDir))
        {
            string name = Path.GetFileName(entry);
            if (name is "file" or "dir") continue;
            if (Directory.Exists(entry) && !new FileInfo(entry).Attributes.HasFlag(FileAttributes.ReparsePoint)) Directory.Delete(entry, true);
            else File.Delete(entry);
        }
        string file = Path.Combine(_share.SharedDir, "file");
        if (!File.Exists(file)) File.WriteAllText(file, "inside\n");
        Directory.CreateDirectory(Path.Combine(_share.SharedDir, "dir"));
        Assert.Equal(0, Client.Lookup(1, "file", out FuseEntry entryOut));
        return entryOut.NodeId;
    }

    /// <summary>The detector itself: a read, an attribute change and a new file outside are all reported.</summary>
    [Fact]
    public void TheOutsideWatchSeesReadsChangesAndCreations()
    {
        File.ReadAllText(Path.Combine(_share.OutsideDir, "secret.txt"));
        var e = Assert.ThrowsAny<Exception>(() => _share.AssertConfined());
        Assert.Contains("IN_OPEN outside/secret.txt", e.Message);
        File.SetUnixFileMode(Path.Combine(_share.OutsideDir, "dir", "inner.txt"), UnixFileMode.UserRead);
        File.WriteAllText(Path.Combine(_share.Root, "new"), "x");
        e = Assert.ThrowsAny<Exception>(() => _share.AssertConfined());
        Assert.Contains("IN_ATTRIB outside/dir/inner.txt", e.Message);
        Assert.Contains("appeared: new", e.Message);
        File.Delete(Path.Combine(_share.Root, "new"));
        _share.RebaseOutside();
        _share.AssertConfined();
    }

    [Fact]
    public void DotDotOfTheRootNeverReachesItsHostParent()
    {
        Assert.Equal(0, Client.Lookup(1, "..", out FuseEntry up));
        Assert.Equal(1UL, up.NodeId);
        // If ".." had escaped, the host's sibling directory "outside" would be found under it.
        Assert.Equal(ENOENT, Client.Lookup(up.NodeId, "outside", out _));
        Assert.Equal(0, Client.Mkdir(1, "a", 0x1ED, out FuseEntry a));
        Assert.Equal(0, Client.Lookup(a.NodeId, "..", out FuseEntry aUp));
        Assert.Equal(1UL, aUp.NodeId);
        Assert.Equal(0, Client.Lookup(aUp.NodeId, "..", out FuseEntry aUpUp));
        Assert.Equal(1UL, aUpUp.NodeId);
        Assert.Equal(ENOENT, Client.Lookup(aUpUp.NodeId, "run", out _));
        // Creating "next to the root" through "..": still inside.
        Assert.Equal(EINVAL, Client.Mkdir(aUpUp.NodeId, "..", 0x1ED, out _));
        _share.AssertConfined();
    }

    /// <summary>Symlinks the host (or an earlier guest) planted: the share must treat each as a link, never follow it.</summary>
    [Fact]
    public void OperationsThroughPlantedSymlinksNeverFollowThem()
    {
        string shared = _share.SharedDir, outside = _share.OutsideDir;
        File.CreateSymbolicLink(Path.Combine(shared, "root"), "/");
        File.CreateSymbolicLink(Path.Combine(shared, "up"), "../..");
        File.CreateSymbolicLink(Path.Combine(shared, "out"), "../outside");
        File.CreateSymbolicLink(Path.Combine(shared, "outabs"), outside);
        File.CreateSymbolicLink(Path.Combine(shared, "secret"), "../outside/secret.txt");
        File.CreateSymbolicLink(Path.Combine(shared, "victim"), Path.Combine(outside, "victim.txt"));
        File.CreateSymbolicLink(Path.Combine(shared, "fifo"), Path.Combine(outside, "fifo"));
        var problems = new List<string>();
        void Expect(bool ok, string what)
        {
            if (!ok) problems.Add(what);
        }

        foreach (string dirLink in new[] { "root", "up", "out", "outabs" })
        {
            Assert.Equal(0, Client.Lookup(1, dirLink, out FuseEntry link));
            Expect(link.Attr.FileType == S_IFLNK, $"{dirLink} looks like {link.Attr.FileType:x}, not a symlink");
            ulong node = link.NodeId;
            // The link as a parent directory: every name-taking operation must refuse it.
            Expect(Client.Lookup(node, "secret.txt", out _) != 0, $"LOOKUP secret.txt under {dirLink}");
            Expect(Client.Lookup(node, "outside", out _) != 0, $"LOOKUP outside under {dirLink}");
            Expect(Client.Lookup(node, "etc", out _) != 0, $"LOOKUP etc under {dirLink}");
            Expect(Client.Opendir(node, out _) != 0, $"OPENDIR {dirLink}");
            Expect(Client.Mkdir(node, "pwn", 0x1ED, out _) != 0, $"MKDIR under {dirLink}");
            Expect(Client.Mknod(node, "pwn", S_IFREG | 0x1A4, 0, out _) != 0, $"MKNOD under {dirLink}");
            Expect(Client.Create(node, "pwn", O_CREAT | O_RDWR, S_IFREG | 0x1A4, out _, out _) != 0, $"CREATE under {dirLink}");
            Expect(Client.Symlink(node, "pwn", "/", out _) != 0, $"SYMLINK under {dirLink}");
            Expect(Client.Unlink(node, "secret.txt") != 0, $"UNLINK under {dirLink}");
            Expect(Client.Rmdir(node, "dir") != 0, $"RMDIR under {dirLink}");
            Expect(Client.Rename(node, "secret.txt", 1, "stolen") != 0, $"RENAME from under {dirLink}");
            Expect(Client.Rename(1, "root", node, "pwn") != 0, $"RENAME into {dirLink}");
            Expect(Client.Readlink(node, out _) == 0, $"READLINK {dirLink} (reading the link itself is fine)");
        }

        foreach (string fileLink in new[] { "secret", "victim", "fifo" })
        {
            Assert.Equal(0, Client.Lookup(1, fileLink, out FuseEntry link));
            ulong node = link.NodeId;
            Expect(link.Attr.FileType == S_IFLNK, $"{fileLink} is not reported as a symlink");
            foreach (uint flags in new[] { O_RDONLY, O_WRONLY, O_RDWR | O_TRUNC, O_RDONLY | 0x800 /* O_NONBLOCK */ })
            {
                int errno = Client.Open(node, flags, out FuseOpenOut open);
                Expect(errno != 0, $"OPEN {fileLink} flags 0x{flags:x} succeeded");
                if (errno == 0)
                {
                    Client.Read(node, open.Fh, 0, 100, out byte[] data);
                    problems.Add($"  ... and READ returned '{Encoding.UTF8.GetString(data)}'");
                }
            }
            // CREATE over the existing link name, without O_EXCL: must not open (or truncate) the target.
            Expect(Client.Create(1, fileLink, O_CREAT | O_WRONLY | O_TRUNC, S_IFREG | 0x1A4, out _, out _) != 0, $"CREATE over {fileLink}");
            Expect(Client.Setattr(node, FuseSetattrIn.Truncate(0), out _) != 0, $"SETATTR size on {fileLink}");
            Client.Setattr(node, FuseSetattrIn.Chmod(0x1FF), out _);         // may chmod the link itself (a no-op on Linux), never the target
            Client.Setattr(node, FuseSetattrIn.Chown(1234, 1234), out _);    // lchown of the link is fine; the target must keep its owner
            Client.Setattr(node, FuseSetattrIn.Times(1, 1), out _);          // link times are fine; the target's must not move
            foreach (byte[] request in XattrRequests(node))
            {
                Client.SendRaw(request, 4096);   // on the link itself (ENOTSUP/EPERM for user.* on links), never the target
            }
            Expect(Client.Link(node, 1, fileLink + "-hard", out FuseEntry hard) == 0 && hard.Attr.FileType == S_IFLNK,
                $"LINK of {fileLink} must link the symlink itself");
        }
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
        _share.AssertConfined();
    }

    private IEnumerable<byte[]> XattrRequests(ulong node)
    {
        yield return new RawArgs().U32(3).U32(0).Name("user.pwned").Bytes("yes"u8).Request(FuseOpcode.Setxattr, Client.NextUnique(), node);
        yield return RawArgs.GetxattrIn(64).Name("user.pwned").Request(FuseOpcode.Getxattr, Client.NextUnique(), node);
        yield return RawArgs.GetxattrIn(1024).Request(FuseOpcode.Listxattr, Client.NextUnique(), node);
        yield return new RawArgs().Name("user.pwned").Request(FuseOpcode.Removexattr, Client.NextUnique(), node);
    }

    [Fact]
    public void NodeIdsAndHandlesThatWereNeverIssuedAreErrors()
    {
        File.WriteAllText(Path.Combine(_share.SharedDir, "file"), "inside\n");
        Assert.Equal(0, Client.Lookup(1, "file", out FuseEntry file));
        Assert.Equal(0, Client.Open(file.NodeId, O_RDWR, out FuseOpenOut open));
        Assert.Equal(0, Client.Opendir(1, out FuseOpenOut dir));
        Assert.Equal(0, Client.Lookup(1, "file", out FuseEntry forgotten));
        Client.Forget(forgotten.NodeId, ulong.MaxValue);   // forgets both lookups
        Assert.True(Client.WaitForgetsReturned(TimeSpan.FromSeconds(5)));
        Assert.Equal(0, Client.Release(file.NodeId, open.Fh));   // a released handle is forged from now on

        ulong[] badNodes = [0, forgotten.NodeId, file.NodeId + 1_000_000, 1UL << 63, ulong.MaxValue, 0xDEADBEEF];
        ulong[] badHandles = [0, open.Fh, open.Fh + 0x10000, dir.Fh ^ (0xFFUL << 32), 1UL << 63, ulong.MaxValue];   // released, never-issued slots, a wrong generation
        var problems = new List<string>();
        foreach (ulong node in badNodes)
        {
            foreach (var (what, request) in NodeRequests(node))
                Check(what, request);
        }
        foreach (ulong fh in badHandles)
        {
            foreach (var (what, request) in HandleRequests(1, fh))
                Check(what, request);
        }
        // A directory handle used for file I/O, and a file handle used as a directory.
        foreach (var (what, request) in HandleRequests(1, dir.Fh).Where(r => r.What.StartsWith("READ ", StringComparison.Ordinal) || r.What.StartsWith("WRITE", StringComparison.Ordinal)))
            Check("dir handle: " + what, request);
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
        _share.AssertConfined();

        void Check(string what, byte[] request)
        {
            FuseRawReply reply = Client.SendRaw(request, 70000);
            if (!reply.HasHeader) problems.Add($"{what}: no reply");
            else if (reply.Errno == 0) problems.Add($"{what}: succeeded");
        }
    }

    private IEnumerable<(string What, byte[] Request)> NodeRequests(ulong node)
    {
        string n = $"node {node}";
        yield return ($"GETATTR {n}", RawArgs.GetattrIn().Request(FuseOpcode.Getattr, Client.NextUnique(), node));
        yield return ($"SETATTR {n}", RawArgs.SetattrIn(FuseSetattrIn.Truncate(0)).Request(FuseOpcode.Setattr, Client.NextUnique(), node));
        yield return ($"LOOKUP under {n}", new RawArgs().Name("file").Request(FuseOpcode.Lookup, Client.NextUnique(), node));
        yield return ($"MKDIR under {n}", RawArgs.MkdirIn(0x1ED).Name("pwn").Request(FuseOpcode.Mkdir, Client.NextUnique(), node));
        yield return ($"CREATE under {n}", RawArgs.CreateIn(O_CREAT | O_RDWR, S_IFREG | 0x1A4).Name("pwn").Request(FuseOpcode.Create, Client.NextUnique(), node));
        yield return ($"OPEN {n}", RawArgs.OpenIn(O_RDONLY).Request(FuseOpcode.Open, Client.NextUnique(), node));
        yield return ($"OPENDIR {n}", RawArgs.OpenIn(O_RDONLY | O_DIRECTORY).Request(FuseOpcode.Opendir, Client.NextUnique(), node));
        yield return ($"READLINK {n}", new RawArgs().Request(FuseOpcode.Readlink, Client.NextUnique(), node));
        yield return ($"ACCESS {n}", new RawArgs().U32(4).U32(0).Request(FuseOpcode.Access, Client.NextUnique(), node));
        yield return ($"GETXATTR {n}", RawArgs.GetxattrIn(64).Name("user.x").Request(FuseOpcode.Getxattr, Client.NextUnique(), node));
        yield return ($"LINK {n} as the old node", new RawArgs().U64(node).Name("pwn").Request(FuseOpcode.Link, Client.NextUnique(), 1));
        yield return ($"RENAME into {n}", new RawArgs().U64(node).Name("file").Name("pwn").Request(FuseOpcode.Rename, Client.NextUnique(), 1));
    }

    private IEnumerable<(string What, byte[] Request)> HandleRequests(ulong node, ulong fh)
    {
        string h = $"fh {fh}";
        yield return ($"READ {h}", RawArgs.ReadIn(fh, 0, 65536).Request(FuseOpcode.Read, Client.NextUnique(), node));
        byte[] payload = "forged write"u8.ToArray();
        yield return ($"WRITE {h}", RawArgs.WriteIn(fh, 0, (uint)payload.Length).Bytes(payload).Request(FuseOpcode.Write, Client.NextUnique(), node));
        yield return ($"FSYNC {h}", RawArgs.FsyncIn(fh).Request(FuseOpcode.Fsync, Client.NextUnique(), node));
        yield return ($"LSEEK {h}", RawArgs.LseekIn(fh, 0, 3 /* SEEK_DATA */).Request(FuseOpcode.Lseek, Client.NextUnique(), node));
        yield return ($"FALLOCATE {h}", RawArgs.FallocateIn(fh, 0, 4096).Request(FuseOpcode.Fallocate, Client.NextUnique(), node));
        yield return ($"READDIR {h}", RawArgs.ReadIn(fh, 0, 4096).Request(FuseOpcode.Readdir, Client.NextUnique(), node));
        yield return ($"READDIRPLUS {h}", RawArgs.ReadIn(fh, 0, 4096).Request(FuseOpcode.Readdirplus, Client.NextUnique(), node));
        yield return ($"FSYNCDIR {h}", RawArgs.FsyncIn(fh).Request(FuseOpcode.Fsyncdir, Client.NextUnique(), node));
        yield return ($"GETATTR with {h}", RawArgs.GetattrIn(fh).Request(FuseOpcode.Getattr, Client.NextUnique(), node + 1_000_000));
    }
}
