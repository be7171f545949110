using VirtioFs.Backend.Fuse;
using VirtioFs.Backend.Fuse.Abi;
using VirtioFs.Backend.Passthrough;
using VirtioFs.Backend.Share;
using VirtioFs.Host;
using VirtioFs.Tests.Fuse;
using Xunit;

namespace VirtioFs.Tests.Posix;

/// <summary>virtiofsd's options, as virtiofs-host parses them and as the file system applies them.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class OptionTests
{
    [Fact]
    public void CVirtiofsdOptionListMapsOntoShareAndPassthroughOptions()
    {
        HostCommandLine line = HostCommandLine.Parse(["--socket-path=/s", "-o",
            "source=/srv,cache=always,timeout=2.5,xattr,posix_lock,flock,killpriv_v2,allow_direct_io,norace,announce_submounts,xattrmap=:map::user.virtiofs.:"]);
        ShareOptions share = line.ToShareOptions();
        Assert.Empty(line.Notes);
        PassthroughOptions fs = ShareHost.ToPassthroughOptions(share);
        Assert.Equal((CachePolicy.Always, 2.5, true, true, true, true, true, true), (fs.Cache, fs.Timeout, fs.Xattr, fs.PosixLocks, fs.Flock, fs.KillprivV2, fs.AllowDirectIo, fs.AnnounceSubmounts));
        Assert.Equal(":map::user.virtiofs.:", fs.XattrMap);

        share = HostCommandLine.Parse(["--socket-path=/s", "-o", "source=/srv,posix_lock,no_posix_lock,flock,no_flock,killpriv_v2,no_killpriv_v2,allow_direct_io,no_allow_direct_io"]).ToShareOptions();
        Assert.False(share.PosixLocks || share.Flock || share.KillprivV2 || share.AllowDirectIo);
    }

    [Fact]
    public void RustVirtiofsdLongOptionsMapOntoShareOptions()
    {
        HostCommandLine line = HostCommandLine.Parse(["--socket-path=/s", "--shared-dir=/srv", "--no-announce-submounts", "--killpriv-v2",
            "--allow-direct-io", "--rlimit-nofile=5000", "--xattrmap", ":prefix:all::user.x.::bad:all:::", "--inode-file-handles=never"]);
        ShareOptions share = line.ToShareOptions();
        Assert.Empty(line.Notes);
        Assert.False(share.AnnounceSubmounts);
        Assert.True(share.KillprivV2 && share.AllowDirectIo);
        Assert.Equal(5000ul, share.RlimitNofile);
        Assert.Equal(InodeFileHandles.Never, share.InodeFileHandles);
        Assert.Equal(InodeFileHandles.Never, ShareHost.ToPassthroughOptions(share).InodeFileHandles);
        foreach ((string mode, InodeFileHandles expected) in new[] { ("prefer", InodeFileHandles.Prefer), ("fallback", InodeFileHandles.Prefer), ("mandatory", InodeFileHandles.Mandatory) })
        {
            HostCommandLine parsed = HostCommandLine.Parse(["--socket-path=/s", "--shared-dir=/srv", $"--inode-file-handles={mode}"]);
            Assert.Empty(parsed.Notes);
            Assert.Equal(expected, parsed.ToShareOptions().InodeFileHandles);
        }
        Assert.Equal(InodeFileHandles.Prefer, HostCommandLine.Parse(["--socket-path=/s", "--shared-dir=/srv"]).ToShareOptions().InodeFileHandles);

        Assert.Throws<ArgumentException>(() => HostCommandLine.Parse(["--socket-path=/s", "--shared-dir=/x", "--xattrmap=:bogus:all:::"]).ToShareOptions());
        Assert.Throws<ArgumentException>(() => HostCommandLine.Parse(["-o", "timeout=soon"]));
        Assert.Throws<ArgumentException>(() => HostCommandLine.Parse(["--inode-file-handles=sometimes"]));
    }

    [Fact]
    public void ShareOptionDefaultsAreVirtiofsds()
    {
        var share = new ShareOptions { SharedDirectory = "/" };
        Assert.Equal((null, false, false, true, false, false, null, null),
            (share.Timeout, share.PosixLocks, share.Flock, share.AnnounceSubmounts, share.KillprivV2, share.AllowDirectIo, share.XattrMap, share.RlimitNofile));
        var fs = new PassthroughOptions { SharedDirectory = "/" };
        Assert.Equal((null, false, false, true, false, null, null),
            (fs.Timeout, fs.PosixLocks, fs.Flock, fs.AnnounceSubmounts, fs.KillprivV2, fs.XattrMap, fs.RlimitNofile));
        Assert.Equal((InodeFileHandles.Prefer, InodeFileHandles.Prefer), (share.InodeFileHandles, fs.InodeFileHandles));
    }

    [Theory]
    [InlineData(CachePolicy.Never, 0ul, FuseOpenOutFlags.DirectIo, FuseOpenOutFlags.None, false)]
    [InlineData(CachePolicy.Metadata, 86400ul, FuseOpenOutFlags.DirectIo, FuseOpenOutFlags.CacheDir | FuseOpenOutFlags.KeepCache, true)]
    [InlineData(CachePolicy.Auto, 1ul, FuseOpenOutFlags.None, FuseOpenOutFlags.None, true)]
    [InlineData(CachePolicy.Always, 86400ul, FuseOpenOutFlags.KeepCache, FuseOpenOutFlags.CacheDir | FuseOpenOutFlags.KeepCache, true)]
    public void CachePoliciesGiveVirtiofsdsTimeoutsAndOpenFlags(CachePolicy cache, ulong timeout, FuseOpenOutFlags file, FuseOpenOutFlags dir, bool readdirplus)
    {
        using var h = new FuseHarness(share => new PassthroughOptions { SharedDirectory = share, Cache = cache });
        FuseReply created = h.Create(1, "f");
        FuseEntryOut entry = created.Read<FuseEntryOut>();
        Assert.Equal((timeout, timeout), (entry.EntryValid, entry.AttrValid));
        Assert.Equal(file, (FuseOpenOutFlags)created.Read<FuseOpenOut>(System.Runtime.CompilerServices.Unsafe.SizeOf<FuseEntryOut>()).OpenFlags);
        Assert.Equal(file, (FuseOpenOutFlags)h.Open(entry.NodeId).Read<FuseOpenOut>().OpenFlags);
        Assert.Equal(dir, (FuseOpenOutFlags)h.Send(FuseOpcode.OpenDir, 1, new ArgsBuilder().Add(new FuseOpenIn())).Read<FuseOpenOut>().OpenFlags);
        Assert.Equal(timeout, h.GetAttr(1).Read<FuseAttrOut>().AttrValid);
        Assert.Equal(readdirplus, (h.Server.NegotiatedFlags & FuseInitFlags.DoReaddirplus) != 0);
    }

    [Fact]
    public void TimeoutOverridesTheCachePolicyWithNanoseconds()
    {
        using var h = new FuseHarness(share => new PassthroughOptions { SharedDirectory = share, Cache = CachePolicy.Always, Timeout = 2.25 });
        FuseEntryOut entry = h.Create(1, "f").Read<FuseEntryOut>();
        Assert.Equal((2ul, 250_000_000u, 2ul, 250_000_000u), (entry.EntryValid, entry.EntryValidNsec, entry.AttrValid, entry.AttrValidNsec));
        FuseAttrOut attr = h.GetAttr(entry.NodeId).Read<FuseAttrOut>();
        Assert.Equal((2ul, 250_000_000u), (attr.AttrValid, attr.AttrValidNsec));
    }

    [Fact]
    public void WritebackOpensWriteOnlyAsReadWriteAndDropsAppend()
    {
        using var h = new FuseHarness(share => new PassthroughOptions { SharedDirectory = share, Writeback = true });
        Assert.Equal(FuseInitFlags.WritebackCache, h.Server.NegotiatedFlags & FuseInitFlags.WritebackCache);
        File.WriteAllText(Path.Combine(h.Share, "f"), "0123456789");
        ulong node = h.LookupId(1, "f");
        ulong fh = h.Open(node, flags: 1 | 0x400).Read<FuseOpenOut>().Fh;   // O_WRONLY | O_APPEND
        // Readable (the guest page cache reads around partial writes) and positional (no append).
        Assert.Equal("0123", System.Text.Encoding.UTF8.GetString(h.Read(node, fh, 0, 4).Body));
        Assert.Equal(0, h.Write(node, fh, 2, "ab"u8.ToArray()).Errno);
        Assert.Equal("01ab456789", File.ReadAllText(Path.Combine(h.Share, "f")));

        using var plain = new FuseHarness();
        File.WriteAllText(Path.Combine(plain.Share, "f"), "0123456789");
        ulong node2 = plain.LookupId(1, "f");
        ulong fh2 = plain.Open(node2, flags: 1 | 0x400).Read<FuseOpenOut>().Fh;
        Assert.Equal(9, plain.Read(node2, fh2, 0, 4).Errno);   // EBADF: write-only stays write-only
        Assert.Equal(0, plain.Write(node2, fh2, 2, "ab"u8.ToArray()).Errno);
        Assert.Equal("0123456789ab", File.ReadAllText(Path.Combine(plain.Share, "f")));   // O_APPEND kept
    }

    [Fact]
    public void AllowDirectIoKeepsODirectAndAnswersDirectIo()
    {
        using var h = new FuseHarness(share => new PassthroughOptions { SharedDirectory = share, AllowDirectIo = true });
        File.WriteAllText(Path.Combine(h.Share, "f"), "x");
        ulong node = h.LookupId(1, "f");
        int oDirect = VirtioFs.Backend.Interop.Libc.O_DIRECT;
        Assert.Equal(FuseOpenOutFlags.DirectIo, (FuseOpenOutFlags)h.Open(node, flags: (uint)oDirect).Read<FuseOpenOut>().OpenFlags);
        using var strip = new FuseHarness();
        File.WriteAllText(Path.Combine(strip.Share, "f"), "x");
        Assert.Equal(FuseOpenOutFlags.None, (FuseOpenOutFlags)strip.Open(strip.LookupId(1, "f"), flags: (uint)oDirect).Read<FuseOpenOut>().OpenFlags);
    }

    [Fact]
    public void SubmountRootsAreFlaggedOnlyWhenAnnounced()
    {
        // /proc is always another mount: share "/" and look "proc" up.
        using (var h = new FuseHarness(_ => new PassthroughOptions { SharedDirectory = "/" }))
        {
            Assert.Equal(FuseInitFlags.Submounts, h.Server.NegotiatedFlags & FuseInitFlags.Submounts);
            Assert.Equal(1u, h.Lookup(1, "proc").Read<FuseEntryOut>().Attr.Flags & 1);
            Assert.Equal(0u, h.Lookup(1, "etc").Read<FuseEntryOut>().Attr.Flags & 1);
        }
        using (var h = new FuseHarness(_ => new PassthroughOptions { SharedDirectory = "/", AnnounceSubmounts = false }))
        {
            Assert.Equal(FuseInitFlags.None, h.Server.NegotiatedFlags & FuseInitFlags.Submounts);
            Assert.Equal(0u, h.Lookup(1, "proc").Read<FuseEntryOut>().Attr.Flags & 1);
        }
    }

    [Fact]
    public void RlimitNofileIsRaisedNeverLowered()
    {
        ulong before = FdLimit.Current();
        Assert.Equal(before, FdLimit.Raise(16));          // below the current limit: unchanged
        Assert.Equal(before, FdLimit.Raise(0));           // 0: leave it alone
        ulong raised = FdLimit.Raise(null);               // virtiofsd's default target
        Assert.True(raised >= Math.Min(before, FdLimit.DefaultTarget));
        Assert.Equal(raised, FdLimit.Current());
    }

    /// <summary>CVE-2020-10717: a guest that looks up or opens more than its quota gets ENFILE; the daemon keeps serving.</summary>
    [Fact]
    public void FdQuotaAnswersEnfileAndTheShareKeepsServing()
    {
        using var h = new FuseHarness(share => new PassthroughOptions { SharedDirectory = share, FdQuota = 8, InodeFileHandles = InodeFileHandles.Never });
        for (int i = 0; i < 12; i++) File.WriteAllText(Path.Combine(h.Share, $"f{i}"), "x");
        int ok = 0, enfile = 0;
        for (int i = 0; i < 12; i++)
        {
            int errno = h.Lookup(1, $"f{i}").Errno;
            if (errno == 0) ok++;
            else if (errno == 23) enfile++;
        }
        Assert.Equal(7, ok);   // the root counts as one
        Assert.Equal(5, enfile);
        Assert.Equal(23, h.Create(1, "new").Errno);
        Assert.False(File.Exists(Path.Combine(h.Share, "new")));
        Assert.Equal(23, h.Open(h.LookupId(1, "f0")).Errno);   // known: looked up again; but no new handle
        // Forgetting gives the quota back.
        for (int i = 0; i < 7; i++) h.Send(FuseOpcode.Forget, (ulong)(2 + i), new ArgsBuilder().Add(new FuseForgetIn { Nlookup = 1 }));
        Assert.Equal(0, h.Lookup(1, "f11").Errno);
        h.AssertHealthy();
    }
}
