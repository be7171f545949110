using VirtioFs.Tests.Frontend;
using Xunit;
using Xunit.Abstractions;
using static VirtioFs.Frontend.Fuse.FuseConstants;

namespace VirtioFs.Tests.Compare;

/// <summary>
/// The issue-3 operations both daemons serve, as a <see cref="RequestSequence"/> on <see cref="PreparedTree.Standard"/>:
/// special files made, listed and never opened (CVE-2020-35517: OPEN, and CREATE without O_EXCL over an existing
/// node), RENAME2 flags including WHITEOUT, set-id modes, FALLOCATE and truncation around them.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class PosixSequence(ITestOutputHelper output)
{
    private const int EBADF = 9, ENOENT = 2, EEXIST = 17, EINVAL = 22;

    public static RequestSequence Build() => new RequestSequence("posix")
        .Add(Step.Mknod("fifo", S_IFIFO | Oct(644), 0))
        .Add(Step.Mknod("sock", S_IFSOCK | Oct(644), 0))
        .Add(Step.Mknod("chr", S_IFCHR | Oct(600), 0))
        .Add(Step.Getattr("fifo", 0))
        .Add(Step.Getattr("sock", 0))
        .Add(Step.Getattr("chr", 0))
        .Add(Step.Readdir("", 0))
        .Add(Step.ReaddirPlus(""))
        .Add(Step.Open("fifo", O_RDONLY, EBADF))
        .Add(Step.Open("fifo", O_WRONLY, EBADF))
        .Add(Step.Open("sock", O_RDWR, EBADF))
        .Add(Step.Open("chr", O_RDWR, EBADF))
        .Add(Step.Create("fifo", Oct(644), O_RDWR | O_CREAT))             // no O_EXCL: must not open the FIFO
        .Add(Step.Create("chr", Oct(644), O_RDWR | O_CREAT | O_EXCL, EEXIST))
        .Add(Step.Lookup("fifo", 0))
        .Add(Step.Rename2("fifo", "fifo2", RenameNoreplace, 0))
        .Add(Step.Rename2("fifo2", "hello.txt", RenameExchange, 0))
        .Add(Step.Getattr("fifo2", 0))
        .Add(Step.Getattr("hello.txt", 0))
        .Add(Step.Rename2("fifo2", "nothing-here", RenameExchange, ENOENT))
        .Add(Step.Rename2("fifo2", "empty", RenameExchange | RenameNoreplace, EINVAL))
        .Add(Step.Rename2("exec.sh", "exec2.sh", RenameWhiteout))
        .Add(Step.Getattr("exec.sh"))
        .Add(Step.Read("exec2.sh", 0, 100, 0))
        .Add(Step.Chmod("exec2.sh", Oct(4755), 0))
        .Add(Step.Getattr("exec2.sh", 0))
        .Add(Step.Chmod("dir", Oct(2775), 0))
        .Add(Step.Mkdir("dir/inherits", Oct(755), 0))
        .Add(Step.Getattr("dir/inherits", 0))
        .Add(Step.Create("dir/new.bin", Oct(640), expect: 0))
        .Add(Step.Fallocate("dir/new.bin", 4096, 4096, 0))
        .Add(Step.Getattr("dir/new.bin", 0))
        .Add(Step.Write("dir/new.bin", 100, "data", 0))
        .Add(Step.Truncate("dir/new.bin", 50, 0))
        .Add(Step.Read("dir/new.bin", 0, 8192, 0))
        .Add(Step.Unlink("sock", 0))
        .Add(Step.Unlink("chr", 0))
        .Add(Step.Readdir("", 0));

    [Fact]
    public void Ours_against_virtiofsd_agrees_on_the_posix_sequence()
    {
        var sequence = Build();
        using var template = new TempDirectory("vfs-template");
        PreparedTree.Standard(template.Path);

        var reference = SequenceRun.Execute(BackendSession.Kind.Virtiofsd, "virtiofsd", template.Path, sequence);
        string? expectations = SequenceComparison.CheckExpectations(sequence, reference);
        Assert.True(expectations is null, expectations);
        var ours = SequenceRun.Execute(BackendSession.Kind.Ours, "ours", template.Path, sequence);
        string? diff = SequenceComparison.Diff(sequence, reference, ours);
        if (diff is not null) output.WriteLine(SequenceComparison.Table(sequence, ours));
        Assert.True(diff is null, diff);
    }
}
