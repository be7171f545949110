using VirtioFs.Backend.Fuse.Abi;
using VirtioFs.Tests.Fuse;
using Xunit;

namespace VirtioFs.Tests.Passthrough;

/// <summary>
/// READDIR(PLUS) keeps, per directory handle, the records read but not sent and the offset they continue at, and seeks
/// only when the guest asks for another offset. Whatever the paging, the offsets and the interleaving, every listing
/// must hold each entry exactly once, and an offset from an earlier listing must resume right after its entry.
/// </summary>
public sealed class DirectoryStreamTests : IDisposable
{
    private const int Entries = 300;
    private readonly FuseHarness _h = new();
    private readonly HashSet<string> _expected = new() { ".", ".." };

    public DirectoryStreamTests()
    {
        var random = new Random(7);
        for (int i = 0; i < Entries; i++)
        {
            // Names of very different lengths, so records of both formats straddle every reply boundary.
            string name = $"e{i:D3}-{new string((char)('a' + i % 26), random.Next(0, 200))}";
            _expected.Add(name);
            File.WriteAllText(Path.Combine(_h.Share, name), "");
        }
    }

    public void Dispose() => _h.Dispose();

    private ulong OpenDir()
    {
        FuseReply open = _h.Send(FuseOpcode.OpenDir, 1, new ArgsBuilder().Add(new FuseOpenIn()));
        Assert.Equal(0, open.Errno);
        return open.Read<FuseOpenOut>().Fh;
    }

    private List<DirentParser.Entry> Page(ulong fh, ulong offset, uint size, bool plus, VirtioFs.Backend.Fuse.FuseWorker? worker = null)
    {
        FuseReply reply = _h.Send(plus ? FuseOpcode.ReadDirPlus : FuseOpcode.ReadDir, 1,
            new ArgsBuilder().Add(new FuseReadIn { Fh = fh, Offset = offset, Size = size }), worker: worker);
        Assert.Equal(0, reply.Errno);
        Assert.True(reply.Body.Length <= size);
        return DirentParser.Parse(reply.Body, plus);
    }

    /// <summary>Pages through the whole directory from <paramref name="offset"/>; forgets READDIRPLUS's lookups again.</summary>
    private List<DirentParser.Entry> List(ulong fh, bool plus, uint[] sizes, ulong offset = 0, VirtioFs.Backend.Fuse.FuseWorker? worker = null)
    {
        var seen = new List<DirentParser.Entry>();
        for (int page = 0; ; page++)
        {
            Assert.True(page < 10_000, "the listing never ends");
            List<DirentParser.Entry> entries = Page(fh, offset, sizes[page % sizes.Length], plus, worker);
            if (entries.Count == 0) break;
            seen.AddRange(entries);
            offset = entries[^1].Offset;
        }
        if (plus)
        {
            foreach (DirentParser.Entry e in seen.Where(e => e.Plus.NodeId != 0))
                _h.Send(FuseOpcode.Forget, e.Plus.NodeId, new ArgsBuilder().Add(new FuseForgetIn { Nlookup = 1 }), worker: worker);
        }
        return seen;
    }

    private void AssertComplete(List<DirentParser.Entry> seen)
    {
        Assert.Equal(_expected.Count, seen.Count);
        Assert.True(_expected.SetEquals(seen.Select(e => e.Name)), "an entry is missing or doubled");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PagingWithOddSizesListsEveryEntryOnce(bool plus)
    {
        ulong fh = OpenDir();
        AssertComplete(List(fh, plus, [400, 513, 1000, 1777, 4096, 457]));
        // Read to the end: the same handle, rewound (offset 0), lists everything again.
        AssertComplete(List(fh, plus, [4096]));
        AssertComplete(List(fh, plus, [65536]));
        Assert.Equal(1, _h.FileSystem.InodeCount);   // every READDIRPLUS lookup was sent, so it could be forgotten
        _h.AssertHealthy();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AnOffsetFromAnEarlierListingResumesRightAfterItsEntry(bool plus)
    {
        ulong first = OpenDir();
        List<DirentParser.Entry> listing = List(first, plus, [4096]);
        AssertComplete(listing);

        ulong fh = OpenDir();
        var random = new Random(11);
        for (int i = 0; i < 60; i++)
        {
            // telldir/seekdir: any offset handed out before, on this handle or another, in any order.
            int at = random.Next(listing.Count);
            List<DirentParser.Entry> page = Page(fh, listing[at].Offset, (uint)random.Next(400, 2000), plus);
            if (at == listing.Count - 1)
            {
                Assert.Empty(page);
                continue;
            }
            Assert.NotEmpty(page);
            for (int k = 0; k < page.Count; k++) Assert.Equal(listing[at + 1 + k].Name, page[k].Name);
            if (plus)
            {
                foreach (DirentParser.Entry e in page.Where(e => e.Plus.NodeId != 0))
                    _h.Send(FuseOpcode.Forget, e.Plus.NodeId, new ArgsBuilder().Add(new FuseForgetIn { Nlookup = 1 }));
            }
        }
        // And then from the middle to the end, in one go on the same handle.
        int middle = listing.Count / 2;
        List<DirentParser.Entry> rest = List(fh, plus, [700], listing[middle].Offset);
        Assert.Equal(listing.Skip(middle + 1).Select(e => e.Name), rest.Select(e => e.Name));
        Assert.Equal(1, _h.FileSystem.InodeCount);
        _h.AssertHealthy();
    }

    /// <summary>Two readers on one handle (a hostile or merely threaded guest): each must still see whole listings.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ConcurrentReadersOfOneHandleEachSeeTheWholeListing(bool plus)
    {
        ulong fh = OpenDir();
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var threads = new Thread[3];
        for (int t = 0; t < threads.Length; t++)
        {
            uint[] sizes = t switch { 0 => [512], 1 => [1500, 600], _ => [4096, 777] };
            threads[t] = new Thread(() =>
            {
                using var worker = new VirtioFs.Backend.Fuse.FuseWorker();
                for (int pass = 0; pass < 8; pass++)
                {
                    List<DirentParser.Entry> seen = List(fh, plus, sizes, worker: worker);
                    if (seen.Count != _expected.Count || !_expected.SetEquals(seen.Select(e => e.Name)))
                        failures.Add($"pass {pass}: {seen.Count} entries, {seen.Select(e => e.Name).Distinct().Count()} distinct");
                }
            });
            threads[t].Start();
        }
        foreach (Thread thread in threads) thread.Join();
        Assert.Empty(failures);
        Assert.Equal(1, _h.FileSystem.InodeCount);
        _h.AssertHealthy();
    }

    [Fact]
    public void AReleasedHandleCannotBeReadAndANewOneStartsAtTheBeginning()
    {
        ulong fh = OpenDir();
        List<DirentParser.Entry> firstPage = Page(fh, 0, 600, plus: false);
        Assert.NotEmpty(firstPage);
        Assert.Equal(0, _h.Release(1, fh, FuseOpcode.ReleaseDir).Errno);
        FuseReply stale = _h.Send(FuseOpcode.ReadDir, 1, new ArgsBuilder().Add(new FuseReadIn { Fh = fh, Offset = firstPage[^1].Offset, Size = 600 }));
        Assert.Equal(9, stale.Errno);
        AssertComplete(List(OpenDir(), plus: false, [600]));
    }
}
