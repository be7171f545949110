using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using VirtioFs.Backend.Interop;
using Xunit;

namespace VirtioFs.Tests.Passthrough;

/// <summary>
/// The whole stack against the real kernel FUSE driver: ordinary .NET file APIs (and a few libc calls) through a
/// /dev/fuse mount of the passthrough file system, checked on the host side.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed unsafe class DevFuseMountTests : IClassFixture<MountFixture>
{
    private readonly MountFixture _fixture;

    public DevFuseMountTests(MountFixture fixture) => _fixture = fixture;

    private void AssertServerHealthy()
    {
        Assert.Null(_fixture.Mount.Fault);
        Assert.Null(_fixture.Server.LastInternalError);
        Assert.Equal(0, _fixture.Server.InternalErrors);
    }

    [Fact]
    public void TheMountIsAKernelFuseMountServedByUs()
    {
        string line = File.ReadAllLines("/proc/self/mounts").Single(l => l.Split(' ')[1] == _fixture.MountPoint);
        Assert.Equal("fuse", line.Split(' ')[2]);
        long before = _fixture.Mount.Requests;
        File.WriteAllText(Path.Combine(_fixture.MountPoint, "probe"), "p");
        Assert.True(_fixture.Mount.Requests > before);
        Assert.True(_fixture.Server.IsInitialized);
        Assert.True(File.Exists(Path.Combine(_fixture.Share, "probe")));
        AssertServerHealthy();
    }

    [Fact]
    public void CreateWriteReadBackAndAppend()
    {
        var (mounted, host) = _fixture.NewDirectory("create");
        string file = Path.Combine(mounted, "hello.txt");
        File.WriteAllText(file, "hello, virtio-fs");
        Assert.Equal("hello, virtio-fs", File.ReadAllText(file));
        Assert.Equal("hello, virtio-fs", File.ReadAllText(Path.Combine(host, "hello.txt")));

        File.AppendAllText(file, " and more");
        File.AppendAllText(file, "!");
        Assert.Equal("hello, virtio-fs and more!", File.ReadAllText(Path.Combine(host, "hello.txt")));
        Assert.Equal("hello, virtio-fs and more!", File.ReadAllText(file));
        Assert.Equal(26, new FileInfo(file).Length);
        AssertServerHealthy();
    }

    [Fact]
    public void RenameMovesTheFileOnTheHost()
    {
        var (mounted, host) = _fixture.NewDirectory("rename");
        Directory.CreateDirectory(Path.Combine(mounted, "sub"));
        File.WriteAllText(Path.Combine(mounted, "a"), "A");
        File.Move(Path.Combine(mounted, "a"), Path.Combine(mounted, "sub", "b"));
        Assert.False(File.Exists(Path.Combine(host, "a")));
        Assert.Equal("A", File.ReadAllText(Path.Combine(host, "sub", "b")));
        Assert.False(File.Exists(Path.Combine(mounted, "a")));
        Assert.Equal("A", File.ReadAllText(Path.Combine(mounted, "sub", "b")));

        // Replace an existing target.
        File.WriteAllText(Path.Combine(mounted, "c"), "C");
        File.Move(Path.Combine(mounted, "c"), Path.Combine(mounted, "sub", "b"), overwrite: true);
        Assert.Equal("C", File.ReadAllText(Path.Combine(host, "sub", "b")));
        AssertServerHealthy();
    }

    [Fact]
    public void SymlinkAndReadlink()
    {
        var (mounted, host) = _fixture.NewDirectory("symlink");
        File.WriteAllText(Path.Combine(mounted, "target"), "through the link");
        File.CreateSymbolicLink(Path.Combine(mounted, "link"), "target");
        Assert.Equal("target", new FileInfo(Path.Combine(host, "link")).LinkTarget);
        Assert.Equal("target", new FileInfo(Path.Combine(mounted, "link")).LinkTarget);
        Assert.Equal("through the link", File.ReadAllText(Path.Combine(mounted, "link")));

        // A link whose target points out of the share is stored as text; the guest kernel resolves it on its side.
        File.CreateSymbolicLink(Path.Combine(mounted, "abs"), "/etc/hostname");
        Assert.Equal("/etc/hostname", new FileInfo(Path.Combine(host, "abs")).LinkTarget);
        AssertServerHealthy();
    }

    [Fact]
    public void HardLinkSharesTheInode()
    {
        var (mounted, host) = _fixture.NewDirectory("hardlink");
        File.WriteAllText(Path.Combine(mounted, "one"), "same");
        byte[] from = Encoding.UTF8.GetBytes(Path.Combine(mounted, "one") + "\0");
        byte[] to = Encoding.UTF8.GetBytes(Path.Combine(mounted, "two") + "\0");
        fixed (byte* f = from)
        fixed (byte* t = to)
        {
            Assert.Equal(0, Libc.linkat(Libc.AT_FDCWD, f, Libc.AT_FDCWD, t, 0));
        }
        Assert.Equal("same", File.ReadAllText(Path.Combine(host, "two")));
        Assert.Equal(HostInode(Path.Combine(host, "one")), HostInode(Path.Combine(host, "two")));
        File.AppendAllText(Path.Combine(mounted, "two"), "!");
        Assert.Equal("same!", File.ReadAllText(Path.Combine(mounted, "one")));
        AssertServerHealthy();
    }

    [Fact]
    public void ChmodTruncateAndUtimes()
    {
        var (mounted, host) = _fixture.NewDirectory("attrs");
        string file = Path.Combine(mounted, "f");
        File.WriteAllText(file, "0123456789abcdef");

        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(Path.Combine(host, "f")));
        Assert.Equal(File.GetUnixFileMode(Path.Combine(host, "f")), File.GetUnixFileMode(file));

        using (var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite))
        {
            stream.SetLength(10);
        }
        Assert.Equal(10, new FileInfo(Path.Combine(host, "f")).Length);
        Assert.Equal("0123456789", File.ReadAllText(file));

        var when = new DateTime(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(file, when);
        File.SetLastAccessTimeUtc(file, when.AddDays(1));
        Assert.Equal(when, File.GetLastWriteTimeUtc(Path.Combine(host, "f")));
        Assert.Equal(when.AddDays(1), File.GetLastAccessTimeUtc(Path.Combine(host, "f")));
        Assert.Equal(when, File.GetLastWriteTimeUtc(file));

        // utimensat with UTIME_NOW (FATTR_MTIME_NOW).
        byte[] path = Encoding.UTF8.GetBytes(file + "\0");
        Libc.timespec* times = stackalloc Libc.timespec[2];
        times[0] = new Libc.timespec { tv_nsec = Libc.UTIME_OMIT };
        times[1] = new Libc.timespec { tv_nsec = Libc.UTIME_NOW };
        fixed (byte* p = path)
        {
            Assert.Equal(0, Libc.utimensat(Libc.AT_FDCWD, p, times, 0));
        }
        Assert.True(DateTime.UtcNow - File.GetLastWriteTimeUtc(Path.Combine(host, "f")) < TimeSpan.FromMinutes(5));
        AssertServerHealthy();
    }

    [Fact]
    public void NewNodesGetTheRequestedModeDespiteOurUmask()
    {
        var (mounted, host) = _fixture.NewDirectory("modes");
        Directory.CreateDirectory(Path.Combine(mounted, "open"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
            UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute);
        // The kernel applies the test process's umask (usually 022) before sending MKDIR; what arrives must be
        // reproduced exactly on the host, whatever our own umask is.
        Assert.Equal(File.GetUnixFileMode(Path.Combine(mounted, "open")), File.GetUnixFileMode(Path.Combine(host, "open")));
        AssertServerHealthy();
    }

    [Fact]
    public void MkdirRmdirAndUnlink()
    {
        var (mounted, host) = _fixture.NewDirectory("dirs");
        Directory.CreateDirectory(Path.Combine(mounted, "a", "b", "c"));
        Assert.True(Directory.Exists(Path.Combine(host, "a", "b", "c")));
        File.WriteAllText(Path.Combine(mounted, "a", "b", "c", "f"), "x");

        Assert.Throws<IOException>(() => Directory.Delete(Path.Combine(mounted, "a", "b")));   // ENOTEMPTY
        File.Delete(Path.Combine(mounted, "a", "b", "c", "f"));
        Assert.False(File.Exists(Path.Combine(host, "a", "b", "c", "f")));
        Directory.Delete(Path.Combine(mounted, "a", "b", "c"));
        Assert.False(Directory.Exists(Path.Combine(host, "a", "b", "c")));
        Directory.Delete(Path.Combine(mounted, "a"), recursive: true);
        Assert.False(Directory.Exists(Path.Combine(host, "a")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(mounted));
        AssertServerHealthy();
    }

    [Fact]
    public void DirectoryWithTwoThousandEntriesIsListedCompletely()
    {
        var (mounted, host) = _fixture.NewDirectory("many");
        var expected = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < 2000; i++)
        {
            // Names of varying length, so records of different sizes straddle reply boundaries.
            string name = $"entry-{i:D4}-{new string('x', i % 97)}";
            expected.Add(name);
            File.WriteAllBytes(Path.Combine(host, name), Array.Empty<byte>());
        }
        string[] listed = Directory.GetFiles(mounted).Select(Path.GetFileName).ToArray()!;
        Assert.Equal(2000, listed.Length);
        Assert.True(expected.SetEquals(listed));

        // Again, now through the guest's dentry/attribute caches, and via creations through the mount.
        File.WriteAllText(Path.Combine(mounted, "one-more"), "");
        Assert.Equal(2001, Directory.GetFiles(mounted).Length);
        AssertServerHealthy();
    }

    [Fact]
    public void SixtyFourMebibyteFileHasTheSameSha256OnTheHost()
    {
        var (mounted, host) = _fixture.NewDirectory("big");
        string file = Path.Combine(mounted, "big.bin");
        var random = new Random(1234);
        var chunk = new byte[1 << 20];
        using var writeHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using (var stream = new FileStream(file, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0))
        {
            for (int i = 0; i < 64; i++)
            {
                random.NextBytes(chunk);
                writeHash.AppendData(chunk);
                stream.Write(chunk);
            }
        }
        byte[] written = writeHash.GetHashAndReset();
        Assert.Equal(64L << 20, new FileInfo(Path.Combine(host, "big.bin")).Length);
        using (var hostStream = File.OpenRead(Path.Combine(host, "big.bin")))
        {
            Assert.Equal(written, SHA256.HashData(hostStream));
        }
        using (var mountedStream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0))
        {
            Assert.Equal(written, SHA256.HashData(mountedStream));
        }
        AssertServerHealthy();
    }

    [Fact]
    public void StatfsAndRandomAccessWork()
    {
        var (mounted, host) = _fixture.NewDirectory("random");
        string file = Path.Combine(mounted, "r");
        using (var stream = new FileStream(file, FileMode.Create, FileAccess.ReadWrite, FileShare.None, bufferSize: 0))
        {
            stream.Position = 100_000;
            stream.Write("tail"u8);
            stream.Position = 10;
            stream.Write("head"u8);
            stream.Position = 8;
            var buffer = new byte[8];
            Assert.Equal(8, stream.Read(buffer));
            Assert.Equal(new byte[] { 0, 0, (byte)'h', (byte)'e', (byte)'a', (byte)'d', 0, 0 }, buffer);
        }
        Assert.Equal(100_004, new FileInfo(Path.Combine(host, "r")).Length);

        byte[] path = Encoding.UTF8.GetBytes(mounted + "\0");
        Libc.statfs_t st;
        fixed (byte* p = path)
        {
            int fd = Libc.openat(Libc.AT_FDCWD, p, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
            Assert.True(fd >= 0);
            try
            {
                Assert.Equal(0, Libc.fstatfs(fd, &st));
            }
            finally
            {
                Libc.close(fd);
            }
        }
        Assert.True(st.f_bsize > 0);
        Assert.True(st.f_namelen >= 255);
        AssertServerHealthy();
    }

    private static ulong HostInode(string path)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(path + "\0");
        Libc.statx_t st;
        fixed (byte* p = bytes)
        {
            Assert.Equal(0, Libc.statx(Libc.AT_FDCWD, p, Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_BASIC_STATS, &st));
        }
        return st.stx_ino;
    }
}
