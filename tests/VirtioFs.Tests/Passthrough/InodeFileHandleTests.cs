using System.Runtime.CompilerServices;
using VirtioFs.Backend.Fuse.Abi;
using VirtioFs.Backend.Interop;
using VirtioFs.Backend.Passthrough;
using VirtioFs.Tests.Fuse;
using VirtioFs.Tests.Share;
using Xunit;

namespace VirtioFs.Tests.Passthrough;

/// <summary>
/// --inode-file-handles: inodes held by name_to_handle_at handles cost no descriptor; their O_PATH descriptors are
/// reopened on demand and only a bounded number is cached; file systems without handles fall back per mount (prefer)
/// or refuse (mandatory); an inode that loses its last name while the guest knows it keeps working.
/// The tests run as root (CAP_DAC_READ_SEARCH); as anyone else, prefer must say why it holds descriptors instead.
/// </summary>
[Collection(ProcessWideCountsCollection.Name)]
public sealed class InodeFileHandleTests
{
    private const int ESTALE = 116, EOPNOTSUPP = 95;

    private static bool Privileged => Libc.geteuid() == 0;

    private static FuseHarness Harness(InodeFileHandles mode = InodeFileHandles.Prefer, int cache = 128, string? shared = null)
        => new(share => new PassthroughOptions { SharedDirectory = shared ?? share, InodeFileHandles = mode, InodeFdCacheSize = cache });

    [Fact]
    public void PreferUsesFileHandlesWhenPrivilegedAndSaysWhyNotOtherwise()
    {
        using FuseHarness h = Harness();
        Assert.Equal(Privileged, h.FileSystem.UsesFileHandles);
        if (Privileged) Assert.Null(h.FileSystem.FileHandlesUnavailableReason);
        else Assert.Contains("CAP_DAC_READ_SEARCH", h.FileSystem.FileHandlesUnavailableReason);

        using FuseHarness never = Harness(InodeFileHandles.Never);
        Assert.False(never.FileSystem.UsesFileHandles);
        Assert.Null(never.FileSystem.FileHandlesUnavailableReason);
    }

    [Fact]
    public void HandleHeldInodesHoldNoDescriptorAndTheCacheStaysBounded()
    {
        Assert.True(Privileged, "these tests run as root");
        const int Files = 600, Cache = 16;
        using FuseHarness h = Harness(cache: Cache);
        for (int i = 0; i < Files; i++) File.WriteAllText(Path.Combine(h.Share, $"f{i:D4}"), $"content {i}");
        int fdsBefore = OpenFds();

        var ids = new ulong[Files];
        for (int i = 0; i < Files; i++) ids[i] = h.LookupId(1, $"f{i:D4}");
        Assert.Equal(1, h.FileSystem.HeldFdCount);   // the root only
        Assert.InRange(h.FileSystem.CachedFdCount, 1, Cache);
        Assert.InRange(OpenFds() - fdsBefore, 0, Cache + 4);

        // Every inode reopens from its handle, twice around (the cache keeps evicting), and is still the same file.
        for (int round = 0; round < 2; round++)
        {
            for (int i = 0; i < Files; i++)
            {
                FuseReply attr = h.GetAttr(ids[i]);
                Assert.Equal(0, attr.Errno);
                Assert.Equal((ulong)$"content {i}".Length, attr.Read<FuseAttrOut>().Attr.Size);
            }
        }
        Assert.InRange(h.FileSystem.CachedFdCount, 1, Cache);
        Assert.InRange(OpenFds() - fdsBefore, 0, Cache + 4);

        // Reading through a handle-held inode: OPEN reopens it through /proc/self/fd.
        FuseReply opened = h.Open(ids[7], 0);
        Assert.Equal(0, opened.Errno);
        ulong fh = opened.Read<FuseOpenOut>().Fh;
        FuseReply read = h.Read(ids[7], fh, 0, 64);
        Assert.Equal("content 7", System.Text.Encoding.UTF8.GetString(read.Body));
        Assert.Equal(2, h.FileSystem.HeldFdCount);   // root + the open handle
        h.Release(ids[7], fh);

        foreach (ulong id in ids) Forget(h, id);
        Assert.Equal(0, h.FileSystem.CachedFdCount);
        Assert.Equal(fdsBefore, OpenFds());
        h.AssertHealthy();
    }

