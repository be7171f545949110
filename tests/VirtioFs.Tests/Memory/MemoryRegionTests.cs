using Microsoft.Win32.SafeHandles;
using VirtioFs.Backend.Interop;
using VirtioFs.Backend.Memory;
using Xunit;

namespace VirtioFs.Tests.Memory;

public unsafe class MemoryRegionTests
{
    [Fact]
    public void Map_StartsTheRegionAtAnUnalignedFdOffset()
    {
        const ulong offset = 0x1234; // not page aligned: Map must map from 0 and add the offset itself
        using SafeFd fd = TestMemfd.Create(offset + 0x3000);
        byte[] pattern = [0xde, 0xad, 0xbe, 0xef];
        using (var file = new SafeFileHandle(fd.Value, ownsHandle: false))
        {
            RandomAccess.Write(file, pattern, (long)offset);
        }

        MemoryRegion region = MemoryRegion.Map(new MemoryRegionInfo(0x10000, 0x3000, 0x7f0000000000, offset), fd);
        try
        {
            Assert.Equal(pattern, new ReadOnlySpan<byte>(region.HostAddress, 4).ToArray());
            Assert.Equal(0x13000UL, region.GuestEnd);
            Assert.Equal(0x7f0000003000UL, region.UserEnd);

            // MAP_SHARED: a store through the mapping reaches the file (and so the guest).
            region.HostAddress[0x2fff] = 0x5a;
            byte[] back = new byte[1];
            using var file = new SafeFileHandle(fd.Value, ownsHandle: false);
            RandomAccess.Read(file, back, (long)offset + 0x2fff);
            Assert.Equal(0x5a, back[0]);
        }
        finally
        {
            region.Release();
        }
    }

    [Fact]
    public void Map_KeepsWorkingAfterTheFdIsClosed()
    {
        MemoryRegion region = TestMemfd.MapNew(new MemoryRegionInfo(0, 0x2000, 0x1000_0000, 0));
        try
        {
            region.HostAddress[0] = 1;
            region.HostAddress[0x1fff] = 2;
            Assert.Equal(2, region.HostAddress[0x1fff]);
        }
        finally
        {
            region.Release();
        }
    }

    [Theory]
    [InlineData(0x1000UL, 0UL, 0x2000UL, 0UL, "size 0")]
    [InlineData(0x1000UL, 0x1000UL, 0x2000UL, ulong.MaxValue - 0xfff, "fd offset + size overflows")]
    [InlineData(ulong.MaxValue - 0xffe, 0x1000UL, 0x2000UL, 0UL, "guest address + size overflows")]
    [InlineData(0x1000UL, 0x1000UL, ulong.MaxValue - 0xffe, 0UL, "user address + size overflows")]
    [InlineData(0x1000UL, 0x8000_0000_0000_0000UL, 0x2000UL, 0UL, "larger than an address space")]
    public void Map_RejectsInconsistentDescriptions(ulong guest, ulong size, ulong user, ulong offset, string expected)
    {
        using SafeFd fd = TestMemfd.Create(0x4000);
        var e = Assert.Throws<ArgumentException>(() => MemoryRegion.Map(new MemoryRegionInfo(guest, size, user, offset), fd));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Map_AcceptsRangesEndingExactlyAtTheTopOfTheAddressSpace()
    {
        // guest + size == 2^64 - 1 is the largest end that still fits; one more byte must be refused (test above).
        var info = new MemoryRegionInfo(ulong.MaxValue - 0x1000, 0x1000, ulong.MaxValue - 0x1000, 0);
        MemoryRegion region = TestMemfd.MapNew(info);
        Assert.Equal(ulong.MaxValue, region.GuestEnd);
        Assert.Equal(ulong.MaxValue, region.UserEnd);
        region.Release();
    }

    [Fact]
    public void Map_RejectsAnFdShorterThanTheRegion()
    {
        // Touching pages past the end of a shared file would SIGBUS the whole process.
        using SafeFd fd = TestMemfd.Create(0x2000);
        var e = Assert.Throws<ArgumentException>(() => MemoryRegion.Map(new MemoryRegionInfo(0, 0x2000, 0, 0x10), fd));
        Assert.Contains("has only 8192", e.Message);
    }

    [Fact]
    public void Map_RejectsAClosedFd()
    {
        SafeFd fd = TestMemfd.Create(0x1000);
        fd.Dispose();
        Assert.Throws<ArgumentException>(() => MemoryRegion.Map(new MemoryRegionInfo(0, 0x1000, 0, 0), fd));
    }

    [Fact]
    public void Map_ReportsMmapFailureWithErrno()
    {
        // MAP_SHARED + PROT_WRITE on a read-only fd: mmap fails with EACCES.
        string path = Path.Combine(Path.GetTempPath(), $"virtiofs-ro-{Guid.NewGuid():N}");
        try
        {
            File.WriteAllBytes(path, new byte[0x2000]);
            using SafeFileHandle ro = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
            using var fd = new SafeFd((int)ro.DangerousGetHandle(), ownsHandle: false);
            var e = Assert.Throws<ErrnoException>(() => MemoryRegion.Map(new MemoryRegionInfo(0, 0x2000, 0, 0), fd));
            Assert.Equal("mmap", e.Call);
            Assert.Equal(Errno.EACCES, e.Errno);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Release_UnmapsOnTheLastReferenceOnly()
    {
        string name = $"virtiofs-region-{Guid.NewGuid():N}";
        MemoryRegion region = TestMemfd.MapNew(new MemoryRegionInfo(0, 0x4000, 0, 0), name);
        Assert.Equal(1, TestMemfd.CountMapsLinesContaining(name));

        region.AddRef();
        Assert.Equal(2, region.ReferenceCount);
        region.Release();
        Assert.True(region.IsMapped);
        Assert.Equal(1, TestMemfd.CountMapsLinesContaining(name));
        region.HostAddress[0x3fff] = 7; // still mapped: must not fault

        region.Release();
        Assert.False(region.IsMapped);
        Assert.Equal(0, TestMemfd.CountMapsLinesContaining(name));

        Assert.Throws<ObjectDisposedException>(region.AddRef);
        Assert.Throws<InvalidOperationException>(region.Release);
        Assert.Equal(0, region.ReferenceCount);
    }
}
