using System.Runtime.InteropServices;
using VirtioFs.Backend.Fuse;
using VirtioFs.Backend.Fuse.Abi;
using VirtioFs.Backend.Memory;
using VirtioFs.Tests.Fuse;
using Xunit;

namespace VirtioFs.Tests.Passthrough;

/// <summary>
/// READ and WRITE move data with one preadv/pwritev per IOV_MAX iovecs, merging segments that are adjacent in memory.
/// Whatever the segments (page-sized and adjacent as a guest's, odd-sized, scattered, empty, more than IOV_MAX), the
/// bytes must land exactly where they belong, and a short transfer at end of file must report what moved.
/// </summary>
public sealed unsafe class VectoredIoTests : IDisposable
{
    private const int OneMiB = 1 << 20;
    private readonly FuseHarness _h = new();
    private readonly List<nint> _allocations = new();
    private readonly byte[] _content = new byte[OneMiB + 12345];

    public VectoredIoTests() => new Random(3).NextBytes(_content);

    public void Dispose()
    {
        foreach (nint p in _allocations) NativeMemory.Free((void*)p);
        _h.Dispose();
    }

    private byte* Alloc(int size)
    {
        byte* p = (byte*)NativeMemory.Alloc((nuint)Math.Max(size, 1));
        _allocations.Add((nint)p);
        new Span<byte>(p, size).Fill(0xCC);
        return p;
    }

    /// <summary>Segments covering <paramref name="total"/> bytes: runs carved from one buffer (adjacent) and separate buffers, odd sizes, some empty.</summary>
    private IoSegment[] Segments(int total, int seed, bool adjacentRuns, int maxSegment = 4096)
    {
        var random = new Random(seed);
        var segments = new List<IoSegment>();
        int left = total;
        while (left > 0)
        {
            if (!adjacentRuns)
            {
                int size = Math.Min(left, random.Next(1, maxSegment + 1));
                segments.Add(new IoSegment(Alloc(size), (uint)size));
                left -= size;
                continue;
            }
            int run = Math.Min(left, random.Next(1, 8) * maxSegment);
            byte* block = Alloc(run);
            for (int used = 0; used < run;)
            {
                int size = Math.Min(run - used, random.Next(1, maxSegment + 1));
                if (random.Next(10) == 0) segments.Add(new IoSegment(block + used, 0));
                segments.Add(new IoSegment(block + used, (uint)size));
                used += size;
            }
            left -= run;
        }
        return segments.ToArray();
    }

    private static byte[] Gather(IoSegment[] segments, int length)
    {
        var bytes = new byte[length];
        int at = 0;
        foreach (IoSegment s in segments)
        {
            if (at == length) break;
            int take = Math.Min((int)s.Length, length - at);
            s.AsSpan()[..take].CopyTo(bytes.AsSpan(at));
            at += take;
        }
        return bytes;
    }

    private (ulong Node, ulong Fh) CreateFile(byte[] content)
    {
        File.WriteAllBytes(Path.Combine(_h.Share, "data"), content);
        ulong node = _h.LookupId(1, "data");
        FuseReply open = _h.Open(node, 2);
        Assert.Equal(0, open.Errno);
        return (node, open.Read<FuseOpenOut>().Fh);
    }

    [Theory]
    [InlineData(true, 4096, 0)]
    [InlineData(false, 4096, 0)]
    [InlineData(true, 700, 333)]
    [InlineData(false, 700, 333)]    // ~1500 scattered segments: more than IOV_MAX, several calls
    public void AOneMebibyteReadAcrossManySegmentsLandsExactly(bool adjacentRuns, int maxSegment, int offset)
    {
        (ulong node, ulong fh) = CreateFile(_content);
        IoSegment[] segments = Segments(OneMiB, seed: maxSegment + offset, adjacentRuns, maxSegment);
        if (!adjacentRuns && maxSegment < 1024) Assert.True(segments.Length > 1024, $"{segments.Length} segments");
        int errno = _h.FileSystem.Read(new FuseContext(0, 0, 1, 1), node, fh, (ulong)offset, segments, out int read);
        Assert.Equal(0, errno);
        Assert.Equal(OneMiB, read);
        Assert.True(_content.AsSpan(offset, OneMiB).SequenceEqual(Gather(segments, OneMiB)));
    }

    [Fact]
    public void AReadPastTheEndStopsShortAndReportsWhatMoved()
    {
        (ulong node, ulong fh) = CreateFile(_content);
        IoSegment[] segments = Segments(OneMiB, seed: 5, adjacentRuns: false, 900);
        int offset = _content.Length - 5000;
        Assert.Equal(0, _h.FileSystem.Read(new FuseContext(0, 0, 1, 1), node, fh, (ulong)offset, segments, out int read));
        Assert.Equal(5000, read);
        Assert.True(_content.AsSpan(offset).SequenceEqual(Gather(segments, 5000)));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AOneMebibyteWriteFromManySegmentsLandsExactly(bool adjacentRuns)
    {
        (ulong node, ulong fh) = CreateFile([]);
        IoSegment[] segments = Segments(OneMiB, seed: 9, adjacentRuns, 1000);
        byte[] payload = _content[..OneMiB];
        int at = 0;
        foreach (IoSegment s in segments)
        {
            payload.AsSpan(at, (int)s.Length).CopyTo(s.AsSpan());
            at += (int)s.Length;
        }
        Assert.Equal(0, _h.FileSystem.Write(new FuseContext(0, 0, 1, 1), node, fh, 4096, segments, 0, out int written));
        Assert.Equal(OneMiB, written);
        byte[] file = File.ReadAllBytes(Path.Combine(_h.Share, "data"));
        Assert.Equal(4096 + OneMiB, file.Length);
        Assert.True(file.AsSpan(0, 4096).IndexOfAnyExcept((byte)0) < 0);
        Assert.True(payload.AsSpan().SequenceEqual(file.AsSpan(4096)));
    }

    /// <summary>Through the server: a 1 MiB READ into 256 guest pages (one buffer, as a guest's contiguous memory) and into scattered pages.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A1MiBReadRequestIntoGuestPages(bool contiguousPages)
    {
        (ulong node, ulong fh) = CreateFile(_content);
        byte[] request = _h.BuildRequest(FuseOpcode.Read, node, new ArgsBuilder().Add(new FuseReadIn { Fh = fh, Offset = 100, Size = OneMiB }));
        var requestList = new SegmentList(4);
        var replyList = new SegmentList(300);
        byte* header = Alloc(16);
        byte* pages = contiguousPages ? Alloc(OneMiB) : null;
        Assert.True(replyList.TryAdd(header, 16));
        for (int i = 0; i < 256; i++) Assert.True(replyList.TryAdd(contiguousPages ? pages + i * 4096 : Alloc(4096), 4096));
        fixed (byte* r = request)
        {
            Assert.True(requestList.TryAdd(r, (uint)request.Length));
            int used = _h.Server.HandleRequest(_h.Worker, requestList, replyList);
            Assert.Equal(16 + OneMiB, used);
        }
        Assert.Equal(0, *(int*)(header + 4));
        IoSegment[] data = replyList.AsSpan()[1..].ToArray();
        Assert.True(_content.AsSpan(100, OneMiB).SequenceEqual(Gather(data, OneMiB)));
    }
}