    [Fact]
    public void NeverHoldsADescriptorPerInode()
    {
        using FuseHarness h = Harness(InodeFileHandles.Never);
        for (int i = 0; i < 20; i++) File.WriteAllText(Path.Combine(h.Share, $"f{i}"), "x");
        int before = OpenFds();
        for (int i = 0; i < 20; i++) h.LookupId(1, $"f{i}");
        Assert.Equal(21, h.FileSystem.HeldFdCount);
        Assert.Equal(0, h.FileSystem.CachedFdCount);
        Assert.Equal(20, OpenFds() - before);
    }

    [Fact]
    public void DirectoriesAndTheirEntriesWorkThroughReopenedHandles()
    {
        using FuseHarness h = Harness(cache: 1);
        Directory.CreateDirectory(Path.Combine(h.Share, "a", "b"));
        File.WriteAllText(Path.Combine(h.Share, "a", "b", "leaf"), "leaf");
        ulong a = h.LookupId(1, "a");
        ulong b = h.LookupId(a, "b");
        ulong leaf = h.LookupId(b, "leaf");
        // With a cache of one, each step reopens its parent from the handle.
        Assert.Equal(0, h.Mkdir(b, "made").Errno);
        Assert.Equal(0, h.Send(FuseOpcode.Symlink, a, new ArgsBuilder().Name("link").Name("b/leaf")).Errno);
        (ulong created, ulong fh) = h.CreateOk(b, "created");
        h.Release(created, fh);
        Assert.Equal(0, h.Send(FuseOpcode.Rename, b, new ArgsBuilder().Add(new FuseRenameIn { NewDir = a }).Name("created").Name("moved")).Errno);
        Assert.Equal(0, h.Send(FuseOpcode.Link, a, new ArgsBuilder().Add(new FuseLinkIn { OldNodeId = leaf }).Name("hard")).Errno);
        Assert.True(File.Exists(Path.Combine(h.Share, "a", "moved")));
        Assert.Equal(2u, h.GetAttr(leaf).Read<FuseAttrOut>().Attr.Nlink);
        Assert.Equal(0, h.Lookup(a, "..").Errno);
        Assert.Equal(1, h.FileSystem.HeldFdCount);
        h.AssertHealthy();
    }

    /// <summary>
    /// A file the guest holds open and unlinks must keep working (fstat, fchmod, xattr, locks go by node id), although
    /// open_by_handle_at cannot reopen an unlinked inode: its descriptor is kept from the unlink on.
    /// </summary>
    [Fact]
    public void AnInodeThatLosesItsLastNameStaysUsable()
    {
        using FuseHarness h = Harness(cache: 1);
        File.WriteAllText(Path.Combine(h.Share, "other"), "o");
        File.WriteAllText(Path.Combine(h.Share, "replaced"), "r");
        File.WriteAllText(Path.Combine(h.Share, "linked"), "l");
        (ulong node, ulong fh) = h.CreateOk(1, "victim");
        ulong replaced = h.LookupId(1, "replaced");
        ulong linked = h.LookupId(1, "linked");
        HardLink(Path.Combine(h.Share, "linked"), Path.Combine(h.Share, "second-name"));
        ulong other = h.LookupId(1, "other");

        Assert.Equal(0, h.Send(FuseOpcode.Unlink, 1, new ArgsBuilder().Name("victim")).Errno);
        Assert.Equal(0, h.Send(FuseOpcode.Rename, 1, new ArgsBuilder().Add(new FuseRenameIn { NewDir = 1 }).Name("other").Name("replaced")).Errno);
        Assert.Equal(0, h.Send(FuseOpcode.Unlink, 1, new ArgsBuilder().Name("linked")).Errno);   // still has a second name
        Assert.Equal(4, h.FileSystem.HeldFdCount);   // root, the open handle, victim and replaced (not linked: it has a name left)
        for (int i = 0; i < 3; i++) h.GetAttr(other);   // churn the one-slot cache

        FuseReply attr = h.GetAttr(node);
        Assert.Equal(0, attr.Errno);
        Assert.Equal(0u, attr.Read<FuseAttrOut>().Attr.Nlink);
        FuseReply chmod = h.Send(FuseOpcode.SetAttr, node, new ArgsBuilder().Add(new FuseSetAttrIn { Valid = (uint)FuseSetAttrValid.Mode, Mode = 0x180 }));
        Assert.Equal(0, chmod.Errno);
        Assert.Equal(0x180u, chmod.Read<FuseAttrOut>().Attr.Mode & 0xFFF);
        Assert.Equal(0, h.GetAttr(replaced).Errno);
        Assert.Equal(0u, h.GetAttr(replaced).Read<FuseAttrOut>().Attr.Nlink);
        Assert.Equal(1u, h.GetAttr(linked).Read<FuseAttrOut>().Attr.Nlink);
        h.Release(node, fh);

        Forget(h, node);
        Forget(h, replaced);
        Assert.Equal(1, h.FileSystem.HeldFdCount);
        h.AssertHealthy();
    }

