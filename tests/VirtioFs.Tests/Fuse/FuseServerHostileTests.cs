using System.Runtime.CompilerServices;
using System.Text;
using VirtioFs.Backend.Fuse;
using VirtioFs.Backend.Fuse.Abi;
using Xunit;

namespace VirtioFs.Tests.Fuse;

/// <summary>
/// Requests a hostile guest could send. Each must get an errno reply (or none), leave the server able to answer
/// the next request, create nothing outside the share, and never hit an internal error.
/// </summary>
public class FuseServerHostileTests
{
    private const int EBADF = 9, ENOENT = 2, EINVAL = 22, ENOTDIR = 20, ENAMETOOLONG = 36;
    private const uint S_IFIFO = 0x1000, S_IFCHR = 0x2000, S_IFSOCK = 0xC000, S_IFLNK = 0xA000;

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(20)]
    [InlineData(39)]
    public void RequestShorterThanTheHeaderIsDropped(int length)
    {
        using var h = new FuseHarness();
        byte[] request = h.BuildRequest(FuseOpcode.GetAttr, 1, new byte[16])[..length];
        Assert.Equal(0, h.SendRaw(request, null, new[] { 4096 }).UsedLength);
        h.AssertHealthy();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(-1)]
    [InlineData(-56)]
    [InlineData(int.MaxValue)]
    public void LengthThatDisagreesWithTheBytesGivenIsEinval(int delta)
    {
        using var h = new FuseHarness();
        uint length = unchecked((uint)(40 + 16 + delta));
        Assert.Equal(EINVAL, h.Send(FuseOpcode.GetAttr, 1, new byte[16], lengthOverride: length).Errno);
        // A no-reply request with a bad length is dropped silently.
        Assert.Equal(0, h.Send(FuseOpcode.Forget, 1, new byte[8], lengthOverride: length).UsedLength);
        h.AssertHealthy();
    }

    [Fact]
    public void ExtensionLengthLargerThanTheArgumentsIsEinval()
    {
        using var h = new FuseHarness();
        Assert.Equal(EINVAL, h.Send(FuseOpcode.GetAttr, 1, new byte[16], extLength: 3).Errno);
        Assert.Equal(EINVAL, h.Send(FuseOpcode.GetAttr, 1, new byte[16], extLength: ushort.MaxValue).Errno);
        h.AssertHealthy();
    }

    [Theory]
    [InlineData(FuseOpcode.GetAttr, 8)]
    [InlineData(FuseOpcode.SetAttr, 87)]
    [InlineData(FuseOpcode.Mknod, 12)]
    [InlineData(FuseOpcode.Mkdir, 4)]
    [InlineData(FuseOpcode.Mkdir, 8)]
    [InlineData(FuseOpcode.Rename, 4)]
    [InlineData(FuseOpcode.Rename2, 12)]
    [InlineData(FuseOpcode.Link, 4)]
    [InlineData(FuseOpcode.Open, 4)]
    [InlineData(FuseOpcode.Create, 15)]
    [InlineData(FuseOpcode.Read, 39)]
    [InlineData(FuseOpcode.Write, 39)]
    [InlineData(FuseOpcode.Flush, 23)]
    [InlineData(FuseOpcode.Release, 23)]
    [InlineData(FuseOpcode.Fsync, 15)]
    [InlineData(FuseOpcode.Lseek, 23)]
    [InlineData(FuseOpcode.Fallocate, 31)]
    [InlineData(FuseOpcode.OpenDir, 7)]
    [InlineData(FuseOpcode.ReadDir, 39)]
    [InlineData(FuseOpcode.ReadDirPlus, 0)]
    [InlineData(FuseOpcode.ReleaseDir, 0)]
    [InlineData(FuseOpcode.FsyncDir, 15)]
    [InlineData(FuseOpcode.Access, 7)]
    [InlineData(FuseOpcode.Lookup, 0)]
    [InlineData(FuseOpcode.Unlink, 0)]
    [InlineData(FuseOpcode.Init, 15)]
    [InlineData(FuseOpcode.GetXattr, 4)]
    [InlineData(FuseOpcode.SetXattr, 7)]
    public void TruncatedArgumentsAreEinval(FuseOpcode opcode, int length)
    {
        using var h = new FuseHarness();
        var args = new byte[length];
        args.AsSpan().Fill((byte)'a');   // no NUL anywhere: names do not terminate either
        Assert.Equal(EINVAL, h.Send(opcode, 1, args).Errno);
        Assert.True(h.Server.IsInitialized);
        h.AssertHealthy();
        Assert.Empty(Directory.EnumerateFileSystemEntries(h.Share));
    }

    public static IEnumerable<object[]> BadNames()
    {
        string tooLong = new('a', 256);
        foreach (FuseOpcode opcode in new[]
        {
            FuseOpcode.Lookup, FuseOpcode.Mkdir, FuseOpcode.Mknod, FuseOpcode.Create, FuseOpcode.Symlink,
            FuseOpcode.Unlink, FuseOpcode.Rmdir, FuseOpcode.Rename, FuseOpcode.Rename2, FuseOpcode.Link,
        })
        {
            yield return new object[] { opcode, "a/b", EINVAL };
            yield return new object[] { opcode, "/etc/evil", EINVAL };
            yield return new object[] { opcode, "../outside/x", EINVAL };
            yield return new object[] { opcode, "", EINVAL };
            yield return new object[] { opcode, tooLong, ENAMETOOLONG };
            if (opcode != FuseOpcode.Lookup)
            {
                yield return new object[] { opcode, ".", EINVAL };
                yield return new object[] { opcode, "..", EINVAL };
            }
        }
    }

    [Theory]
    [MemberData(nameof(BadNames))]
    public void NamesThatAreNotOneComponentAreRefused(FuseOpcode opcode, string name, int errno)
    {
        using var h = new FuseHarness();
        File.WriteAllText(Path.Combine(h.Share, "existing"), "e");
        ulong existing = h.LookupId(1, "existing");
        int inodes = h.FileSystem.InodeCount;

        foreach (byte[] args in ArgumentsWithName(opcode, name, existing))
        {
            Assert.Equal(errno, h.Send(opcode, 1, args).Errno);
        }
        // The same names without a terminator inside the arguments.
        Assert.Equal(EINVAL, h.Send(opcode, 1, Prefix(opcode, existing).Raw(Encoding.UTF8.GetBytes("unterminated"))).Errno);

        Assert.Equal(inodes, h.FileSystem.InodeCount);
        Assert.Equal(new[] { "existing" }, Directory.EnumerateFileSystemEntries(h.Share).Select(Path.GetFileName));
        Assert.Empty(Directory.EnumerateFileSystemEntries(h.Outside));
        Assert.False(File.Exists("/etc/evil"));
        h.AssertHealthy();
    }

    [Fact]
    public void MaximumLengthNameIsAccepted()
    {
        using var h = new FuseHarness();
        string name = new('m', 255);
        Assert.Equal(0, h.Mkdir(1, name).Errno);
        Assert.True(Directory.Exists(Path.Combine(h.Share, name)));
        h.AssertHealthy();
    }

    [Fact]
    public void EmbeddedNulEndsTheName()
    {
        using var h = new FuseHarness();
        Assert.Equal(0, h.Send(FuseOpcode.Mkdir, 1, new ArgsBuilder().Add(new FuseMkdirIn { Mode = 0x1ED }).Raw("x\0/../../outside/evil\0"u8)).Errno);
        Assert.Equal(new[] { "x" }, Directory.EnumerateFileSystemEntries(h.Share).Select(Path.GetFileName));
        h.AssertHealthy();
    }

    [Fact]
    public void DotAndDotDotLookupsStayInsideTheShare()
    {
        using var h = new FuseHarness();
        Assert.Equal(1ul, h.LookupId(1, "."));
        Assert.Equal(1ul, h.LookupId(1, ".."));
        ulong a = h.Mkdir(1, "a").Read<FuseEntryOut>().NodeId;
        ulong b = h.Mkdir(a, "b").Read<FuseEntryOut>().NodeId;
        Assert.Equal(a, h.LookupId(a, "."));
        Assert.Equal(1ul, h.LookupId(a, ".."));
        Assert.Equal(a, h.LookupId(b, ".."));

        // Once the guest forgot "a", ".." from "b" names an inode it does not know: ENOENT, never a new node.
        h.Send(FuseOpcode.Forget, a, new ArgsBuilder().Add(new FuseForgetIn { Nlookup = ulong.MaxValue }));
        int inodes = h.FileSystem.InodeCount;
        Assert.Equal(ENOENT, h.Lookup(b, "..").Errno);
        Assert.Equal(inodes, h.FileSystem.InodeCount);
        h.AssertHealthy();
    }

    [Fact]
    public void SymlinksPlantedInTheShareAreNeverFollowed()
    {
        using var h = new FuseHarness();
        string secret = Path.Combine(h.Root, "secret");
        File.WriteAllText(secret, "host secret");
        File.CreateSymbolicLink(Path.Combine(h.Share, "evil"), h.Outside);
        File.CreateSymbolicLink(Path.Combine(h.Share, "evilfile"), secret);
        File.CreateSymbolicLink(Path.Combine(h.Share, "rel"), "../outside");

        FuseEntryOut evil = h.Lookup(1, "evil").Read<FuseEntryOut>();
        Assert.Equal(S_IFLNK, evil.Attr.Mode & 0xF000);
        foreach (ulong parent in new[] { evil.NodeId, h.LookupId(1, "rel") })
        {
            Assert.Equal(ENOTDIR, h.Lookup(parent, "x").Errno);
            Assert.Equal(ENOTDIR, h.Mkdir(parent, "x").Errno);
            Assert.Equal(ENOTDIR, h.Create(parent, "x").Errno);
            Assert.Equal(ENOTDIR, h.Send(FuseOpcode.Mknod, parent, new ArgsBuilder().Add(new FuseMknodIn { Mode = S_IFIFO | 0x1A4 }).Name("x")).Errno);
            Assert.Equal(ENOTDIR, h.Send(FuseOpcode.Symlink, parent, new ArgsBuilder().Name("x").Name("/")).Errno);
            Assert.Equal(ENOTDIR, h.Send(FuseOpcode.OpenDir, parent, new ArgsBuilder().Add(new FuseOpenIn())).Errno);
        }
        ulong evilFile = h.LookupId(1, "evilfile");
        Assert.Equal(EBADF, h.Open(evilFile, flags: 2 | 0x200 /* O_TRUNC */).Errno);
        Assert.Equal(EINVAL, h.Send(FuseOpcode.SetAttr, evilFile, new ArgsBuilder().Add(new FuseSetAttrIn { Valid = (uint)FuseSetAttrValid.Size, Size = 0 })).Errno);
        // CREATE over the planted link (no O_EXCL) must not open through it either.
        Assert.NotEqual(0, h.Create(1, "evilfile", flags: 2 | 0x200).Errno);
        Assert.Equal("host secret", File.ReadAllText(secret));
        h.AssertHealthy();
    }

    [Fact]
    public void UnknownNodeIdsAndForgedHandlesAreErrors()
    {
        using var h = new FuseHarness();
        const ulong unknown = 0x1234_5678_9abc;
        Assert.Equal(EBADF, h.GetAttr(unknown).Errno);
        Assert.Equal(EBADF, h.GetAttr(0).Errno);
        Assert.Equal(EBADF, h.Lookup(unknown, "x").Errno);
        Assert.Equal(EBADF, h.Mkdir(unknown, "x").Errno);
        Assert.Equal(EBADF, h.Open(unknown).Errno);
        Assert.Equal(EBADF, h.Send(FuseOpcode.Link, 1, new ArgsBuilder().Add(new FuseLinkIn { OldNodeId = unknown }).Name("l")).Errno);
        Assert.Equal(EBADF, h.Send(FuseOpcode.Rename, 1, new ArgsBuilder().Add(new FuseRenameIn { NewDir = unknown }).Name("a").Name("b")).Errno);
        foreach (ulong fh in new[] { 0UL, 1UL, 0xdead_beef_0000_0000UL, ulong.MaxValue, 1UL << 32 })
        {
            Assert.Equal(EBADF, h.Read(1, fh, 0, 10).Errno);
            Assert.Equal(EBADF, h.Write(1, fh, 0, new byte[10]).Errno);
            Assert.Equal(EBADF, h.Release(1, fh).Errno);
            Assert.Equal(EBADF, h.Send(FuseOpcode.ReadDir, 1, new ArgsBuilder().Add(new FuseReadIn { Fh = fh, Size = 4096 })).Errno);
            Assert.Equal(EBADF, h.Send(FuseOpcode.GetAttr, 1, new ArgsBuilder().Add(new FuseGetAttrIn { GetAttrFlags = 1, Fh = fh })).Errno);
        }
        Assert.Equal(0, h.Send(FuseOpcode.Forget, unknown, new ArgsBuilder().Add(new FuseForgetIn { Nlookup = 5 })).UsedLength);
        Assert.Equal(0, h.Send(FuseOpcode.Forget, 1, new byte[3]).UsedLength);   // truncated FORGET
        Assert.Equal(0, h.Send(FuseOpcode.BatchForget, 0, new byte[4]).UsedLength);
        h.AssertHealthy();
    }

    [Fact]
    public void HandlesOfTheWrongKindAreRefused()
    {
        using var h = new FuseHarness();
        var (node, fh) = h.CreateOk(1, "f");
        ulong dirFh = h.Send(FuseOpcode.OpenDir, 1, new ArgsBuilder().Add(new FuseOpenIn())).Read<FuseOpenOut>().Fh;
        Assert.Equal(ENOTDIR, h.Send(FuseOpcode.ReadDir, 1, new ArgsBuilder().Add(new FuseReadIn { Fh = fh, Size = 4096 })).Errno);
        Assert.Equal(21, h.Read(1, dirFh, 0, 10).Errno);   // EISDIR from the kernel
        Assert.Equal(ENOTDIR, h.Send(FuseOpcode.OpenDir, node, new ArgsBuilder().Add(new FuseOpenIn())).Errno);
        // A wild directory offset reads nothing or fails; it never crashes.
        FuseReply wild = h.Send(FuseOpcode.ReadDirPlus, 1, new ArgsBuilder().Add(new FuseReadIn { Fh = dirFh, Offset = 0x7fff_ffff_0000_0001, Size = 4096 }));
        Assert.True(wild.Errno is 0 or EINVAL);
        if (wild.Errno == 0) DirentParser.Parse(wild.Body, plus: true);
        h.AssertHealthy();
    }

    [Fact]
    public void OversizedReadsAndWritesAreRefused()
    {
        using var h = new FuseHarness();
        var (node, fh) = h.CreateOk(1, "f");
        Assert.Equal(EINVAL, h.Read(node, fh, 0, 2 << 20).Errno);                                        // > max_write
        Assert.Equal(EINVAL, h.Read(node, fh, 0, 8192, replySegments: new[] { 16, 4096 }).Errno);         // > reply room
        Assert.Equal(EINVAL, h.Read(node, fh, 0, uint.MaxValue).Errno);
        byte[] mismatch = new ArgsBuilder().Add(new FuseWriteIn { Fh = fh, Size = 100 }).Raw(new byte[50]);
        Assert.Equal(EINVAL, h.Send(FuseOpcode.Write, node, mismatch).Errno);
        byte[] understated = new ArgsBuilder().Add(new FuseWriteIn { Fh = fh, Size = 10 }).Raw(new byte[50]);
        Assert.Equal(EINVAL, h.Send(FuseOpcode.Write, node, understated).Errno);
        Assert.Equal(EINVAL, h.Write(node, fh, 0, new byte[(1 << 20) + 1]).Errno);                          // > max_write
        Assert.Equal(0, new FileInfo(Path.Combine(h.Share, "f")).Length);
        // A write at an offset past long.MaxValue is the kernel's EINVAL, not ours to crash on.
        Assert.Equal(EINVAL, h.Write(node, fh, ulong.MaxValue - 5, new byte[10]).Errno);
        Assert.Equal(0, h.Write(node, fh, 0, new byte[1 << 20]).Errno);                                      // exactly max_write
        h.AssertHealthy();
    }

    [Fact]
    public void ReplyBufferTooSmallGetsAnErrorOrNothingAndLeaksNoLookup()
    {
        using var h = new FuseHarness();
        File.WriteAllText(Path.Combine(h.Share, "f"), "f");
        int inodes = h.FileSystem.InodeCount;
        FuseReply small = h.Send(FuseOpcode.Lookup, 1, new ArgsBuilder().Name("f"), replySegments: new[] { 20 });
        Assert.Equal(16, small.UsedLength);
        Assert.Equal(EINVAL, small.Errno);
        Assert.Equal(inodes, h.FileSystem.InodeCount);
        Assert.Equal(0, h.Send(FuseOpcode.Lookup, 1, new ArgsBuilder().Name("f"), replySegments: new[] { 8 }).UsedLength);
        Assert.Equal(0, h.Send(FuseOpcode.GetAttr, 1, new byte[16], replySegments: Array.Empty<int>()).UsedLength);
        Assert.Equal(EINVAL, h.Send(FuseOpcode.GetAttr, 1, new byte[16], replySegments: new[] { 16 }).Errno);
        int handles = h.FileSystem.HandleCount;
        Assert.Equal(EINVAL, h.Send(FuseOpcode.OpenDir, 1, new ArgsBuilder().Add(new FuseOpenIn()), replySegments: new[] { 16, 8 }).Errno);
        Assert.Equal(handles, h.FileSystem.HandleCount);

        h.Send(FuseOpcode.Symlink, 1, new ArgsBuilder().Name("l").Name(new string('t', 300)));
        ulong link = h.LookupId(1, "l");
        Assert.Equal(34, h.Send(FuseOpcode.ReadLink, link, Array.Empty<byte>(), replySegments: new[] { 16, 100 }).Errno);   // ERANGE
        h.AssertHealthy();
    }

    [Fact]
    public void SymlinkTargetsAreBounded()
    {
        using var h = new FuseHarness();
        Assert.Equal(ENAMETOOLONG, h.Send(FuseOpcode.Symlink, 1, new ArgsBuilder().Name("l").Name(new string('t', 4096))).Errno);
        Assert.Equal(ENOENT, h.Send(FuseOpcode.Symlink, 1, new ArgsBuilder().Name("l").Name("")).Errno);
        Assert.Equal(EINVAL, h.Send(FuseOpcode.Symlink, 1, new ArgsBuilder().Name("l").Raw("no terminator"u8)).Errno);
        Assert.Equal(0, h.Send(FuseOpcode.Symlink, 1, new ArgsBuilder().Name("l").Name(new string('t', 4095))).Errno);
        h.AssertHealthy();
    }

    [Fact]
    public void SpecialFilesAreNeverOpened()
    {
        using var h = new FuseHarness();
        Exception? failure = null;
        var test = new Thread(() =>
        {
            try
            {
                ulong fifo = MknodOk(h, "fifo", S_IFIFO | 0x1A4, 0);
                ulong device = MknodOk(h, "null", S_IFCHR | 0x1B6, (1 << 8) | 3);   // like /dev/null
                ulong socket = MknodOk(h, "sock", S_IFSOCK | 0x1A4, 0);
                Assert.Equal(S_IFCHR, h.GetAttr(device).Read<FuseAttrOut>().Attr.Mode & 0xF000);
                Assert.Equal((1u << 8) | 3, h.GetAttr(device).Read<FuseAttrOut>().Attr.Rdev);
                foreach (ulong node in new[] { fifo, device, socket })
                {
                    Assert.Equal(EBADF, h.Open(node, flags: 0).Errno);
                    Assert.Equal(EBADF, h.Open(node, flags: 2).Errno);
                    Assert.Equal(EINVAL, h.Send(FuseOpcode.SetAttr, node, new ArgsBuilder().Add(new FuseSetAttrIn { Valid = (uint)FuseSetAttrValid.Size })).Errno);
                    Assert.Equal(ENOTDIR, h.Send(FuseOpcode.OpenDir, node, new ArgsBuilder().Add(new FuseOpenIn())).Errno);
                }
                int inodes = h.FileSystem.InodeCount;
                foreach (string name in new[] { "fifo", "null", "sock" })
                {
                    Assert.Equal(EBADF, h.Create(1, name, flags: 0).Errno);   // CREATE without O_EXCL over an existing special file
                }
                Assert.Equal(inodes, h.FileSystem.InodeCount);
                Assert.Equal(0, h.FileSystem.HandleCount);
            }
            catch (Exception exception)
            {
                failure = exception;
            }
        }) { IsBackground = true };
        test.Start();
        Assert.True(test.Join(TimeSpan.FromSeconds(30)), "opening a special file blocked the server");
        Assert.Null(failure);
        h.AssertHealthy();
    }

    [Fact]
    public void ForgetRacingWithOperationsNeverBreaksTheTables()
    {
        using var h = new FuseHarness();
        File.WriteAllText(Path.Combine(h.Share, "f"), "contents");
        var failures = new List<Exception>();
        var threads = new Thread[3];
        for (int t = 0; t < threads.Length; t++)
        {
            int id = t;
            threads[t] = new Thread(() =>
            {
                using var worker = new FuseWorker();
                try
                {
                    for (int i = 0; i < 300; i++)
                    {
                        FuseReply lookup = h.Send(FuseOpcode.Lookup, 1, new ArgsBuilder().Name("f"), worker: worker);
                        Assert.Equal(0, lookup.Errno);
                        ulong node = lookup.Read<FuseEntryOut>().NodeId;
                        FuseReply attr = h.Send(FuseOpcode.GetAttr, node, new byte[16], worker: worker);
                        Assert.True(attr.Errno is 0 or EBADF);   // another thread may have forgotten it already
                        FuseReply open = h.Send(FuseOpcode.Open, node, new ArgsBuilder().Add(new FuseOpenIn()), worker: worker);
                        if (open.Errno == 0)
                        {
                            ulong fh = open.Read<FuseOpenOut>().Fh;
                            FuseReply read = h.Send(FuseOpcode.Read, node, new ArgsBuilder().Add(new FuseReadIn { Fh = fh, Size = 100 }), worker: worker);
                            Assert.Equal("contents", Encoding.UTF8.GetString(read.Body));
                            Assert.Equal(0, h.Send(FuseOpcode.Release, node, new ArgsBuilder().Add(new FuseReleaseIn { Fh = fh }), worker: worker).Errno);
                        }
                        h.Send(FuseOpcode.Forget, node, new ArgsBuilder().Add(new FuseForgetIn { Nlookup = id == 0 ? ulong.MaxValue : 1 }), worker: worker);
                    }
                }
                catch (Exception exception)
                {
                    lock (failures) failures.Add(exception);
                }
            });
            threads[t].Start();
        }
        foreach (Thread thread in threads) thread.Join();
        Assert.Empty(failures);
        Assert.Equal(0, h.FileSystem.HandleCount);
        h.AssertHealthy();
    }

    private static ulong MknodOk(FuseHarness h, string name, uint mode, uint rdev)
    {
        FuseReply reply = h.Send(FuseOpcode.Mknod, 1, new ArgsBuilder().Add(new FuseMknodIn { Mode = mode, Rdev = rdev }).Name(name));
        Assert.Equal(0, reply.Errno);
        return reply.Read<FuseEntryOut>().NodeId;
    }

    // The fixed-size prefix each name-taking opcode carries before its (first) name.
    private static ArgsBuilder Prefix(FuseOpcode opcode, ulong existing) => opcode switch
    {
        FuseOpcode.Mkdir => new ArgsBuilder().Add(new FuseMkdirIn { Mode = 0x1ED }),
        FuseOpcode.Mknod => new ArgsBuilder().Add(new FuseMknodIn { Mode = 0x81A4 }),
        FuseOpcode.Create => new ArgsBuilder().Add(new FuseCreateIn { Flags = 2, Mode = 0x81A4 }),
        FuseOpcode.Rename => new ArgsBuilder().Add(new FuseRenameIn { NewDir = 1 }),
        FuseOpcode.Rename2 => new ArgsBuilder().Add(new FuseRename2In { NewDir = 1 }),
        FuseOpcode.Link => new ArgsBuilder().Add(new FuseLinkIn { OldNodeId = existing }),
        _ => new ArgsBuilder(),
    };

    // Every place a name can sit in the request: for RENAME both the old and the new name, for SYMLINK the link name.
    private static IEnumerable<byte[]> ArgumentsWithName(FuseOpcode opcode, string name, ulong existing)
    {
        switch (opcode)
        {
            case FuseOpcode.Rename or FuseOpcode.Rename2:
                yield return Prefix(opcode, existing).Name(name).Name("fine");
                yield return Prefix(opcode, existing).Name("existing").Name(name);
                break;
            case FuseOpcode.Symlink:
                yield return new ArgsBuilder().Name(name).Name("/etc/passwd");
                break;
            default:
                yield return Prefix(opcode, existing).Name(name);
                break;
        }
    }
}
