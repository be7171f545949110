using System.Runtime.CompilerServices;
using VirtioFs.Backend.Fuse;
using VirtioFs.Backend.Fuse.Abi;
using VirtioFs.Backend.Passthrough;
using VirtioFs.Tests.Fuse;
using Xunit;

namespace VirtioFs.Tests.Posix;

/// <summary>FALLOCATE, LSEEK, COPY_FILE_RANGE, SYNCFS, TMPFILE, RENAME2 and every SETATTR bit, with raw requests.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class DataOperationTests
{
    private const int EEXIST = 17, EINVAL = 22, EROFS = 30, ENXIO = 6, EBADF = 9;
    private const uint FALLOC_FL_KEEP_SIZE = 1, FALLOC_FL_PUNCH_HOLE = 2, FALLOC_FL_ZERO_RANGE = 0x10;
    private const uint SEEK_DATA = 3, SEEK_HOLE = 4;
    private const uint RENAME_NOREPLACE = 1, RENAME_EXCHANGE = 2, RENAME_WHITEOUT = 4;

    private static FuseReply Fallocate(FuseHarness h, ulong node, ulong fh, uint mode, ulong offset, ulong length)
        => h.Send(FuseOpcode.Fallocate, node, new ArgsBuilder().Add(new FuseFallocateIn { Fh = fh, Mode = mode, Offset = offset, Length = length }));

    private static FuseReply Lseek(FuseHarness h, ulong node, ulong fh, ulong offset, uint whence)
        => h.Send(FuseOpcode.Lseek, node, new ArgsBuilder().Add(new FuseLseekIn { Fh = fh, Offset = offset, Whence = whence }));

    [Fact]
    public void FallocateModesAndSeekDataHole()
    {
        using var h = new FuseHarness();
        var (node, fh) = h.CreateOk(1, "sparse");
        string file = Path.Combine(h.Share, "sparse");
        const int MiB = 1 << 20;

        Assert.Equal(0, Fallocate(h, node, fh, 0, 0, 4 * MiB).Errno);
        Assert.Equal(4 * MiB, new FileInfo(file).Length);
        Assert.Equal(0, Fallocate(h, node, fh, FALLOC_FL_KEEP_SIZE, 4 * MiB, MiB).Errno);
        Assert.Equal(4 * MiB, new FileInfo(file).Length);

        File.WriteAllBytes(file, Enumerable.Repeat((byte)7, 4 * MiB).ToArray());
        Assert.Equal(0, Fallocate(h, node, fh, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, MiB, MiB).Errno);
        Assert.Equal(0, Fallocate(h, node, fh, FALLOC_FL_ZERO_RANGE, 3 * MiB, 4096).Errno);
        byte[] bytes = File.ReadAllBytes(file);
        Assert.Equal(4 * MiB, bytes.Length);
        Assert.True(bytes.AsSpan(MiB, MiB).IndexOfAnyExcept((byte)0) < 0);
        Assert.True(bytes.AsSpan(3 * MiB, 4096).IndexOfAnyExcept((byte)0) < 0);
        Assert.Equal(7, bytes[3 * MiB + 4096]);
        // Punching without KEEP_SIZE: the host's answer (EOPNOTSUPP from ext4's fallocate), passed through.
        Assert.Equal(95, Fallocate(h, node, fh, FALLOC_FL_PUNCH_HOLE, 0, 4096).Errno);

        Assert.Equal((ulong)MiB, Lseek(h, node, fh, 0, SEEK_HOLE).Read<FuseLseekOut>().Offset);
        Assert.Equal((ulong)(2 * MiB), Lseek(h, node, fh, MiB, SEEK_DATA).Read<FuseLseekOut>().Offset);
        Assert.Equal(ENXIO, Lseek(h, node, fh, 8 * MiB, SEEK_DATA).Errno);
        h.AssertHealthy();
    }

    [Fact]
    public void CopyFileRangeBetweenHandles()
    {
        using var h = new FuseHarness();
        File.WriteAllText(Path.Combine(h.Share, "src"), "0123456789abcdef");
        ulong src = h.LookupId(1, "src");
        ulong srcFh = h.Open(src, flags: 0).Read<FuseOpenOut>().Fh;
        var (dst, dstFh) = h.CreateOk(1, "dst");
        var args = new FuseCopyFileRangeIn { FhIn = srcFh, OffIn = 4, NodeIdOut = dst, FhOut = dstFh, OffOut = 2, Len = 8 };
        FuseReply reply = h.Send(FuseOpcode.CopyFileRange, src, new ArgsBuilder().Add(args));
        Assert.Equal(0, reply.Errno);
        Assert.Equal(8u, reply.Read<FuseWriteOut>().Size);
        Assert.Equal("\0\0" + "456789ab", File.ReadAllText(Path.Combine(h.Share, "dst")));

        args.Flags = 1;
        Assert.Equal(EINVAL, h.Send(FuseOpcode.CopyFileRange, src, new ArgsBuilder().Add(args)).Errno);
        args.Flags = 0;
        args.FhOut = 0xdead_0000_0001;
        Assert.Equal(EBADF, h.Send(FuseOpcode.CopyFileRange, src, new ArgsBuilder().Add(args)).Errno);
        h.AssertHealthy();
    }

    [Fact]
    public void SyncfsAnswersForDirectoriesAndFiles()
    {
        using var h = new FuseHarness();
        var (node, _) = h.CreateOk(1, "f");
        Assert.Equal(0, h.Send(FuseOpcode.SyncFs, 1, new byte[8]).Errno);
        Assert.Equal(0, h.Send(FuseOpcode.SyncFs, node, new byte[8]).Errno);
        Assert.Equal(EINVAL, h.Send(FuseOpcode.SyncFs, 1, new byte[4]).Errno);
    }

    [Fact]
    public void TmpfileIsUnnamedUntilLinked()
    {
        using var h = new FuseHarness();
        // The kernel sends fuse_create_in and a made-up name ("/") that is not a component: ignored.
        FuseReply reply = h.Send(FuseOpcode.TmpFile, 1, new ArgsBuilder().Add(new FuseCreateIn { Flags = 2, Mode = 0x8000 | 0x1A0 }).Name("/"));
        Assert.Equal(0, reply.Errno);
        FuseEntryOut entry = reply.Read<FuseEntryOut>();
        ulong fh = reply.Read<FuseOpenOut>(Unsafe.SizeOf<FuseEntryOut>()).Fh;
        Assert.Equal(0u, entry.Attr.Nlink);
        Assert.Equal(0x8000u | 0x1A0, entry.Attr.Mode);
        Assert.Empty(Directory.EnumerateFileSystemEntries(h.Share));
        Assert.Equal(0, h.Write(entry.NodeId, fh, 0, "tmp data"u8.ToArray()).Errno);

        FuseReply link = h.Send(FuseOpcode.Link, 1, new ArgsBuilder().Add(new FuseLinkIn { OldNodeId = entry.NodeId }).Name("named"));
        Assert.Equal(0, link.Errno);
        Assert.Equal(entry.NodeId, link.Read<FuseEntryOut>().NodeId);
        Assert.Equal("tmp data", File.ReadAllText(Path.Combine(h.Share, "named")));

        // O_EXCL: may never be linked.
        reply = h.Send(FuseOpcode.TmpFile, 1, new ArgsBuilder().Add(new FuseCreateIn { Flags = 2 | 0x80, Mode = 0x8000 | 0x1A0 }).Name("/"));
        Assert.Equal(0, reply.Errno);
        ulong excl = reply.Read<FuseEntryOut>().NodeId;
        Assert.NotEqual(0, h.Send(FuseOpcode.Link, 1, new ArgsBuilder().Add(new FuseLinkIn { OldNodeId = excl }).Name("never")).Errno);
        Assert.False(File.Exists(Path.Combine(h.Share, "never")));
        // Read-only access makes no sense for an unnamed file: EINVAL, as open(2).
        Assert.Equal(EINVAL, h.Send(FuseOpcode.TmpFile, 1, new ArgsBuilder().Add(new FuseCreateIn { Flags = 0, Mode = 0x81A0 }).Name("/")).Errno);
        h.AssertHealthy();
    }

    private static FuseReply Rename2(FuseHarness h, string from, string to, uint flags)
        => h.Send(FuseOpcode.Rename2, 1, new ArgsBuilder().Add(new FuseRename2In { NewDir = 1, Flags = flags }).Name(from).Name(to));

    [Fact]
    public void Rename2NoreplaceExchangeAndWhiteout()
    {
        using var h = new FuseHarness();
        File.WriteAllText(Path.Combine(h.Share, "a"), "A");
        File.WriteAllText(Path.Combine(h.Share, "b"), "B");
        Assert.Equal(EEXIST, Rename2(h, "a", "b", RENAME_NOREPLACE).Errno);
        Assert.Equal(0, Rename2(h, "a", "c", RENAME_NOREPLACE).Errno);
        Assert.Equal(0, Rename2(h, "c", "b", RENAME_EXCHANGE).Errno);
        Assert.Equal("B", File.ReadAllText(Path.Combine(h.Share, "c")));
        Assert.Equal("A", File.ReadAllText(Path.Combine(h.Share, "b")));
        Assert.Equal(EINVAL, Rename2(h, "b", "c", RENAME_NOREPLACE | RENAME_EXCHANGE).Errno);
        Assert.Equal(EINVAL, Rename2(h, "b", "c", 0x80).Errno);
        // WHITEOUT (overlayfs in the guest, as root): the old name becomes a 0:0 character device.
        Assert.Equal(0, Rename2(h, "b", "d", RENAME_WHITEOUT).Errno);
        Libc_statx whiteout = Stat(Path.Combine(h.Share, "b"));
        Assert.Equal(0x2000u, whiteout.Mode & 0xF000);
        Assert.Equal(0u, whiteout.Rdev);
        h.AssertHealthy();
    }

    private readonly record struct Libc_statx(uint Mode, uint Rdev);

    private static Libc_statx Stat(string path)
    {
        var st = HostFile.Lstat(path);
        return new Libc_statx(st.stx_mode, st.stx_rdev_major << 8 | st.stx_rdev_minor);
    }

    [Fact]
    public void SetattrEveryValidBit()
    {
        using var h = new FuseHarness();
        var (node, fh) = h.CreateOk(1, "f");
        string file = Path.Combine(h.Share, "f");
        var all = new FuseSetAttrIn
        {
            Valid = (uint)(FuseSetAttrValid.Mode | FuseSetAttrValid.Size | FuseSetAttrValid.Atime | FuseSetAttrValid.Mtime |
                FuseSetAttrValid.Fh | FuseSetAttrValid.LockOwner | FuseSetAttrValid.Ctime),
            Fh = fh,
            Mode = 0x8000 | 0x1C0,
            Size = 10,
            LockOwner = 42,
            Atime = 1_000_000_000, AtimeNsec = 5,
            Mtime = 1_100_000_000, MtimeNsec = 7,
            Ctime = 12345,   // ctime cannot be set on Linux: ignored, as virtiofsd does
        };
        FuseReply reply = h.Send(FuseOpcode.SetAttr, node, new ArgsBuilder().Add(all));
        Assert.Equal(0, reply.Errno);
        FuseAttr attr = reply.Read<FuseAttrOut>().Attr;
        Assert.Equal((0x1C0u, 10ul, 1_000_000_000ul, 5u, 1_100_000_000ul, 7u), (attr.Mode & 0xFFF, attr.Size, attr.Atime, attr.AtimeNsec, attr.Mtime, attr.MtimeNsec));
        Assert.NotEqual(12345ul, attr.Ctime);

        // ATIME_NOW / MTIME_NOW by inode (no handle).
        long before = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 5;
        var now = new FuseSetAttrIn { Valid = (uint)(FuseSetAttrValid.Atime | FuseSetAttrValid.AtimeNow | FuseSetAttrValid.Mtime | FuseSetAttrValid.MtimeNow) };
        attr = h.Send(FuseOpcode.SetAttr, node, new ArgsBuilder().Add(now)).Read<FuseAttrOut>().Attr;
        Assert.True((long)attr.Atime >= before && (long)attr.Mtime >= before);
        // Only mtime: atime is left alone.
        var onlyMtime = new FuseSetAttrIn { Valid = (uint)FuseSetAttrValid.Mtime, Mtime = 7 };
        attr = h.Send(FuseOpcode.SetAttr, node, new ArgsBuilder().Add(onlyMtime)).Read<FuseAttrOut>().Attr;
        Assert.Equal(7ul, attr.Mtime);
        Assert.True((long)attr.Atime >= before);
        Assert.Equal(7, new DateTimeOffset(File.GetLastWriteTimeUtc(file)).ToUnixTimeSeconds());
        // A forged handle with FATTR_FH is refused.
        Assert.Equal(EBADF, h.Send(FuseOpcode.SetAttr, node, new ArgsBuilder().Add(new FuseSetAttrIn { Valid = (uint)(FuseSetAttrValid.Size | FuseSetAttrValid.Fh), Fh = 77 })).Errno);
        h.AssertHealthy();
    }

    [Fact]
    public void ReadonlyShareRefusesEveryMutationWithErofs()
    {
        using var h = new FuseHarness(share => new PassthroughOptions { SharedDirectory = share, ReadOnly = true, Xattr = true });
        File.WriteAllText(Path.Combine(h.Share, "f"), "data");
        Directory.CreateDirectory(Path.Combine(h.Share, "d"));
        ulong node = h.LookupId(1, "f");
        ulong fh = h.Open(node, flags: 0).Read<FuseOpenOut>().Fh;

        Assert.Equal(EROFS, h.Create(1, "new").Errno);
        Assert.Equal(EROFS, h.Mkdir(1, "nd").Errno);
        Assert.Equal(EROFS, h.Send(FuseOpcode.Mknod, 1, new ArgsBuilder().Add(new FuseMknodIn { Mode = 0x1000 | 0x1A4 }).Name("p")).Errno);
        Assert.Equal(EROFS, h.Send(FuseOpcode.Symlink, 1, new ArgsBuilder().Name("l").Name("f")).Errno);
        Assert.Equal(EROFS, h.Send(FuseOpcode.Link, 1, new ArgsBuilder().Add(new FuseLinkIn { OldNodeId = node }).Name("h")).Errno);
        Assert.Equal(EROFS, h.Send(FuseOpcode.Unlink, 1, new ArgsBuilder().Name("f")).Errno);
        Assert.Equal(EROFS, h.Send(FuseOpcode.Rmdir, 1, new ArgsBuilder().Name("d")).Errno);
        Assert.Equal(EROFS, Rename2(h, "f", "g", 0).Errno);
        Assert.Equal(EROFS, h.Open(node, flags: 2).Errno);
        Assert.Equal(EROFS, h.Open(node, flags: 0x200).Errno);   // O_TRUNC
        Assert.Equal(EROFS, h.Write(node, fh, 0, "x"u8.ToArray()).Errno);
        Assert.Equal(EROFS, h.Send(FuseOpcode.SetAttr, node, new ArgsBuilder().Add(new FuseSetAttrIn { Valid = (uint)FuseSetAttrValid.Mode, Mode = 0x1FF })).Errno);
        Assert.Equal(EROFS, Fallocate(h, node, fh, 0, 0, 10).Errno);
        Assert.Equal(EROFS, h.Send(FuseOpcode.SetXattr, node, new ArgsBuilder().Add(new FuseGetxattrIn { Size = 1 }).Name("user.a").Raw("v"u8)).Errno);
        Assert.Equal(EROFS, h.Send(FuseOpcode.RemoveXattr, node, new ArgsBuilder().Name("user.a")).Errno);
        Assert.Equal(EROFS, h.Send(FuseOpcode.TmpFile, 1, new ArgsBuilder().Add(new FuseCreateIn { Flags = 2, Mode = 0x81A4 }).Name("/")).Errno);
        Assert.Equal(EROFS, h.Send(FuseOpcode.CopyFileRange, node, new ArgsBuilder().Add(new FuseCopyFileRangeIn { FhIn = fh, NodeIdOut = node, FhOut = fh, Len = 1 })).Errno);
        Assert.Equal(EROFS, h.Send(FuseOpcode.Access, node, new ArgsBuilder().Add(new FuseAccessIn { Mask = 2 })).Errno);
        // Reading still works, and nothing changed on the host.
        Assert.Equal("data", System.Text.Encoding.UTF8.GetString(h.Read(node, fh, 0, 100).Body));
        Assert.Equal(new[] { "d", "f" }, Directory.EnumerateFileSystemEntries(h.Share).Select(Path.GetFileName).Order().ToArray());
    }
}
