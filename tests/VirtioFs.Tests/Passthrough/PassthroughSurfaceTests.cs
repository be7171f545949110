using System.Reflection;
using VirtioFs.Backend.Fuse;
using VirtioFs.Backend.Passthrough;
using Xunit;

namespace VirtioFs.Tests.Passthrough;

public class PassthroughSurfaceTests
{
    /// <summary>
    /// IFileSystem's default methods answer ENOSYS, so a signature slip in PassthroughFileSystem would silently
    /// fall back to "not supported". Every interface method must map to a method the class declares.
    /// </summary>
    [Fact]
    public void EveryFileSystemOperationIsImplementedNotDefaulted()
    {
        InterfaceMapping map = typeof(PassthroughFileSystem).GetInterfaceMap(typeof(IFileSystem));
        var defaulted = map.TargetMethods
            .Where(method => method.DeclaringType != typeof(PassthroughFileSystem))
            .Select(method => method.Name)
            .ToArray();
        Assert.Empty(defaulted);
    }

    [Fact]
    public void OptionsDocumentedDefaults()
    {
        var options = new PassthroughOptions { SharedDirectory = "/" };
        Assert.Equal(CachePolicy.Auto, options.Cache);
        Assert.False(options.ReadOnly);
        Assert.True(options.ReaddirPlus);
        Assert.False(options.Writeback);
        Assert.False(options.Xattr);
        Assert.False(options.AllowDirectIo);
        var server = new FuseServerOptions();
        Assert.Equal(1u << 20, server.MaxWrite);
        Assert.Equal((ushort)256, server.MaxPages);
        Assert.Equal((ushort)65535, server.MaxBackground);
        Assert.Equal((ushort)49149, server.CongestionThreshold);
        Assert.Equal(1u, server.TimeGran);
    }

    [Fact]
    public void MissingSharedDirectoryThrowsWithTheErrno()
    {
        var error = Assert.Throws<VirtioFs.Backend.Interop.ErrnoException>(
            () => new PassthroughFileSystem(new PassthroughOptions { SharedDirectory = "/nonexistent/vfs-share" }));
        Assert.Equal(VirtioFs.Backend.Interop.Errno.ENOENT, error.Errno);
    }
}
