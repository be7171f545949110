using System.Text;
using VirtioFs.Frontend.Fuse;
using Xunit;
using static VirtioFs.Frontend.Fuse.FuseConstants;

namespace VirtioFs.Tests.Frontend;

/// <summary>FUSE operations through the frontend against the C virtiofsd, checked on the host side of the share.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class VirtiofsdRoundtripTests
{
    private const int ENOENT = 2, EEXIST = 17, ENOTDIR = 20, EISDIR = 21, ENOTEMPTY = 39;

    private static BackendSession Start(string variant = "linux-indirect", Action<string>? prepare = null)
    {
        var (f, c) = FrontendVariants.Get(variant);
        return BackendSession.Start(BackendSession.Kind.Virtiofsd, prepare, f, c);
    }

    [Theory]
    [MemberData(nameof(FrontendVariants.All), MemberType = typeof(FrontendVariants))]
    public void Mkdir_create_write_read_in_every_frontend_shape(string variant)
    {
        using var s = Start(variant);
        var fuse = s.Fuse;
        Assert.Equal(0, fuse.Mkdir(RootNodeId, "dir", Oct(755), out var dir));
        Assert.Equal(S_IFDIR, dir.Attr.FileType);
        Assert.True(Directory.Exists(s.HostPath("dir")));

        Assert.Equal(0, fuse.Create(dir.NodeId, "file", O_RDWR, S_IFREG | Oct(644), out var file, out var open));
        Assert.Equal(S_IFREG, file.Attr.FileType);
        Assert.Equal(0UL, file.Attr.Size);

        // Larger than a page and not page-sized, so the Linux shape splits it over many data descriptors.
        int size = Math.Min(fuse.Options.MaxPayload, 300 * 1024) - 123;
        byte[] data = new byte[size];
        new Random(42).NextBytes(data);
        Assert.Equal(0, fuse.Write(file.NodeId, open.Fh, 0, data, out uint written));
        Assert.Equal((uint)size, written);
        Assert.Equal(0, fuse.Write(file.NodeId, open.Fh, (ulong)size, "tail"u8, out written));
        Assert.Equal(4u, written);
        Assert.Equal(0, fuse.Flush(file.NodeId, open.Fh));
        Assert.Equal(0, fuse.Fsync(file.NodeId, open.Fh));

        byte[] host = File.ReadAllBytes(s.HostPath("dir/file"));
        Assert.Equal(data.Concat("tail"u8.ToArray()).ToArray(), host);

        Assert.Equal(0, fuse.Read(file.NodeId, open.Fh, 0, (uint)size + 100, out byte[] back));
        Assert.Equal(host, back);
        Assert.Equal(0, fuse.Read(file.NodeId, open.Fh, 1000, 10, out byte[] middle));
        Assert.Equal(data.AsSpan(1000, 10).ToArray(), middle);
        Assert.Equal(0, fuse.Release(file.NodeId, open.Fh));

        Assert.Equal(0, fuse.Getattr(file.NodeId, out var attr));
        Assert.Equal((ulong)size + 4, attr.Size);
        Assert.Equal(0, fuse.Lookup(dir.NodeId, "file", out var again));
        Assert.Equal(file.Attr.Ino, again.Attr.Ino);
    }

    [Fact]
    public void Lookup_of_missing_name_is_ENOENT_and_existing_host_file_is_seen()
    {
        using var s = Start(prepare: d => File.WriteAllText(Path.Combine(d, "present.txt"), "12345"));
        Assert.Equal(ENOENT, s.Fuse.Lookup(RootNodeId, "absent", out _));
        Assert.Equal(0, s.Fuse.Lookup(RootNodeId, "present.txt", out var e));
        Assert.Equal(5UL, e.Attr.Size);
        Assert.Equal(S_IFREG, e.Attr.FileType);
        Assert.Equal(1u, e.Attr.Nlink);
    }

    [Fact]
    public void Readdir_and_readdirplus_list_the_host_directory()
    {
        using var s = Start(prepare: d =>
        {
            File.WriteAllText(Path.Combine(d, "a"), "");
            File.WriteAllText(Path.Combine(d, "b"), "");
            Directory.CreateDirectory(Path.Combine(d, "c"));
            for (int i = 0; i < 200; i++) File.WriteAllText(Path.Combine(d, "c", $"entry-with-a-long-name-{i:D4}"), "");
        });
        Assert.Equal(0, s.Fuse.ReadDirectory(RootNodeId, out var entries));
        Assert.Equal(new[] { ".", "..", "a", "b", "c" }, entries.Select(e => e.Name).Order(StringComparer.Ordinal));
        Assert.Equal(4u, entries.Single(e => e.Name == "c").Type); // DT_DIR
        Assert.Equal(8u, entries.Single(e => e.Name == "a").Type); // DT_REG

        Assert.Equal(0, s.Fuse.Lookup(RootNodeId, "c", out var c));
        // 200 names need several 4 KiB READDIR calls: offsets must resume correctly.
        Assert.Equal(0, s.Fuse.ReadDirectory(c.NodeId, out var many, chunk: 1024));
        Assert.Equal(202, many.Count);
        Assert.Equal(202, many.Select(e => e.Name).Distinct().Count());

        Assert.Equal(0, s.Fuse.ReadDirectory(RootNodeId, out var plus, plus: true));
        Assert.Equal(new[] { ".", "..", "a", "b", "c" }, plus.Select(e => e.Name).Order(StringComparer.Ordinal));
        Assert.All(plus.Where(e => e.Name is "a" or "b"), e => Assert.Equal(S_IFREG, e.Entry!.Value.Attr.FileType));
    }

    [Fact]
    public void Rename_rename2_and_their_error_cases()
    {
        using var s = Start(prepare: d =>
        {
            File.WriteAllText(Path.Combine(d, "one"), "1");
            File.WriteAllText(Path.Combine(d, "two"), "22");
            Directory.CreateDirectory(Path.Combine(d, "sub"));
            Directory.CreateDirectory(Path.Combine(d, "full"));
            File.WriteAllText(Path.Combine(d, "full", "x"), "");
        });
        var fuse = s.Fuse;
        // The kernel always looks a name up before RENAME/UNLINK/RMDIR; virtiofsd (C) even answers EIO for a name it
        // has never handed out, so these tests do the same lookups.
        Assert.Equal(0, fuse.Lookup(RootNodeId, "sub", out var sub));
        foreach (string n in new[] { "one", "two", "full" }) Assert.Equal(0, fuse.Lookup(RootNodeId, n, out _));

        Assert.Equal(0, fuse.Rename(RootNodeId, "one", sub.NodeId, "moved"));
        Assert.False(File.Exists(s.HostPath("one")));
        Assert.Equal("1", File.ReadAllText(s.HostPath("sub/moved")));

        Assert.Equal(EEXIST, fuse.Rename2(sub.NodeId, "moved", RootNodeId, "two", RenameNoreplace));
        Assert.Equal("22", File.ReadAllText(s.HostPath("two")));

        Assert.Equal(0, fuse.Rename(sub.NodeId, "moved", RootNodeId, "two")); // over an existing file
        Assert.Equal("1", File.ReadAllText(s.HostPath("two")));

        Assert.Equal(0, fuse.Rename2(RootNodeId, "two", RootNodeId, "three", RenameNoreplace));
        Assert.True(File.Exists(s.HostPath("three")));

        Assert.Equal(ENOENT, fuse.Lookup(RootNodeId, "nothing", out _));
        Assert.Equal(0, fuse.Lookup(RootNodeId, "three", out _));
        Assert.Equal(ENOTDIR, fuse.Rename(RootNodeId, "sub", RootNodeId, "three"));  // dir over file
        Assert.Equal(EISDIR, fuse.Rename(RootNodeId, "three", RootNodeId, "sub"));   // file over dir
        Assert.Equal(ENOTEMPTY, fuse.Rename(RootNodeId, "sub", RootNodeId, "full")); // dir over non-empty dir

        Assert.Equal(0, fuse.Rename2(RootNodeId, "three", RootNodeId, "sub", RenameExchange));
        Assert.True(Directory.Exists(s.HostPath("three")));
        Assert.True(File.Exists(s.HostPath("sub")));
    }

    [Fact]
    public void Symlink_readlink_link_unlink_rmdir()
    {
        using var s = Start(prepare: d =>
        {
            File.WriteAllText(Path.Combine(d, "data"), "payload");
            Directory.CreateDirectory(Path.Combine(d, "full"));
            File.WriteAllText(Path.Combine(d, "full", "x"), "");
        });
        var fuse = s.Fuse;
        Assert.Equal(0, fuse.Symlink(RootNodeId, "ln", "some/where/../data", out var ln));
        Assert.Equal(S_IFLNK, ln.Attr.FileType);
        Assert.Equal("some/where/../data", new FileInfo(s.HostPath("ln")).LinkTarget);
        Assert.Equal(0, fuse.Readlink(ln.NodeId, out string target));
        Assert.Equal("some/where/../data", target);
        Assert.Equal(EEXIST, fuse.Symlink(RootNodeId, "ln", "x", out _));

        Assert.Equal(0, fuse.Lookup(RootNodeId, "data", out var data));
        Assert.Equal(0, fuse.Link(data.NodeId, RootNodeId, "hard", out var hard));
        Assert.Equal(2u, hard.Attr.Nlink);
        Assert.Equal(data.Attr.Ino, hard.Attr.Ino);
        Assert.Equal("payload", File.ReadAllText(s.HostPath("hard")));

        Assert.Equal(0, fuse.Unlink(RootNodeId, "data"));
        Assert.False(File.Exists(s.HostPath("data")));
        Assert.Equal(0, fuse.Getattr(hard.NodeId, out var after));
        Assert.Equal(1u, after.Nlink);
        Assert.Equal(ENOENT, fuse.Lookup(RootNodeId, "data", out _));

        Assert.Equal(0, fuse.Lookup(RootNodeId, "full", out var full));
        Assert.Equal(ENOTEMPTY, fuse.Rmdir(RootNodeId, "full"));
        Assert.Equal(0, fuse.Lookup(full.NodeId, "x", out _));
        Assert.Equal(ENOTDIR, fuse.Rmdir(RootNodeId, "hard"));
        Assert.Equal(EISDIR, fuse.Unlink(RootNodeId, "full"));
        Assert.Equal(0, fuse.Unlink(full.NodeId, "x"));
        Assert.Equal(0, fuse.Rmdir(RootNodeId, "full"));
        Assert.False(Directory.Exists(s.HostPath("full")));
        Assert.Equal(EEXIST, fuse.Mkdir(RootNodeId, "hard", Oct(755), out _));
    }

    [Fact]
    public void Setattr_truncates_and_chmods_on_the_host()
    {
        using var s = Start(prepare: d => File.WriteAllText(Path.Combine(d, "f"), "0123456789"));
        var fuse = s.Fuse;
        Assert.Equal(0, fuse.Lookup(RootNodeId, "f", out var f));
        Assert.Equal(0, fuse.Setattr(f.NodeId, FuseSetattrIn.Truncate(4), out var attr));
        Assert.Equal(4UL, attr.Size);
        Assert.Equal("0123", File.ReadAllText(s.HostPath("f")));

        Assert.Equal(0, fuse.Setattr(f.NodeId, FuseSetattrIn.Chmod(Oct(600)), out attr));
        Assert.Equal(Oct(600), attr.Permissions);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(s.HostPath("f")));

        Assert.Equal(0, fuse.Setattr(f.NodeId, FuseSetattrIn.Times(1_000_000_000, 1_100_000_000), out attr));
        Assert.Equal(1_100_000_000UL, attr.Mtime);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_100_000_000).UtcDateTime, File.GetLastWriteTimeUtc(s.HostPath("f")));

        Assert.Equal(0, fuse.Setattr(f.NodeId, FuseSetattrIn.Truncate(100_000), out attr));
        Assert.Equal(100_000L, new FileInfo(s.HostPath("f")).Length);
    }

    [Fact]
    public void Statfs_access_lseek_fallocate_mknod()
    {
        using var s = Start(prepare: d => File.WriteAllText(Path.Combine(d, "f"), new string('x', 10000)));
        var fuse = s.Fuse;
        Assert.Equal(0, fuse.Statfs(RootNodeId, out var st));
        Assert.Equal(255u, st.Namelen);
        Assert.True(st.Blocks > 0 && st.Bsize > 0);

        int access = fuse.Access(RootNodeId, 7);
        Assert.True(access is 0 or 38, $"ACCESS: errno {access}"); // the C virtiofsd has no access handler: ENOSYS
        Assert.Equal(0, fuse.Lookup(RootNodeId, "f", out var f));
        Assert.Equal(0, fuse.Open(f.NodeId, O_RDWR, out var open));
        Assert.Equal(0, fuse.Lseek(f.NodeId, open.Fh, 0, 2 /* SEEK_END */, out ulong end));
        Assert.Equal(10000UL, end);
        Assert.Equal(0, fuse.Fallocate(f.NodeId, open.Fh, 0, 50000));
        Assert.Equal(50000L, new FileInfo(s.HostPath("f")).Length);
        Assert.Equal(0, fuse.Release(f.NodeId, open.Fh));

        Assert.Equal(0, fuse.Mknod(RootNodeId, "fifo", S_IFIFO | Oct(644), 0, out var fifo));
        Assert.Equal(S_IFIFO, fifo.Attr.FileType);
        Assert.Equal(EEXIST, fuse.Mknod(RootNodeId, "fifo", S_IFIFO | Oct(644), 0, out _));
    }

    [Fact]
    public void Forget_goes_on_hiprio_and_comes_back_with_used_length_zero()
    {
        using var s = Start(prepare: d => File.WriteAllText(Path.Combine(d, "f"), "x"));
        var fuse = s.Fuse;
        Assert.Equal(0, fuse.Lookup(RootNodeId, "f", out var f));
        Assert.Equal(0, fuse.Lookup(RootNodeId, "f", out _));
        Assert.Equal(0, fuse.Forget(f.NodeId, 1));
        Assert.Equal(0, fuse.BatchForget([(f.NodeId, 1)]));
        Assert.True(fuse.WaitForgetsReturned(TimeSpan.FromSeconds(10)), "virtiofsd did not return the FORGET chains");
        Assert.Equal(2, fuse.ForgetsReturned);
        Assert.Equal(0u, fuse.LastForgetUsedLength);
        // The daemon is still healthy afterwards.
        Assert.Equal(0, fuse.Lookup(RootNodeId, "f", out var again));
        Assert.Equal(f.Attr.Ino, again.Attr.Ino);
    }

    [Fact]
    public void Pipelined_reads_complete_with_the_right_data()
    {
        byte[] content = new byte[256 * 1024];
        new Random(7).NextBytes(content);
        using var s = Start(prepare: d => File.WriteAllBytes(Path.Combine(d, "big"), content));
        var fuse = s.Fuse;
        Assert.Equal(0, fuse.Lookup(RootNodeId, "big", out var big));
        Assert.Equal(0, fuse.Open(big.NodeId, O_RDONLY, out var open));

        var offsets = new Dictionary<ulong, int>();
        for (int round = 0; round < 4; round++)
        {
            for (int i = 0; i < 8; i++)
            {
                int offset = (round * 8 + i) * 8192;
                offsets[fuse.SubmitRead(big.NodeId, open.Fh, (ulong)offset, 8192)] = offset;
            }
            byte[] buffer = new byte[8192];
            for (int i = 0; i < 8; i++)
            {
                Assert.True(fuse.TryReap(TimeSpan.FromSeconds(10), out var c, buffer), "pipelined read not completed");
                Assert.Equal(0, c.Errno);
                Assert.Equal(8192, c.BodyLength);
                Assert.Equal(content.AsSpan(offsets[c.Unique], 8192).ToArray(), buffer);
            }
        }
        Assert.Equal(0, fuse.InFlight);
        Assert.Equal(0, fuse.Release(big.NodeId, open.Fh));
    }

    [Fact]
    public void Pipelined_submit_and_reap_do_not_allocate_in_steady_state()
    {
        using var s = Start(prepare: d => File.WriteAllBytes(Path.Combine(d, "f"), new byte[64 * 1024]));
        var fuse = s.Fuse;
        Assert.Equal(0, fuse.Lookup(RootNodeId, "f", out var f));
        Assert.Equal(0, fuse.Open(f.NodeId, O_RDWR, out var open));
        byte[] buffer = new byte[4096];
        int failures = 0; // counted, not asserted, inside the measured loop: xunit's Assert.Equal allocates
        void Round()
        {
            for (int i = 0; i < 8; i++) fuse.SubmitRead(f.NodeId, open.Fh, (ulong)(i * 4096), 4096);
            for (int i = 0; i < 8; i++) fuse.SubmitWrite(f.NodeId, open.Fh, (ulong)(i * 4096), buffer);
            for (int i = 0; i < 16; i++)
            {
                if (!fuse.TryReap(TimeSpan.FromSeconds(10), out var c, buffer) || c.Errno != 0) failures++;
            }
        }
        for (int i = 0; i < 5; i++) Round(); // warm up: slots, JIT
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 50; i++) Round();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, failures);
        Assert.True(allocated < 16 * 1024, $"{allocated} bytes allocated for 800 pipelined requests");
        Assert.Equal(0, fuse.Release(f.NodeId, open.Fh));
    }

    [Fact]
    public void Raw_request_split_over_segments_gets_a_well_formed_reply()
    {
        using var s = Start();
        var fuse = s.Fuse;
        byte[] request = FuseClient.BuildRequest(FuseOpcode.Getattr, fuse.NextUnique(), RootNodeId, new byte[16]);
        var reply = fuse.SendRaw(request, 4096, segments: 5);
        Assert.Equal(0, reply.Errno);
        Assert.Equal((uint)(OutHeaderSize + AttrOutSize), reply.UsedLength);
        Assert.Equal(reply.UsedLength, reply.HeaderLength);
        Assert.Equal(S_IFDIR, FuseAttr.Decode(reply.Body.Slice(16, AttrSize)).FileType);

        byte[] unknown = FuseClient.BuildRequest((FuseOpcode)9999, fuse.NextUnique(), RootNodeId, []);
        Assert.Equal(38 /* ENOSYS */, fuse.SendRaw(unknown, 256).Errno);
    }

    [Fact]
    public void Get_vring_base_reports_how_far_the_backend_got()
    {
        using var s = Start();
        for (int i = 0; i < 5; i++) Assert.Equal(0, s.Fuse.Getattr(RootNodeId, out _));
        var queue = s.Frontend.Queue(1);
        Assert.Equal(queue.AvailIndex, (ushort)s.Frontend.GetVringBase(1));
        Assert.Equal(6, queue.AvailIndex); // INIT + 5 GETATTR
    }

    [Fact]
    public void Disconnect_is_detected_when_the_daemon_dies()
    {
        using var s = Start();
        Assert.True(s.Frontend.IsBackendConnected());
        s.Daemon.Dispose();
        long deadline = Environment.TickCount64 + 5000;
        while (s.Frontend.IsBackendConnected() && Environment.TickCount64 < deadline) Thread.Sleep(20);
        Assert.False(s.Frontend.IsBackendConnected());
        var e = Assert.Throws<TimeoutException>(() => s.Fuse.Getattr(RootNodeId, out _));
        Assert.Contains("closed", e.Message);
    }

    [Fact]
    public void Daemon_exits_when_the_frontend_disconnects()
    {
        using var s = Start();
        s.Frontend.Dispose();
        Assert.True(s.Daemon.WaitForExit(TimeSpan.FromSeconds(10)), "virtiofsd kept running after the frontend closed\n" + s.Daemon.Log);
    }
}