    /// <summary>
    /// A file removed while its descriptor is still in the cache keeps that very descriptor and
    /// stays usable after the cache has moved on; names the guest never looked up pin nothing.
    /// </summary>
    [Fact]
    public void AFileRemovedWhileCachedKeepsItsCachedDescriptor()
    {
        using FuseHarness h = Harness(cache: 2);
        (ulong node, ulong fh) = h.CreateOk(1, "fresh");
        h.Release(node, fh);
        File.WriteAllText(Path.Combine(h.Share, "unknown"), "u");
        int fdsBefore = OpenFds();
        Assert.Equal(0, h.Send(FuseOpcode.Unlink, 1, new ArgsBuilder().Name("fresh")).Errno);
        Assert.Equal(0, h.Send(FuseOpcode.Unlink, 1, new ArgsBuilder().Name("unknown")).Errno);
        Assert.Equal(2, h.FileSystem.HeldFdCount);     // the root and "fresh", which kept its cached descriptor
        Assert.Equal(fdsBefore, OpenFds());            // neither removal left a descriptor behind
        for (int i = 0; i < 5; i++)
        {
            File.WriteAllText(Path.Combine(h.Share, $"churn{i}"), "c");
            h.LookupId(1, $"churn{i}");                // the two-slot cache moves on
        }
        FuseReply attr = h.GetAttr(node);
        Assert.Equal(0, attr.Errno);
        Assert.Equal(0u, attr.Read<FuseAttrOut>().Attr.Nlink);
        Forget(h, node);
        Assert.Equal(1, h.FileSystem.HeldFdCount);
        h.AssertHealthy();
    }

    /// <summary>What the host removes behind the guest's back cannot be reopened by its handle: ESTALE, as virtiofsd answers.</summary>
    [Fact]
    public void AFileTheHostRemovedAnswersEstaleOnceItsDescriptorIsEvicted()
    {
        using FuseHarness h = Harness(cache: 1);
        File.WriteAllText(Path.Combine(h.Share, "gone"), "g");
        File.WriteAllText(Path.Combine(h.Share, "other"), "o");
        ulong gone = h.LookupId(1, "gone");
        ulong other = h.LookupId(1, "other");   // evicts "gone"'s descriptor
        File.Delete(Path.Combine(h.Share, "gone"));
        Assert.Equal(ESTALE, h.GetAttr(gone).Errno);
        Assert.Equal(0, h.GetAttr(other).Errno);
        Forget(h, gone);
        h.AssertHealthy();
    }

    [Fact]
    public void TmpfileIsHeldByItsDescriptorUntilAndAfterItIsLinked()
    {
        using FuseHarness h = Harness(cache: 1);
        FuseReply tmp = h.Send(FuseOpcode.TmpFile, 1, new ArgsBuilder().Add(new FuseCreateIn { Flags = 2, Mode = 0x81A4 }).Name("/"));
        Assert.Equal(0, tmp.Errno);
        ulong node = tmp.Read<FuseEntryOut>().NodeId;
        ulong fh = tmp.Read<FuseOpenOut>(Unsafe.SizeOf<FuseEntryOut>()).Fh;
        Assert.Equal(3, h.FileSystem.HeldFdCount);   // root, the handle, the unnamed inode
        File.WriteAllText(Path.Combine(h.Share, "other"), "o");
        h.LookupId(1, "other");
        Assert.Equal(0, h.GetAttr(node).Errno);
        Assert.Equal(0, h.Send(FuseOpcode.Link, 1, new ArgsBuilder().Add(new FuseLinkIn { OldNodeId = node }).Name("named")).Errno);
        Assert.True(File.Exists(Path.Combine(h.Share, "named")));
        h.Release(node, fh);
        h.AssertHealthy();
    }

