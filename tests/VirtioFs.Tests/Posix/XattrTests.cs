using System.Text;
using VirtioFs.Backend.Fuse;
using VirtioFs.Backend.Fuse.Abi;
using VirtioFs.Backend.Interop;
using VirtioFs.Backend.Passthrough;
using VirtioFs.Tests.Fuse;
using Xunit;

namespace VirtioFs.Tests.Posix;

/// <summary>Extended attributes with raw requests: the size-probe protocol, flags, and the xattrmap rules.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed unsafe class XattrTests
{
    private const int EPERM = 1, ENODATA = 61, ERANGE = 34, EEXIST = 17, EOPNOTSUPP = 95;
    private const uint XATTR_CREATE = 1, XATTR_REPLACE = 2;

    private static FuseHarness XattrHarness(string? map = null)
        => new(share => new PassthroughOptions { SharedDirectory = share, Xattr = true, XattrMap = map });

    private static FuseReply Set(FuseHarness h, ulong node, string name, string value, uint flags = 0)
        => h.Send(FuseOpcode.SetXattr, node, new ArgsBuilder().Add(new FuseGetxattrIn { Size = (uint)Encoding.UTF8.GetByteCount(value), Padding = flags })
            .Name(name).Raw(Encoding.UTF8.GetBytes(value)));

    private static FuseReply Get(FuseHarness h, ulong node, string name, uint size)
        => h.Send(FuseOpcode.GetXattr, node, new ArgsBuilder().Add(new FuseGetxattrIn { Size = size }).Name(name));

    private static FuseReply List(FuseHarness h, ulong node, uint size)
        => h.Send(FuseOpcode.ListXattr, node, new ArgsBuilder().Add(new FuseGetxattrIn { Size = size }));

    private static string[] Names(FuseReply reply) => Encoding.UTF8.GetString(reply.Body).Split('\0', StringSplitOptions.RemoveEmptyEntries).Order().ToArray();

    /// <summary>Host-side getxattr; null when absent.</summary>
    private static string? HostGet(string path, string name)
    {
        byte[] p = Encoding.UTF8.GetBytes(path + "\0"), n = Encoding.UTF8.GetBytes(name + "\0");
        var buffer = new byte[4096];
        fixed (byte* pp = p, nn = n, b = buffer)
        {
            nint length = Libc.getxattr(pp, nn, b, (nuint)buffer.Length);
            return length < 0 ? null : Encoding.UTF8.GetString(buffer, 0, (int)length);
        }
    }

    private static void HostSet(string path, string name, string value)
    {
        byte[] p = Encoding.UTF8.GetBytes(path + "\0"), n = Encoding.UTF8.GetBytes(name + "\0"), v = Encoding.UTF8.GetBytes(value);
        fixed (byte* pp = p, nn = n, vv = v)
        {
            Assert.Equal(0, Libc.setxattr(pp, nn, vv, (nuint)v.Length, 0));
        }
    }

    [Fact]
    public void SizeProbeThenValueAndRangeErrors()
    {
        using var h = XattrHarness();
        var (node, _) = h.CreateOk(1, "f");
        Assert.Equal(0, Set(h, node, "user.colour", "blue-green").Errno);
        Assert.Equal("blue-green", HostGet(Path.Combine(h.Share, "f"), "user.colour"));

        FuseReply probe = Get(h, node, "user.colour", 0);
        Assert.Equal(0, probe.Errno);
        Assert.Equal(10u, probe.Read<FuseGetxattrOut>().Size);
        Assert.Equal("blue-green", Encoding.UTF8.GetString(Get(h, node, "user.colour", 10).Body));
        Assert.Equal(ERANGE, Get(h, node, "user.colour", 4).Errno);
        Assert.Equal(ENODATA, Get(h, node, "user.missing", 100).Errno);

        Assert.Equal(0, Set(h, node, "user.second", "2").Errno);
        FuseReply listProbe = List(h, node, 0);
        Assert.Equal((uint)("user.colour\0user.second\0".Length), listProbe.Read<FuseGetxattrOut>().Size);
        Assert.Equal(new[] { "user.colour", "user.second" }, Names(List(h, node, 100)));
        Assert.Equal(ERANGE, List(h, node, 5).Errno);

        Assert.Equal(EEXIST, Set(h, node, "user.second", "x", XATTR_CREATE).Errno);
        Assert.Equal(ENODATA, Set(h, node, "user.third", "x", XATTR_REPLACE).Errno);
        Assert.Equal(0, Set(h, node, "user.second", "22", XATTR_REPLACE).Errno);
        Assert.Equal(0, h.Send(FuseOpcode.RemoveXattr, node, new ArgsBuilder().Name("user.second")).Errno);
        Assert.Equal(ENODATA, h.Send(FuseOpcode.RemoveXattr, node, new ArgsBuilder().Name("user.second")).Errno);
        Assert.Equal(new[] { "user.colour" }, Names(List(h, node, 100)));
        h.AssertHealthy();
    }

    [Fact]
    public void XattrsOfSpecialFilesAreReachedWithoutOpeningThem()
    {
        using var h = XattrHarness();
        Assert.Equal(0, h.Send(FuseOpcode.Mknod, 1, new ArgsBuilder().Add(new FuseMknodIn { Mode = 0x1000 | 0x1A4 }).Name("fifo")).Errno);
        ulong fifo = h.LookupId(1, "fifo");
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                Assert.Equal(0, Set(h, fifo, "trusted.tag", "t").Errno);
                Assert.Equal("t", Encoding.UTF8.GetString(Get(h, fifo, "trusted.tag", 10).Body));
            }
            catch (Exception e)
            {
                failure = e;
            }
        }) { IsBackground = true };
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(20)), "an xattr call on a FIFO blocked");
        Assert.Null(failure);
    }

    [Fact]
    public void ParsesVirtiofsdRuleSyntax()
    {
        XattrMap map = XattrMap.Parse(" /prefix/all/trusted./user.virtiofs./\n /bad/server//trusted./ /bad/client/user.virtiofs.// /ok/all/// ");
        Assert.Equal(4, map.Rules.Count);
        Assert.Equal((XattrMapAction.Prefix, true, true, "trusted.", "user.virtiofs."),
            (map.Rules[0].Action, map.Rules[0].Client, map.Rules[0].Server, map.Rules[0].Key, map.Rules[0].Prepend));

        XattrMap expanded = XattrMap.Parse(":map:security.:trusted.virtiofs.:");
        Assert.Equal(4, expanded.Rules.Count);
        Assert.Equal(2, XattrMap.Parse(":map::user.virtiofs.:").Rules.Count);
        Assert.Equal(Encoding.UTF8.GetBytes("trusted.virtiofs.security.capability"), expanded.CapabilityHostName);

        foreach (string bad in new[] { ":nope:all:a:b:", ":ok:everywhere:a:b:", ":ok:all:a:b", ":map:a:b: :ok:all:::", ":map:a::", "" })
        {
            Assert.Throws<ArgumentException>(() => XattrMap.Parse(bad));
        }
    }

    [Fact]
    public void MapRuleTranslatesBothWaysAndGuardsTheHostNamespace()
    {
        XattrMap map = XattrMap.Parse(":map:security.:trusted.virtiofs.:");
        Span<byte> host = stackalloc byte[512];
        Assert.Equal(0, map.MapToHost("security.selinux"u8, host, out int length));
        Assert.Equal("trusted.virtiofs.security.selinux", Encoding.UTF8.GetString(host[..length]));
        Assert.Equal(0, map.MapToHost("user.x"u8, host, out length));
        Assert.Equal("user.x", Encoding.UTF8.GetString(host[..length]));
        Assert.Equal(EPERM, map.MapToHost("trusted.virtiofs.security.selinux"u8, host, out _));   // never reachable raw

        Assert.True(map.MapToGuest("trusted.virtiofs.security.selinux"u8, out ReadOnlySpan<byte> guest));
        Assert.Equal("security.selinux", Encoding.UTF8.GetString(guest));
        Assert.False(map.MapToGuest("security.selinux"u8, out _));   // the host's own label is hidden
        Assert.True(map.MapToGuest("user.x"u8, out guest));

        XattrMap unsupported = XattrMap.Parse("/unsupported/all/security.selinux/security.selinux//ok/all///");
        Assert.Equal(EOPNOTSUPP, unsupported.MapToHost("security.selinux"u8, host, out _));
        Assert.False(unsupported.MapToGuest("security.selinux"u8, out _));
        // No matching rule: refused and hidden.
        XattrMap only = XattrMap.Parse(":ok:all:user.:user.:");
        Assert.Equal(EPERM, only.MapToHost("trusted.a"u8, host, out _));
        Assert.False(only.MapToGuest("trusted.a"u8, out _));
    }

    /// <summary>
    /// The CVE-2017-7493 analogue: with security.* mapped into trusted.virtiofs.*, the guest can neither see, set,
    /// read nor remove the host-private names directly, and its security.* never touch the host's security.*.
    /// </summary>
    [Fact]
    public void MappedGuestNamesNeverCollideWithTheHostsAndTheHiddenNamespaceIsUnreachable()
    {
        using var h = XattrHarness(":map:security.:trusted.virtiofs.:");
        var (node, _) = h.CreateOk(1, "f");
        string file = Path.Combine(h.Share, "f");
        HostSet(file, "security.label", "host-label");
        HostSet(file, "trusted.other", "host-trusted");

        Assert.Equal(0, Set(h, node, "security.label", "guest-label").Errno);
        Assert.Equal("host-label", HostGet(file, "security.label"));
        Assert.Equal("guest-label", HostGet(file, "trusted.virtiofs.security.label"));
        Assert.Equal("guest-label", Encoding.UTF8.GetString(Get(h, node, "security.label", 100).Body));

        Assert.Equal(EPERM, Set(h, node, "trusted.virtiofs.security.label", "forged").Errno);
        Assert.Equal(ENODATA, Get(h, node, "trusted.virtiofs.security.label", 100).Errno);
        Assert.Equal(EPERM, h.Send(FuseOpcode.RemoveXattr, node, new ArgsBuilder().Name("trusted.virtiofs.security.label")).Errno);
        Assert.Equal("guest-label", HostGet(file, "trusted.virtiofs.security.label"));

        // The list shows the guest's own names only: its security.label (once), and the host's unrelated trusted.other.
        string[] names = Names(List(h, node, 1000));
        Assert.Equal(new[] { "security.label", "trusted.other" }, names);
        Assert.Equal((uint)"security.label\0trusted.other\0".Length, List(h, node, 0).Read<FuseGetxattrOut>().Size);

        Assert.Equal(0, h.Send(FuseOpcode.RemoveXattr, node, new ArgsBuilder().Name("security.label")).Errno);
        Assert.Null(HostGet(file, "trusted.virtiofs.security.label"));
        Assert.Equal("host-label", HostGet(file, "security.label"));
        h.AssertHealthy();
    }

    /// <summary>CVE-2021-20263: a write that must drop privileges also drops the mapped security.capability.</summary>
    [Fact]
    public void KillprivWriteRemovesTheMappedCapabilityAndSetIdBits()
    {
        using var h = new FuseHarness(share => new PassthroughOptions
        {
            SharedDirectory = share, Xattr = true, KillprivV2 = true, XattrMap = ":map:security.:trusted.virtiofs.:",
        });
        Assert.Equal(FuseInitFlags.HandleKillprivV2, h.Server.NegotiatedFlags & FuseInitFlags.HandleKillprivV2);
        var (node, fh) = h.CreateOk(1, "prog");
        string file = Path.Combine(h.Share, "prog");
        Assert.Equal(0, Set(h, node, "security.capability", "fake-caps").Errno);
        HostFile.Chmod(file, 0x800 | 0x400 | 0x1ED);   // 06755

        var write = new FuseWriteIn { Fh = fh, Offset = 0, Size = 3, WriteFlags = FuseConstants.WriteKillSuidgid };
        Assert.Equal(0, h.Send(FuseOpcode.Write, node, new ArgsBuilder().Add(write).Raw("abc"u8)).Errno);
        Assert.Null(HostGet(file, "trusted.virtiofs.security.capability"));
        Assert.Equal(0x1EDu, HostFile.Mode(file) & 0xFFF);

        // Without the flag (a privileged guest writer) nothing is dropped.
        HostFile.Chmod(file, 0x800 | 0x1ED);
        write.WriteFlags = 0;
        Assert.Equal(0, h.Send(FuseOpcode.Write, node, new ArgsBuilder().Add(write).Raw("abc"u8)).Errno);
        Assert.Equal(0x800u | 0x1ED, HostFile.Mode(file) & 0xFFF);

        // Setgid without group-execute marks mandatory locking and stays; truncate with FATTR_KILL_SUIDGID clears the rest.
        HostFile.Chmod(file, 0x800 | 0x400 | 0x1A4);   // 06644
        var truncate = new FuseSetAttrIn { Valid = (uint)(FuseSetAttrValid.Size | FuseSetAttrValid.KillSuidgid), Size = 1 };
        Assert.Equal(0, h.Send(FuseOpcode.SetAttr, node, new ArgsBuilder().Add(truncate)).Errno);
        Assert.Equal(0x400u | 0x1A4, HostFile.Mode(file) & 0xFFF);
        Assert.Equal(1, new FileInfo(file).Length);
    }
}
