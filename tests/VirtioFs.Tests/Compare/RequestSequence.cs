using static VirtioFs.Frontend.Fuse.FuseConstants;

namespace VirtioFs.Tests.Compare;

/// <summary>An ordered list of <see cref="Step"/>s run against a fresh copy of a <see cref="PreparedTree"/>.</summary>
public sealed class RequestSequence(string name)
{
    private readonly List<Step> _steps = [];

    public string Name { get; } = name;
    public IReadOnlyList<Step> Steps => _steps;

    public RequestSequence Add(Step step)
    {
        _steps.Add(step);
        return this;
    }

    private const int ENOENT = 2, EEXIST = 17, ENOTDIR = 20, EISDIR = 21, EINVAL = 22, ENOTEMPTY = 39;

    /// <summary>
    /// ~55 steps over the everyday operations and their classic errors, on <see cref="PreparedTree.Standard"/>. Steps run
    /// in order and depend on each other (renames move what later steps read).
    /// </summary>
    public static RequestSequence Standard() => new RequestSequence("standard")
        .Add(Step.Lookup("hello.txt", 0))
        .Add(Step.Lookup("missing", ENOENT))
        .Add(Step.Lookup("dir/sub/deep.bin", 0))
        .Add(Step.Lookup("hello.txt/child", ENOTDIR))
        .Add(Step.LookupName("", "dir/a.txt", EINVAL))
        .Add(Step.LookupName("", ".."))
        .Add(Step.Getattr("dir", 0))
        .Add(Step.Readdir("", 0))
        .Add(Step.Readdir("dir", 0))
        .Add(Step.ReaddirPlus("dir"))
        .Add(Step.Readdir("hello.txt", ENOTDIR))
        .Add(Step.Read("hello.txt", 0, 100, 0))
        .Add(Step.Read("dir/sub/deep.bin", 500, 100, 0))
        .Add(Step.Read("dir/sub/deep.bin", 5000, 100, 0))
        .Add(Step.Readlink("link-to-hello", 0))
        .Add(Step.Readlink("dangling", 0))
        .Add(Step.Mkdir("newdir", Oct(755), 0))
        .Add(Step.Mkdir("newdir", Oct(755), EEXIST))
        .Add(Step.Mkdir("missing/x", Oct(755), ENOENT))
        .Add(Step.Create("newdir/f1", Oct(644), expect: 0))
        .Add(Step.Create("exec.sh", Oct(644), expect: EEXIST))
        .Add(Step.Write("newdir/f1", 0, "first line\n", 0))
        .Add(Step.Write("newdir/f1", 100, "after a hole", 0))
        .Add(Step.Read("newdir/f1", 0, 200, 0))
        .Add(Step.Getattr("newdir/f1", 0))
        .Add(Step.Truncate("newdir/f1", 5, 0))
        .Add(Step.Read("newdir/f1", 0, 200, 0))
        .Add(Step.Chmod("newdir/f1", Oct(600), 0))
        .Add(Step.Getattr("newdir/f1", 0))
        .Add(Step.Fallocate("newdir/f1", 0, 8192, 0))
        .Add(Step.Getattr("newdir/f1", 0))
        .Add(Step.Symlink("newdir/l1", "f1", 0))
        .Add(Step.Readlink("newdir/l1", 0))
        .Add(Step.Symlink("newdir/l1", "elsewhere", EEXIST))
        // Linux never sends READLINK for a non-symlink (the VFS answers EINVAL); virtiofsd answers ENOENT. Compared only.
        .Add(Step.Readlink("hello.txt"))
        .Add(Step.Link("hello.txt", "newdir/hard", 0))
        .Add(Step.Getattr("hello.txt", 0))
        .Add(Step.Link("dir", "newdir/dirlink", 1 /* EPERM: no hard links to directories */))
        .Add(Step.Readdir("newdir", 0))
        .Add(Step.Open("dir", O_WRONLY, EISDIR))
        .Add(Step.Rmdir("dir", ENOTEMPTY))
        .Add(Step.Rmdir("hello.txt", ENOTDIR))
        .Add(Step.Unlink("dir", EISDIR))
        .Add(Step.Unlink("missing", ENOENT))
        .Add(Step.Rename("newdir/f1", "dir/a.txt", 0))
        .Add(Step.Read("dir/a.txt", 0, 100, 0))
        .Add(Step.Rename2("hello.txt", "empty", RenameNoreplace, EEXIST))
        .Add(Step.Rename2("hello.txt", "hello2.txt", RenameNoreplace, 0))
        .Add(Step.Rename("emptydir", "hello2.txt", ENOTDIR))
        .Add(Step.Rename("hello2.txt", "dir", EISDIR))
        .Add(Step.Rename("emptydir", "dir", ENOTEMPTY))
        .Add(Step.Rename("dir/sub", "emptydir", 0))
        .Add(Step.Readdir("emptydir", 0))
        .Add(Step.Rename2("exec.sh", "dir", RenameExchange, 0))
        .Add(Step.Getattr("dir", 0))
        .Add(Step.Unlink("newdir/hard", 0))
        .Add(Step.Unlink("newdir/l1", 0))
        .Add(Step.Rmdir("newdir", 0))
        .Add(Step.Lookup("newdir", ENOENT))
        .Add(Step.Mknod("fifo", S_IFIFO | Oct(644), 0))
        .Add(Step.Getattr("fifo", 0))
        .Add(Step.Mknod("fifo", S_IFIFO | Oct(644), EEXIST))
        .Add(Step.Statfs(""))
        .Add(Step.Readdir("", 0));
}
