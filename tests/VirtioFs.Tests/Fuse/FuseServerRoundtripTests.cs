using System.Runtime.CompilerServices;
using System.Text;
using VirtioFs.Backend.Fuse.Abi;
using VirtioFs.Backend.Passthrough;
using Xunit;

namespace VirtioFs.Tests.Fuse;

/// <summary>Raw requests against a temp share: each operation's effect on the host and the reply's content.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class FuseServerRoundtripTests
{
    private const uint S_IFDIR = 0x4000, S_IFREG = 0x8000, S_IFLNK = 0xA000;

    [Fact]
    public void LookupAndGetattrReportHostAttributes()
    {
        using var h = new FuseHarness();
        File.WriteAllText(Path.Combine(h.Share, "f"), "12345");
        FuseReply reply = h.Lookup(1, "f");
        Assert.Equal(0, reply.Errno);
        Assert.Equal(16 + 128, reply.UsedLength);
        FuseEntryOut entry = reply.Read<FuseEntryOut>();
        Assert.True(entry.NodeId > 1);
        Assert.Equal(5ul, entry.Attr.Size);
        Assert.Equal(S_IFREG, entry.Attr.Mode & 0xF000);
        Assert.Equal(1ul, entry.EntryValid);   // CachePolicy.Auto
        Assert.Equal(1ul, entry.AttrValid);

        FuseAttrOut attr = h.GetAttr(entry.NodeId).Read<FuseAttrOut>();
        Assert.Equal(entry.Attr.Ino, attr.Attr.Ino);
        Assert.Equal(new FileInfo(Path.Combine(h.Share, "f")).LastWriteTimeUtc,
            DateTime.UnixEpoch.AddSeconds(attr.Attr.Mtime).AddTicks(attr.Attr.MtimeNsec / 100));

        // The same inode looked up twice keeps its node id.
        Assert.Equal(entry.NodeId, h.LookupId(1, "f"));
        Assert.Equal(2, h.Lookup(1, "missing").Errno);
        h.AssertHealthy();
    }

    [Fact]
    public void MkdirCreatesTheExactRequestedMode()
    {
        using var h = new FuseHarness();
        FuseReply reply = h.Mkdir(1, "d", mode: 0x1FF /* 0777: more than a 022 umask lets through */);
        Assert.Equal(0, reply.Errno);
        Assert.Equal(S_IFDIR | 0x1FF, reply.Read<FuseEntryOut>().Attr.Mode);
        Assert.Equal((UnixFileMode)0x1FF, File.GetUnixFileMode(Path.Combine(h.Share, "d")));
        Assert.Equal(17, h.Mkdir(1, "d").Errno);
        h.AssertHealthy();
    }

    [Fact]
    public void CreateWriteReadRoundtripAcrossSplitSegments()
    {
        using var h = new FuseHarness();
        var (node, fh) = h.CreateOk(1, "data.bin");
        Assert.True(File.Exists(Path.Combine(h.Share, "data.bin")));

        var data = new byte[200_000];
        new Random(7).NextBytes(data);
        // Split inside the in_header, inside fuse_write_in, and three times inside the payload.
        FuseReply write = h.Write(node, fh, 0, data, splits: new[] { 7, 50, 1000, 65_536, 150_001 });
        Assert.Equal(0, write.Errno);
        Assert.Equal((uint)data.Length, write.Read<FuseWriteOut>().Size);
        Assert.Equal(data.Length, h.Worker.LastDataWritten);
        Assert.Equal(data, File.ReadAllBytes(Path.Combine(h.Share, "data.bin")));

        // Read into a reply split as a virtqueue would: the out header alone, then odd-sized data buffers.
        FuseReply read = h.Read(node, fh, 1000, 100_000, replySegments: new[] { 16, 4093, 50_000, 60_000 });
        Assert.Equal(0, read.Errno);
        Assert.Equal(16 + 100_000, read.UsedLength);
        Assert.Equal(data.AsSpan(1000, 100_000).ToArray(), read.Body.ToArray());
        Assert.Equal(100_000, h.Worker.LastDataRead);

        // A read past the end is short.
        read = h.Read(node, fh, 199_990, 100);
        Assert.Equal(16 + 10, read.UsedLength);
        Assert.Equal(data.AsSpan(199_990).ToArray(), read.Body.ToArray());

        Assert.Equal(200_000ul, h.GetAttr(node).Read<FuseAttrOut>().Attr.Size);
        Assert.Equal(0, h.Send(FuseOpcode.Flush, node, new ArgsBuilder().Add(new FuseFlushIn { Fh = fh })).Errno);
        Assert.Equal(0, h.Send(FuseOpcode.Fsync, node, new ArgsBuilder().Add(new FuseFsyncIn { Fh = fh, FsyncFlags = 1 })).Errno);
        Assert.Equal(0, h.Release(node, fh).Errno);
        Assert.Equal(9, h.Read(node, fh, 0, 10).Errno);   // stale handle
        Assert.Equal(0, h.FileSystem.HandleCount);
        h.AssertHealthy();
    }

    [Fact]
    public void CreateWithoutExclusiveOpensAnExistingFileAndWithExclusiveFails()
    {
        using var h = new FuseHarness();
        File.WriteAllText(Path.Combine(h.Share, "e"), "existing");
        FuseReply reply = h.Create(1, "e", flags: 2);
        Assert.Equal(0, reply.Errno);
        ulong fh = reply.Read<FuseOpenOut>(Unsafe.SizeOf<FuseEntryOut>()).Fh;
        Assert.Equal("existing"u8.ToArray(), h.Read(reply.Read<FuseEntryOut>().NodeId, fh, 0, 100).Body.ToArray());
        Assert.Equal(17, h.Create(1, "e", flags: 2 | 0x80 /* O_EXCL */).Errno);
        h.AssertHealthy();
    }

    [Fact]
    public void SetattrChangesModeSizeAndTimes()
    {
        using var h = new FuseHarness();
        var (node, fh) = h.CreateOk(1, "s");
        h.Write(node, fh, 0, new byte[1000]);
        string host = Path.Combine(h.Share, "s");

        FuseReply reply = h.Send(FuseOpcode.SetAttr, node, new ArgsBuilder().Add(new FuseSetAttrIn
        {
            Valid = (uint)(FuseSetAttrValid.Mode | FuseSetAttrValid.Size | FuseSetAttrValid.Atime | FuseSetAttrValid.Mtime),
            Mode = S_IFREG | 0x180 /* 0600 */,
            Size = 10,
            Atime = 1_000_000_000,
            AtimeNsec = 5,
            Mtime = 1_100_000_000,
            MtimeNsec = 700,
        }));
        Assert.Equal(0, reply.Errno);
        FuseAttr attr = reply.Read<FuseAttrOut>().Attr;
        Assert.Equal(10ul, attr.Size);
        Assert.Equal(S_IFREG | 0x180, attr.Mode);
        Assert.Equal(1_100_000_000ul, attr.Mtime);
        Assert.Equal(700u, attr.MtimeNsec);
        Assert.Equal(1_000_000_000ul, attr.Atime);
        Assert.Equal(10, new FileInfo(host).Length);
        Assert.Equal((UnixFileMode)0x180, File.GetUnixFileMode(host));

        // Through the handle (FATTR_FH), with MTIME_NOW.
        reply = h.Send(FuseOpcode.SetAttr, node, new ArgsBuilder().Add(new FuseSetAttrIn
        {
            Valid = (uint)(FuseSetAttrValid.Fh | FuseSetAttrValid.Size | FuseSetAttrValid.Mtime | FuseSetAttrValid.MtimeNow),
            Fh = fh,
            Size = 3,
        }));
        Assert.Equal(0, reply.Errno);
        Assert.Equal(3, new FileInfo(host).Length);
        Assert.True(DateTime.UtcNow - File.GetLastWriteTimeUtc(host) < TimeSpan.FromMinutes(5));
        Assert.Equal(1_000_000_000ul, reply.Read<FuseAttrOut>().Attr.Atime);   // atime untouched (UTIME_OMIT)

        // A stale handle with FATTR_FH is refused.
        Assert.Equal(9, h.Send(FuseOpcode.SetAttr, node, new ArgsBuilder().Add(new FuseSetAttrIn
        {
            Valid = (uint)(FuseSetAttrValid.Fh | FuseSetAttrValid.Size),
            Fh = fh + (1UL << 32),
        })).Errno);
        h.AssertHealthy();
    }

    [Fact]
    public void SymlinkReadlinkLinkRenameUnlinkRmdir()
    {
        using var h = new FuseHarness();
        FuseReply symlink = h.Send(FuseOpcode.Symlink, 1, new ArgsBuilder().Name("ln").Name("some/target"));
        Assert.Equal(0, symlink.Errno);
        FuseEntryOut link = symlink.Read<FuseEntryOut>();
        Assert.Equal(S_IFLNK, link.Attr.Mode & 0xF000);
        Assert.Equal("some/target", new FileInfo(Path.Combine(h.Share, "ln")).LinkTarget);
        FuseReply readlink = h.Send(FuseOpcode.ReadLink, link.NodeId, Array.Empty<byte>());
        Assert.Equal("some/target", Encoding.UTF8.GetString(readlink.Body));

        var (file, _) = h.CreateOk(1, "orig");
        FuseReply hard = h.Send(FuseOpcode.Link, 1, new ArgsBuilder().Add(new FuseLinkIn { OldNodeId = file }).Name("hard"));
        Assert.Equal(0, hard.Errno);
        Assert.Equal(file, hard.Read<FuseEntryOut>().NodeId);
        Assert.Equal(2u, hard.Read<FuseEntryOut>().Attr.Nlink);

        ulong dir = h.Mkdir(1, "dir").Read<FuseEntryOut>().NodeId;
        Assert.Equal(0, h.Send(FuseOpcode.Rename, 1, new ArgsBuilder().Add(new FuseRenameIn { NewDir = dir }).Name("orig").Name("moved")).Errno);
        Assert.True(File.Exists(Path.Combine(h.Share, "dir", "moved")));
        Assert.False(File.Exists(Path.Combine(h.Share, "orig")));

        // RENAME2 passes its flags to renameat2: NOREPLACE refuses an existing target, EXCHANGE swaps.
        Assert.Equal(17, h.Send(FuseOpcode.Rename2, 1, new ArgsBuilder().Add(new FuseRename2In { NewDir = dir, Flags = 1 }).Name("hard").Name("moved")).Errno);
        File.WriteAllText(Path.Combine(h.Share, "x"), "X");
        File.WriteAllText(Path.Combine(h.Share, "y"), "Y");
        Assert.Equal(0, h.Send(FuseOpcode.Rename2, 1, new ArgsBuilder().Add(new FuseRename2In { NewDir = 1, Flags = 2 }).Name("x").Name("y")).Errno);
        Assert.Equal("Y", File.ReadAllText(Path.Combine(h.Share, "x")));
        Assert.Equal(22, h.Send(FuseOpcode.Rename2, 1, new ArgsBuilder().Add(new FuseRename2In { NewDir = 1, Flags = 0x80 }).Name("x").Name("y")).Errno);

        Assert.Equal(39, h.Send(FuseOpcode.Rmdir, 1, new ArgsBuilder().Name("dir")).Errno);   // ENOTEMPTY
        Assert.Equal(0, h.Send(FuseOpcode.Unlink, dir, new ArgsBuilder().Name("moved")).Errno);
        Assert.Equal(0, h.Send(FuseOpcode.Rmdir, 1, new ArgsBuilder().Name("dir")).Errno);
        Assert.False(Directory.Exists(Path.Combine(h.Share, "dir")));
        Assert.Equal(2, h.Send(FuseOpcode.Unlink, 1, new ArgsBuilder().Name("nothing")).Errno);
        h.AssertHealthy();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReaddirPagesThroughEveryEntryExactlyOnce(bool plus)
    {
        using var h = new FuseHarness();
        var expected = new HashSet<string> { ".", ".." };
        for (int i = 0; i < 60; i++)
        {
            string name = $"n{i}-{new string('z', i)}";
            expected.Add(name);
            File.WriteAllText(Path.Combine(h.Share, name), name);
        }
        FuseReply open = h.Send(FuseOpcode.OpenDir, 1, new ArgsBuilder().Add(new FuseOpenIn()));
        Assert.Equal(0, open.Errno);
        ulong fh = open.Read<FuseOpenOut>().Fh;

        var seen = new List<DirentParser.Entry>();
        ulong offset = 0;
        FuseOpcode opcode = plus ? FuseOpcode.ReadDirPlus : FuseOpcode.ReadDir;
        for (int round = 0; round < 1000; round++)
        {
            // A small buffer, and a reply split in two, so entries straddle segment boundaries when staged.
            FuseReply reply = h.Send(opcode, 1, new ArgsBuilder().Add(new FuseReadIn { Fh = fh, Offset = offset, Size = 700 }),
                replySegments: new[] { 100, 700 });
            Assert.Equal(0, reply.Errno);
            if (reply.Body.Length == 0) break;
            Assert.True(reply.Body.Length <= 700);
            List<DirentParser.Entry> entries = DirentParser.Parse(reply.Body, plus);
            Assert.NotEmpty(entries);
            seen.AddRange(entries);
            offset = entries[^1].Offset;
        }
        Assert.Equal(expected.Count, seen.Count);
        Assert.True(expected.SetEquals(seen.Select(e => e.Name)));
        foreach (DirentParser.Entry entry in seen)
        {
            bool dots = entry.Name is "." or "..";
            Assert.Equal(dots ? 4u : 8u, entry.Type);   // DT_DIR, DT_REG
            if (!plus) continue;
            if (dots)
            {
                Assert.Equal(0ul, entry.Plus.NodeId);
            }
            else
            {
                Assert.True(entry.Plus.NodeId > 1);
                Assert.Equal((ulong)entry.Name.Length, entry.Plus.Attr.Size);
                Assert.Equal(entry.Ino, entry.Plus.Attr.Ino);
            }
        }
        // READDIRPLUS looked every entry up once (plus the root); READDIR looked nothing up.
        Assert.Equal(plus ? 61 : 1, h.FileSystem.InodeCount);
        Assert.Equal(0, h.Send(FuseOpcode.FsyncDir, 1, new ArgsBuilder().Add(new FuseFsyncIn { Fh = fh })).Errno);
        Assert.Equal(0, h.Release(1, fh, FuseOpcode.ReleaseDir).Errno);
        Assert.Equal(9, h.Send(FuseOpcode.FsyncDir, 1, new ArgsBuilder().Add(new FuseFsyncIn { Fh = fh })).Errno);
        h.AssertHealthy();
    }

    [Fact]
    public void ForgetAndBatchForgetDropNodesWhenTheCountReachesZero()
    {
        using var h = new FuseHarness();
        File.WriteAllText(Path.Combine(h.Share, "a"), "");
        File.WriteAllText(Path.Combine(h.Share, "b"), "");
        ulong a = h.LookupId(1, "a");
        h.LookupId(1, "a");
        ulong b = h.LookupId(1, "b");

        Assert.Equal(0, h.Send(FuseOpcode.Forget, a, new ArgsBuilder().Add(new FuseForgetIn { Nlookup = 1 })).UsedLength);
        Assert.Equal(0, h.GetAttr(a).Errno);
        // More than the lookup count clamps to zero: the node is gone.
        Assert.Equal(0, h.Send(FuseOpcode.Forget, a, new ArgsBuilder().Add(new FuseForgetIn { Nlookup = ulong.MaxValue })).UsedLength);
        Assert.Equal(9, h.GetAttr(a).Errno);

        // BATCH_FORGET: unknown ids ignored; a count larger than the entries present is bounded by the bytes.
        FuseReply batch = h.Send(FuseOpcode.BatchForget, 0, new ArgsBuilder()
            .Add(new FuseBatchForgetIn { Count = 1_000_000 })
            .Add(new FuseForgetOne { NodeId = 987654, Nlookup = 1 })
            .Add(new FuseForgetOne { NodeId = b, Nlookup = 1 }));
        Assert.Equal(0, batch.UsedLength);
        Assert.Equal(9, h.GetAttr(b).Errno);
        Assert.Equal(1, h.FileSystem.InodeCount);

        // The root is never forgotten.
        h.Send(FuseOpcode.Forget, 1, new ArgsBuilder().Add(new FuseForgetIn { Nlookup = 100 }));
        h.AssertHealthy();
    }

    [Fact]
    public void StatfsAccessLseekFallocate()
    {
        using var h = new FuseHarness();
        FuseReply statfs = h.Send(FuseOpcode.StatFs, 1, Array.Empty<byte>());
        Assert.Equal(0, statfs.Errno);
        FuseKstatfs st = statfs.Read<FuseKstatfs>();
        Assert.True(st.Bsize > 0 && st.NameLen >= 255 && st.Blocks > 0);

        var (node, fh) = h.CreateOk(1, "acc");
        h.Send(FuseOpcode.SetAttr, node, new ArgsBuilder().Add(new FuseSetAttrIn { Valid = (uint)FuseSetAttrValid.Mode, Mode = 0x180 }));
        Assert.Equal(0, h.Send(FuseOpcode.Access, node, new ArgsBuilder().Add(new FuseAccessIn { Mask = 6 })).Errno);
        Assert.Equal(13, h.Send(FuseOpcode.Access, node, new ArgsBuilder().Add(new FuseAccessIn { Mask = 4 }), uid: 1000, gid: 1000).Errno);
        Assert.Equal(13, h.Send(FuseOpcode.Access, node, new ArgsBuilder().Add(new FuseAccessIn { Mask = 1 })).Errno);

        Assert.Equal(0, h.Send(FuseOpcode.Fallocate, node, new ArgsBuilder().Add(new FuseFallocateIn { Fh = fh, Offset = 0, Length = 8192 })).Errno);
        Assert.Equal(8192, new FileInfo(Path.Combine(h.Share, "acc")).Length);
        FuseReply seek = h.Send(FuseOpcode.Lseek, node, new ArgsBuilder().Add(new FuseLseekIn { Fh = fh, Offset = 0, Whence = 2 /* SEEK_END */ }));
        Assert.Equal(0, seek.Errno);
        Assert.Equal(8192ul, seek.Read<FuseLseekOut>().Offset);
        h.AssertHealthy();
    }

    [Fact]
    public void XattrRoundtripWhenEnabled()
    {
        using var h = new FuseHarness(share => new PassthroughOptions { SharedDirectory = share, Xattr = true });
        var (node, _) = h.CreateOk(1, "x");
        FuseReply set = h.Send(FuseOpcode.SetXattr, node, new ArgsBuilder().Add(new FuseGetxattrIn { Size = 5 }).Name("user.test").Raw("value"u8));
        Assert.Equal(0, set.Errno);
        FuseReply size = h.Send(FuseOpcode.GetXattr, node, new ArgsBuilder().Add(new FuseGetxattrIn { Size = 0 }).Name("user.test"));
        Assert.Equal(5u, size.Read<FuseGetxattrOut>().Size);
        FuseReply get = h.Send(FuseOpcode.GetXattr, node, new ArgsBuilder().Add(new FuseGetxattrIn { Size = 100 }).Name("user.test"));
        Assert.Equal("value", Encoding.UTF8.GetString(get.Body));
        Assert.Equal(34, h.Send(FuseOpcode.GetXattr, node, new ArgsBuilder().Add(new FuseGetxattrIn { Size = 2 }).Name("user.test")).Errno);
        FuseReply list = h.Send(FuseOpcode.ListXattr, node, new ArgsBuilder().Add(new FuseGetxattrIn { Size = 4096 }));
        Assert.Contains("user.test", Encoding.UTF8.GetString(list.Body).Split('\0'));
        Assert.Equal(0, h.Send(FuseOpcode.RemoveXattr, node, new ArgsBuilder().Name("user.test")).Errno);
        Assert.Equal(61, h.Send(FuseOpcode.GetXattr, node, new ArgsBuilder().Add(new FuseGetxattrIn { Size = 100 }).Name("user.test")).Errno);
        h.AssertHealthy();
    }

    [Fact]
    public void ReadOnlyRefusesModifications()
    {
        using var h = new FuseHarness(share => new PassthroughOptions { SharedDirectory = share, ReadOnly = true });
        File.WriteAllText(Path.Combine(h.Share, "r"), "r");
        ulong node = h.LookupId(1, "r");
        Assert.Equal(30, h.Mkdir(1, "d").Errno);
        Assert.Equal(30, h.Create(1, "c").Errno);
        Assert.Equal(30, h.Open(node, flags: 2).Errno);
        Assert.Equal(30, h.Send(FuseOpcode.Unlink, 1, new ArgsBuilder().Name("r")).Errno);
        Assert.Equal(0, h.Open(node, flags: 0).Errno);
        Assert.Single(Directory.EnumerateFileSystemEntries(h.Share));
        h.AssertHealthy();
    }
}
