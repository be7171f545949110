using VirtioFs.Backend.Interop;
using Xunit;

namespace VirtioFs.Tests.Posix;

/// <summary>
/// Real syscalls through the host kernel's FUSE driver against our server (DevFuseMount): locks, xattrs, tmpfile,
/// copy_file_range, fallocate/lseek, renameat2, credentials of real unprivileged processes, special files.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed unsafe class PosixMountTests : IClassFixture<PosixMountFixture>
{
    private const int EAGAIN = 11, ENODATA = 61, EEXIST = 17;
    private readonly PosixMountFixture _fixture;

    public PosixMountTests(PosixMountFixture fixture) => _fixture = fixture;

    private void AssertHealthy()
    {
        Assert.Null(_fixture.Mount.Fault);
        Assert.Null(_fixture.Server.LastInternalError);
        Assert.Equal(0, _fixture.Server.InternalErrors);
    }

    [Fact]
    public void OfdLocksConflictAndAWaitingLockDoesNotStallTheOnlyServingThread()
    {
        var (mounted, _) = _fixture.NewDirectory("locks");
        string file = Path.Combine(mounted, "f");
        File.WriteAllText(file, "locked");
        File.WriteAllText(Path.Combine(mounted, "other"), "free");
        int a = Native.OpenOk(file, Libc.O_RDWR), b = Native.OpenOk(file, Libc.O_RDWR);
        try
        {
            Assert.Equal(0, Native.OfdLock(a, Libc.F_OFD_SETLK, Libc.F_WRLCK));
            Assert.Equal(EAGAIN, Native.OfdLock(b, Libc.F_OFD_SETLK, Libc.F_WRLCK));
            Assert.Equal(0, Native.OfdLock(b, Libc.F_OFD_SETLK, Libc.F_RDLCK, start: 100, length: 10) == 0 ? 1 : 0);   // conflicts too

            int waitResult = -1;
            var waiter = new Thread(() => waitResult = Native.OfdLock(b, Libc.F_OFD_SETLKW, Libc.F_WRLCK)) { IsBackground = true };
            waiter.Start();
            Assert.False(waiter.Join(300), "SETLKW returned while the lock was held");
            Assert.True(_fixture.Server.WaitingLocks >= 1);
            // The single serving thread still answers: a read of another file goes through.
            File.ReadAllText(Path.Combine(mounted, "other"));
            Assert.Equal("free", File.ReadAllText(Path.Combine(mounted, "other")));

            Assert.Equal(0, Native.OfdLock(a, Libc.F_OFD_SETLK, Libc.F_UNLCK));
            Assert.True(waiter.Join(TimeSpan.FromSeconds(10)), "SETLKW was not granted after the unlock");
            Assert.Equal(0, waitResult);
            Assert.Equal(EAGAIN, Native.OfdLock(a, Libc.F_OFD_SETLK, Libc.F_WRLCK));
            Assert.Equal(0, Native.OfdLock(b, Libc.F_OFD_SETLK, Libc.F_UNLCK));
        }
        finally
        {
            Libc.close(a);
            Libc.close(b);
        }
        AssertHealthy();
    }

    [Fact]
    public void FlockIsRemoteAndPerOpenFile()
    {
        var (mounted, _) = _fixture.NewDirectory("flock");
        string file = Path.Combine(mounted, "f");
        File.WriteAllText(file, "x");
        int a = Native.OpenOk(file, Libc.O_RDONLY), b = Native.OpenOk(file, Libc.O_RDONLY);
        try
        {
            Assert.Equal(0, Native.Errno(Libc.flock(a, Libc.LOCK_EX | Libc.LOCK_NB)));
            Assert.Equal(EAGAIN, Native.Errno(Libc.flock(b, Libc.LOCK_SH | Libc.LOCK_NB)));
            Libc.close(a);
            a = -1;
            Assert.Equal(0, Native.Errno(Libc.flock(b, Libc.LOCK_EX | Libc.LOCK_NB)));
        }
        finally
        {
            if (a >= 0) Libc.close(a);
            Libc.close(b);
        }
        AssertHealthy();
    }

    [Fact]
    public void ExtendedAttributesThroughTheKernel()
    {
        var (mounted, host) = _fixture.NewDirectory("xattr");
        string file = Path.Combine(mounted, "f");
        File.WriteAllText(file, "x");
        Assert.Equal(0, Native.SetXattr(file, "user.one", "1"));
        Assert.Equal(0, Native.SetXattr(file, "user.two", "22"));
        Assert.Equal(EEXIST, Native.SetXattr(file, "user.two", "x", flags: 1));   // XATTR_CREATE
        Assert.Equal("2", Native.GetXattr(file, "user.two", 0));                  // size probe
        Assert.Equal("22", Native.GetXattr(file, "user.two"));
        Assert.Equal("22", Native.GetXattr(Path.Combine(host, "f"), "user.two"));
        Assert.Equal(new[] { "user.one", "user.two" }, Native.ListXattr(file));
        Assert.Equal(0, Native.RemoveXattr(file, "user.one"));
        Assert.Equal(ENODATA, Native.RemoveXattr(file, "user.one"));
        Assert.Equal(new[] { "user.two" }, Native.ListXattr(file));
        AssertHealthy();
    }

    [Fact]
    public void TmpfileCopyFileRangeFallocateSeekAndRenameat2()
    {
        var (mounted, host) = _fixture.NewDirectory("data");
        // O_TMPFILE, then linkat through /proc/self/fd.
        int tmp = Native.OpenOk(mounted, Libc.O_TMPFILE | Libc.O_RDWR, 0x1A4);
        try
        {
            Native.WriteAll(tmp, "unnamed");
            Assert.Empty(Directory.EnumerateFileSystemEntries(host));
            fixed (byte* from = Native.Z($"/proc/self/fd/{tmp}"), to = Native.Z(Path.Combine(mounted, "linked")))
            {
                Assert.Equal(0, Native.Errno(Libc.linkat(Libc.AT_FDCWD, from, Libc.AT_FDCWD, to, Libc.AT_SYMLINK_FOLLOW)));
            }
            Assert.Equal("unnamed", File.ReadAllText(Path.Combine(host, "linked")));

            // copy_file_range from the linked file into a new one.
            int dst = Native.OpenOk(Path.Combine(mounted, "copy"), Libc.O_CREAT | Libc.O_RDWR);
            long inOff = 2, outOff = 0;
            nint copied = Libc.copy_file_range(tmp, &inOff, dst, &outOff, 5, 0);
            Libc.close(dst);
            Assert.Equal(5, copied);
            Assert.Equal("named", File.ReadAllText(Path.Combine(host, "copy")));
        }
        finally
        {
            Libc.close(tmp);
        }

        // fallocate punch hole, then SEEK_HOLE / SEEK_DATA see it.
        string sparse = Path.Combine(mounted, "sparse");
        File.WriteAllBytes(sparse, Enumerable.Repeat((byte)1, 3 << 20).ToArray());
        int fd = Native.OpenOk(sparse, Libc.O_RDWR);
        try
        {
            Assert.Equal(0, Native.Errno(Libc.fallocate(fd, 2 | 1, 1 << 20, 1 << 20)));   // PUNCH_HOLE | KEEP_SIZE
            Assert.Equal(1L << 20, Libc.lseek(fd, 0, Libc.SEEK_HOLE));
            Assert.Equal(2L << 20, Libc.lseek(fd, 1 << 20, Libc.SEEK_DATA));
        }
        finally
        {
            Libc.close(fd);
        }

        File.WriteAllText(Path.Combine(mounted, "x"), "X");
        File.WriteAllText(Path.Combine(mounted, "y"), "Y");
        Assert.Equal(EEXIST, Native.Rename2(Path.Combine(mounted, "x"), Path.Combine(mounted, "y"), 1));   // NOREPLACE
        Assert.Equal(0, Native.Rename2(Path.Combine(mounted, "x"), Path.Combine(mounted, "y"), 2));        // EXCHANGE
        Assert.Equal("Y", File.ReadAllText(Path.Combine(host, "x")));
        Assert.Equal("X", File.ReadAllText(Path.Combine(mounted, "y")));
        AssertHealthy();
    }

    [Fact]
    public void UnprivilegedProcessesCreateTheirOwnFilesAndNeverSetgidRoot()
    {
        var (mounted, host) = _fixture.NewDirectory("creds");
        HostFile.Chmod(mounted, 0x1FF);   // through the mount, so the kernel's cached attributes know
        // A real uid-1000 process without supplementary groups creates a file: it owns it on the host.
        var (code, output) = Native.Run("setpriv", "--reuid=1000", "--regid=1000", "--clear-groups", "touch", Path.Combine(mounted, "mine"));
        Assert.True(code == 0, output);
        Assert.Equal((1000u, 1000u), HostFile.Owner(Path.Combine(host, "mine")));

        // CVE-2022-0358 with a real process: 03777 root directory, open(O_CREAT, 02755).
        string shared = Path.Combine(mounted, "shared");
        Directory.CreateDirectory(shared);
        HostFile.Chmod(shared, 0x400 | 0x200 | 0x1FF);
        (code, output) = Native.Run("setpriv", "--reuid=1000", "--regid=1000", "--clear-groups", "perl", "-e",
            "use Fcntl; umask 0; sysopen(my $f, $ARGV[0], O_CREAT|O_WRONLY, 02755) or die $!", Path.Combine(shared, "escalate"));
        Assert.True(code == 0, output);
        string created = Path.Combine(host, "shared", "escalate");
        Assert.Equal((1000u, 0u), HostFile.Owner(created));
        Assert.Equal(0u, HostFile.Mode(created) & 0x400);
        AssertHealthy();
    }

    [Fact]
    public void KillprivV2WriteByAnUnprivilegedWriterClearsSetuid()
    {
        var (mounted, host) = _fixture.NewDirectory("killpriv");
        HostFile.Chmod(mounted, 0x1FF);
        string file = Path.Combine(mounted, "prog");
        File.WriteAllText(file, "#!/bin/sh\n");
        HostFile.Chmod(file, 0x800 | 0x1FF);   // 04777: anyone may write
        var (code, output) = Native.Run("setpriv", "--reuid=1000", "--regid=1000", "--clear-groups", "sh", "-c", $"echo more >> '{file}'");
        Assert.True(code == 0, output);
        Assert.Equal(0u, HostFile.Mode(Path.Combine(host, "prog")) & 0x800);
        AssertHealthy();
    }

    [Fact]
    public void SpecialFilesAreCreatedListedAndStatted()
    {
        var (mounted, host) = _fixture.NewDirectory("special");
        Assert.Equal(0, Native.Mknod(Path.Combine(mounted, "fifo"), 0x1000 | 0x1A4));
        Assert.Equal(0, Native.Mknod(Path.Combine(mounted, "null"), 0x2000 | 0x1B6, (1 << 8) | 3));
        Assert.Equal(0, Native.Mknod(Path.Combine(mounted, "sock"), 0xC000 | 0x1A4));
        Assert.Equal(new[] { "fifo", "null", "sock" }, Directory.EnumerateFileSystemEntries(mounted).Select(Path.GetFileName).Order().ToArray());
        Assert.Equal(0x1000u, HostFile.Mode(Path.Combine(host, "fifo")) & 0xF000);
        Assert.Equal(0x2000u, HostFile.Mode(Path.Combine(mounted, "null")) & 0xF000);
        Assert.Equal(0xC000u, HostFile.Mode(Path.Combine(mounted, "sock")) & 0xF000);
        // The mount is nodev: the device node cannot be opened through it; the FIFO is the kernel's own pipe.
        Assert.True(Native.Open(Path.Combine(mounted, "null"), Libc.O_RDONLY) < 0);
        int fifo = Native.Open(Path.Combine(mounted, "fifo"), Libc.O_RDONLY | Libc.O_NONBLOCK);
        Assert.True(fifo >= 0);
        Libc.close(fifo);
        AssertHealthy();
    }
}
