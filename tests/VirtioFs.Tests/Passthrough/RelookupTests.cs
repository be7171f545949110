using VirtioFs.Backend.Fuse.Abi;
using VirtioFs.Backend.Interop;
using VirtioFs.Backend.Passthrough;
using VirtioFs.Tests.Fuse;
using VirtioFs.Tests.Share;
using Xunit;

namespace VirtioFs.Tests.Passthrough;

/// <summary>
/// LOOKUPs of inodes the guest already knows (dentry re-validation) are answered by one statx by name once they are
/// common (RelookupRate): same node, fresh attributes, each one counted for FORGET, no descriptor opened, and a
/// name the host replaced or turned into a symlink meanwhile still gets what openat(O_PATH|O_NOFOLLOW) would give.
/// </summary>
[Collection(ProcessWideCountsCollection.Name)]   // counts the process's descriptors
public sealed class RelookupTests
{
    private const int ENOENT = 2;

    private static FuseHarness Harness(InodeFileHandles mode) => new(share => new PassthroughOptions { SharedDirectory = share, InodeFileHandles = mode });

    private static FuseEntryOut Entry(FuseHarness h, string name)
    {
        FuseReply reply = h.Lookup(1, name);
        Assert.Equal(0, reply.Errno);
        return reply.Read<FuseEntryOut>();
    }

    private static int OpenFds() => Directory.GetFiles("/proc/self/fd").Length;

    [Theory]
    [InlineData(InodeFileHandles.Prefer)]
    [InlineData(InodeFileHandles.Never)]
    public void RelookupsOfAKnownInodeAreAnsweredByNameCountedForForgetAndOpenNothing(InodeFileHandles mode)
    {
        using FuseHarness h = Harness(mode);
        string path = Path.Combine(h.Share, "known");
        File.WriteAllText(path, "1234");
        ulong id = Entry(h, "known").NodeId;
        int inodes = h.FileSystem.InodeCount;
        int fds = OpenFds();

        for (int i = 0; i < 40; i++)
        {
            if (i == 20) File.AppendAllText(path, "5678");   // attributes come fresh from the host every time
            FuseEntryOut again = Entry(h, "known");
            Assert.Equal(id, again.NodeId);
            Assert.Equal(i < 20 ? 4UL : 8UL, again.Attr.Size);
        }
        Assert.True(h.FileSystem.LookupsAnsweredByName > 20, $"only {h.FileSystem.LookupsAnsweredByName} of 40 re-lookups were answered by name");
        Assert.Equal(fds, OpenFds());
        Assert.Equal(inodes, h.FileSystem.InodeCount);
        Assert.Equal(ENOENT, h.Lookup(1, "absent").Errno);

        // 41 lookups in all: 40 FORGETs keep the inode, the 41st drops it.
        h.Send(FuseOpcode.Forget, id, new ArgsBuilder().Add(new FuseForgetIn { Nlookup = 40 }));
        Assert.Equal(0, h.GetAttr(id).Errno);
        h.Send(FuseOpcode.Forget, id, new ArgsBuilder().Add(new FuseForgetIn { Nlookup = 1 }));
        Assert.Equal(inodes - 1, h.FileSystem.InodeCount);
        h.AssertHealthy();
    }

    [Fact]
    public void ANameTheHostReplacedOrTurnedIntoASymlinkGetsTheNewInodeNotTheKnownOne()
    {
        using FuseHarness h = Harness(InodeFileHandles.Prefer);
        File.WriteAllText(Path.Combine(h.Share, "name"), "old");
        File.WriteAllText(Path.Combine(h.Share, "other"), "the other file");
        Directory.CreateDirectory(Path.Combine(h.Share, "dir"));
        ulong oldId = Entry(h, "name").NodeId;
        ulong dirId = Entry(h, "dir").NodeId;
        for (int i = 0; i < 30; i++)
        {
            Assert.Equal(oldId, Entry(h, "name").NodeId);
            Assert.Equal(dirId, Entry(h, "dir").NodeId);
        }
        long byName = h.FileSystem.LookupsAnsweredByName;
        Assert.True(byName > 0);

        // The host renames another file over the name: a new inode, with its own attributes.
        File.Move(Path.Combine(h.Share, "other"), Path.Combine(h.Share, "name"), overwrite: true);
        FuseEntryOut replaced = Entry(h, "name");
        Assert.NotEqual(oldId, replaced.NodeId);
        Assert.Equal((ulong)"the other file".Length, replaced.Attr.Size);

        // The host swaps the known directory for a symlink out of the share: the guest sees the link, not its target.
        Directory.Delete(Path.Combine(h.Share, "dir"));
        File.CreateSymbolicLink(Path.Combine(h.Share, "dir"), h.Outside);
        FuseEntryOut link = Entry(h, "dir");
        Assert.NotEqual(dirId, link.NodeId);
        Assert.Equal(Libc.S_IFLNK, link.Attr.Mode & Libc.S_IFMT);
        Assert.Equal((ulong)System.Text.Encoding.UTF8.GetByteCount(h.Outside), link.Attr.Size);
        Assert.Equal(byName, h.FileSystem.LookupsAnsweredByName);   // neither was known: both went the openat way
        h.AssertHealthy();
    }
}