    /// <summary>/proc has no file handles: below a share of "/", prefer holds it by a descriptor and mandatory refuses it.</summary>
    [Fact]
    public void AMountWithoutHandlesFallsBackUnderPreferAndFailsUnderMandatory()
    {
        Assert.True(Privileged, "these tests run as root");
        using (FuseHarness h = Harness(shared: "/"))
        {
            Assert.True(h.FileSystem.UsesFileHandles);
            ulong tmp = h.LookupId(1, "tmp");
            Assert.Equal(1, h.FileSystem.HeldFdCount);
            ulong proc = h.LookupId(1, "proc");
            Assert.Equal(2, h.FileSystem.HeldFdCount);
            ulong self = h.LookupId(proc, "self");
            Assert.Equal(3, h.FileSystem.HeldFdCount);
            Assert.Equal(0, h.GetAttr(tmp).Errno);
            Assert.Equal(0, h.GetAttr(self).Errno);
        }
        using (FuseHarness h = Harness(InodeFileHandles.Mandatory, shared: "/"))
        {
            Assert.Equal(0, h.Lookup(1, "tmp").Errno);
            Assert.Equal(EOPNOTSUPP, h.Lookup(1, "proc").Errno);
            h.AssertHealthy();
        }
    }

    [Fact]
    public void MandatoryRefusesToStartWithoutHandlesAndPreferSaysWhy()
    {
        var e = Assert.Throws<ErrnoException>(() => new PassthroughFileSystem(new PassthroughOptions { SharedDirectory = "/proc/sys", InodeFileHandles = InodeFileHandles.Mandatory }));
        Assert.Contains("mandatory", e.Message);
        using var prefer = new PassthroughFileSystem(new PassthroughOptions { SharedDirectory = "/proc/sys" });
        Assert.False(prefer.UsesFileHandles);
        Assert.Contains("EOPNOTSUPP", prefer.FileHandlesUnavailableReason);
    }

    /// <summary>Several threads reopen, evict and forget the same inodes: no descriptor is closed under a user.</summary>
    [Fact]
    public void ConcurrentUseEvictionAndForgetNeverCloseADescriptorInUse()
    {
        const int Files = 64;
        using FuseHarness h = Harness(cache: 4);
        for (int i = 0; i < Files; i++) File.WriteAllText(Path.Combine(h.Share, $"f{i}"), new string('x', i));
        int before = OpenFds();
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var threads = new Thread[4];
        for (int t = 0; t < threads.Length; t++)
        {
            int seed = t;
            threads[t] = new Thread(() =>
            {
                using var worker = new VirtioFs.Backend.Fuse.FuseWorker();
                var random = new Random(seed);
                for (int n = 0; n < 1500; n++)
                {
                    int i = random.Next(Files);
                    FuseReply lookup = h.Send(FuseOpcode.Lookup, 1, new ArgsBuilder().Name($"f{i}"), worker: worker);
                    if (lookup.Errno != 0) { failures.Add($"lookup f{i}: {lookup.Errno}"); continue; }
                    ulong id = lookup.Read<FuseEntryOut>().NodeId;
                    FuseReply attr = h.Send(FuseOpcode.GetAttr, id, new ArgsBuilder().Add(new FuseGetAttrIn()), worker: worker);
                    if (attr.Errno != 0) failures.Add($"getattr f{i}: {attr.Errno}");
                    else if (attr.Read<FuseAttrOut>().Attr.Size != (ulong)i) failures.Add($"getattr f{i}: size {attr.Read<FuseAttrOut>().Attr.Size}");
                    h.Send(FuseOpcode.Forget, id, new ArgsBuilder().Add(new FuseForgetIn { Nlookup = 1 }), worker: worker);
                }
            });
            threads[t].Start();
        }
        foreach (Thread thread in threads) thread.Join();
        Assert.Empty(failures);
        Assert.Equal(1, h.FileSystem.InodeCount);
        Assert.Equal(before, OpenFds());
        h.AssertHealthy();
    }

    private static void Forget(FuseHarness h, ulong id)
        => h.Send(FuseOpcode.Forget, id, new ArgsBuilder().Add(new FuseForgetIn { Nlookup = 1 }));

    private static unsafe void HardLink(string existing, string created)
    {
        fixed (byte* from = System.Text.Encoding.UTF8.GetBytes(existing + "\0"))
        fixed (byte* to = System.Text.Encoding.UTF8.GetBytes(created + "\0"))
        {
            Assert.Equal(0, Libc.linkat(Libc.AT_FDCWD, from, Libc.AT_FDCWD, to, 0));
        }
    }

    private static int OpenFds()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return Directory.GetFiles("/proc/self/fd").Length;
    }
}
