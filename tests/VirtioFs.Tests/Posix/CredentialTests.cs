using System.Runtime.CompilerServices;
using VirtioFs.Backend.Fuse;
using VirtioFs.Backend.Fuse.Abi;
using VirtioFs.Backend.Interop;
using VirtioFs.Tests.Fuse;
using Xunit;

namespace VirtioFs.Tests.Posix;

/// <summary>
/// Creating requests run as the guest caller (fsuid/fsgid per thread), so the host kernel decides owner, group and
/// set-id bits exactly as for a local process. These tests run as root (the daemon's normal case).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class CredentialTests
{
    private const uint User = 1000, Group = 1000, Other = 5000;
    private const uint S_IFREG = 0x8000, S_IFDIR = 0x4000, S_IFIFO = 0x1000, S_IFCHR = 0x2000;
    private const uint S_ISUID = 0x800, S_ISGID = 0x400, S_ISVTX = 0x200;

    private static FuseReply CreateAs(FuseHarness h, ulong parent, string name, uint mode, uint uid, uint gid, uint? suppGroup = null)
    {
        byte[] args = new ArgsBuilder().Add(new FuseCreateIn { Flags = 2, Mode = S_IFREG | mode }).Name(name);
        ushort extUnits = 0;
        if (suppGroup is { } group)
        {
            // fuse_ext_header { size 16, type FUSE_EXT_GROUPS } + fuse_supp_groups { nr_groups 1, groups[1] }.
            args = new ArgsBuilder().Raw(args).Add(16u).Add(FuseConstants.ExtGroups).Add(1u).Add(group);
            extUnits = 2;
        }
        return h.Send(FuseOpcode.Create, parent, args, extLength: extUnits, uid: uid, gid: gid);
    }

    [Fact]
    public void CreatedNodesBelongToTheGuestCaller()
    {
        using var h = new FuseHarness();
        HostFile.Directory(h.Share, "open", 0, 0, 0x1FF);
        ulong dir = h.LookupId(1, "open");

        Assert.Equal(0, CreateAs(h, dir, "file", 0x1A4, User, Group).Errno);
        Assert.Equal(0, h.Send(FuseOpcode.Mkdir, dir, new ArgsBuilder().Add(new FuseMkdirIn { Mode = 0x1ED }).Name("sub"), uid: User, gid: Group).Errno);
        Assert.Equal(0, h.Send(FuseOpcode.Mknod, dir, new ArgsBuilder().Add(new FuseMknodIn { Mode = S_IFIFO | 0x1A4 }).Name("fifo"), uid: User, gid: Group).Errno);
        Assert.Equal(0, h.Send(FuseOpcode.Symlink, dir, new ArgsBuilder().Name("link").Name("file"), uid: User, gid: Group).Errno);

        foreach (string name in new[] { "file", "sub", "fifo", "link" })
        {
            Assert.Equal((User, Group), HostFile.Owner(Path.Combine(h.Share, "open", name)));
        }
        Assert.Equal(0x1A4u, HostFile.Mode(Path.Combine(h.Share, "open", "file")) & 0xFFF);
        Assert.Equal(0x1EDu, HostFile.Mode(Path.Combine(h.Share, "open", "sub")) & 0xFFF);

        // Guest root stays root.
        Assert.Equal(0, CreateAs(h, dir, "rootfile", 0x1A4, 0, 0).Errno);
        Assert.Equal((0u, 0u), HostFile.Owner(Path.Combine(h.Share, "open", "rootfile")));
        h.AssertHealthy();
    }

    [Fact]
    public void TheHostKernelChecksTheCallersPermissionsWhenCreating()
    {
        using var h = new FuseHarness();
        HostFile.Directory(h.Share, "closed", 0, 0, 0x1ED);   // 0755 root: others may not create
        ulong dir = h.LookupId(1, "closed");
        Assert.Equal(13, CreateAs(h, dir, "denied", 0x1A4, User, Group).Errno);   // EACCES
        Assert.False(File.Exists(Path.Combine(h.Share, "closed", "denied")));
        // An unprivileged caller may not make device nodes (CAP_MKNOD goes with fsuid 0).
        HostFile.Directory(h.Share, "open", 0, 0, 0x1FF);
        ulong open = h.LookupId(1, "open");
        Assert.Equal(1, h.Send(FuseOpcode.Mknod, open, new ArgsBuilder().Add(new FuseMknodIn { Mode = S_IFCHR | 0x1A4, Rdev = (1 << 8) | 3 }).Name("null"),
            uid: User, gid: Group).Errno);   // EPERM
        h.AssertHealthy();
    }

    [Fact]
    public void TheSwitchIsUndoneAfterEachRequest()
    {
        using var h = new FuseHarness();
        HostFile.Directory(h.Share, "open", 0, 0, 0x1FF);
        ulong dir = h.LookupId(1, "open");
        Assert.Equal(0, CreateAs(h, dir, "file", 0x1A4, User, Group).Errno);
        // This test thread served the request: its fsuid/fsgid are root's again (-1 reads without changing).
        Assert.Equal(0u, Libc.SetThreadFsuid(uint.MaxValue));
        Assert.Equal(0u, Libc.SetThreadFsgid(uint.MaxValue));
        Assert.True(ServingThread.GroupsDropped);
        Assert.Equal(0, Libc.ThreadGroupCount());
        // And root-only work goes on.
        HostFile.Directory(h.Share, "closed", 0, 0, 0x1C0);
        Assert.Equal(0, CreateAs(h, h.LookupId(1, "closed"), "byroot", 0x180, 0, 0).Errno);
    }

    [Fact]
    public void SetgidDirectoryGivesItsGroupAndInheritsToSubdirectories()
    {
        using var h = new FuseHarness();
        HostFile.Directory(h.Share, "sgid", 0, Other, 0x400 | 0x1FF);   // 02777 root:5000
        ulong dir = h.LookupId(1, "sgid");
        Assert.Equal(0, CreateAs(h, dir, "file", 0x1A4, User, Group).Errno);
        Assert.Equal((User, Other), HostFile.Owner(Path.Combine(h.Share, "sgid", "file")));
        Assert.Equal(0, h.Send(FuseOpcode.Mkdir, dir, new ArgsBuilder().Add(new FuseMkdirIn { Mode = 0x1ED }).Name("sub"), uid: User, gid: Group).Errno);
        string sub = Path.Combine(h.Share, "sgid", "sub");
        Assert.Equal((User, Other), HostFile.Owner(sub));
        Assert.Equal(S_IFDIR | S_ISGID | 0x1ED, HostFile.Mode(sub));
        h.AssertHealthy();
    }

    /// <summary>
    /// CVE-2022-0358: with root's supplementary groups still attached, a guest user creating a setgid file in a
    /// root-group setgid directory got a setgid-root file. The result must not be setgid.
    /// </summary>
    [Fact]
    public void Cve_2022_0358_NoSetgidRootFileForAnUnprivilegedCaller()
    {
        using var h = new FuseHarness();
        HostFile.Directory(h.Share, "shared", 0, 0, S_ISGID | S_ISVTX | 0x1FF);   // 03777 root:root
        ulong dir = h.LookupId(1, "shared");
        FuseReply reply = CreateAs(h, dir, "escalate", S_ISGID | 0x1ED, User, Group);   // 02755
        Assert.Equal(0, reply.Errno);
        string file = Path.Combine(h.Share, "shared", "escalate");
        Assert.Equal((User, 0u), HostFile.Owner(file));   // the directory's group, as the kernel gives it
        Assert.Equal(0u, HostFile.Mode(file) & S_ISGID);     // but not setgid: the caller is not in group 0
        Assert.Equal(0u, reply.Read<FuseEntryOut>().Attr.Mode & S_ISGID);

        // Same through MKNOD and MKDIR (a directory keeps the inherited bit, as on a local file system).
        Assert.Equal(0, h.Send(FuseOpcode.Mknod, dir, new ArgsBuilder().Add(new FuseMknodIn { Mode = S_IFREG | S_ISGID | 0x1ED }).Name("node"),
            uid: User, gid: Group).Errno);
        Assert.Equal(0u, HostFile.Mode(Path.Combine(h.Share, "shared", "node")) & S_ISGID);
        h.AssertHealthy();
    }

    [Fact]
    public void TheGuestsSupplementaryGroupCountsForSetgid()
    {
        using var h = new FuseHarness();
        HostFile.Directory(h.Share, "team", 0, Other, S_ISGID | 0x1F8);   // 02770 root:5000
        ulong dir = h.LookupId(1, "team");
        // The kernel sends group 5000 with the create because the caller is a member (FUSE_CREATE_SUPP_GROUP).
        Assert.Equal(0, CreateAs(h, dir, "member", S_ISGID | 0x1ED, User, Group, suppGroup: Other).Errno);
        string member = Path.Combine(h.Share, "team", "member");
        Assert.Equal((User, Other), HostFile.Owner(member));
        Assert.Equal(S_ISGID, HostFile.Mode(member) & S_ISGID);
        // Without it the caller cannot even enter the 0770 directory on the host.
        Assert.Equal(13, CreateAs(h, dir, "stranger", 0x1A4, User, Group).Errno);
        // The group was only lent for that request.
        Assert.Equal(0, Libc.ThreadGroupCount());
        h.AssertHealthy();
    }

    [Fact]
    public void ASupplementaryGroupIsIgnoredUnlessNegotiated()
    {
        using var h = new FuseHarness(init: false);
        Assert.Equal(0, h.Init(flags: (FuseInitFlags)0xFFFF_FFFF & ~FuseInitFlags.InitExt).Errno);   // no flags2: no CREATE_SUPP_GROUP
        Assert.Equal(FuseInitFlags.None, h.Server.NegotiatedFlags & FuseInitFlags.CreateSuppGroup);
        HostFile.Directory(h.Share, "team", 0, Other, S_ISGID | 0x1F8);
        Assert.Equal(13, CreateAs(h, h.LookupId(1, "team"), "forged", 0x1A4, User, Group, suppGroup: Other).Errno);
        h.AssertHealthy();
    }

    [Fact]
    public void ChownByRootClearsSetuidAsTheHostKernelDoes()
    {
        using var h = new FuseHarness();
        string file = Path.Combine(h.Share, "prog");
        File.WriteAllText(file, "#!");
        HostFile.Chmod(file, S_ISUID | S_ISGID | 0x1ED);
        ulong node = h.LookupId(1, "prog");
        var change = new FuseSetAttrIn { Valid = (uint)(FuseSetAttrValid.Uid | FuseSetAttrValid.Gid), Uid = User, Gid = Group };
        FuseReply reply = h.Send(FuseOpcode.SetAttr, node, new ArgsBuilder().Add(change));
        Assert.Equal(0, reply.Errno);
        Assert.Equal((User, Group), HostFile.Owner(file));
        Assert.Equal(0u, HostFile.Mode(file) & (S_ISUID | S_ISGID));
        Assert.Equal(0u, reply.Read<FuseAttrOut>().Attr.Mode & S_ISUID);
    }
}
