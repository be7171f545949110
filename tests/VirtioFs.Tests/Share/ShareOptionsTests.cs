using Xunit;
using VirtioFs.Backend.Share;

namespace VirtioFs.Tests.Share;

public sealed class ShareOptionsTests
{
    private static ShareOptions Valid(Func<ShareOptions, ShareOptions>? change = null)
    {
        var o = new ShareOptions { SharedDirectory = Path.GetTempPath(), SocketPath = "/tmp/x.sock" };
        return change is null ? o : change(o);
    }

    [Fact]
    public void DefaultsMatchVirtiofsd()
    {
        var o = Valid();
        o.Validate();
        Assert.Equal(1, o.RequestQueues);
        Assert.Equal(32768, o.MaxQueueSize);
        Assert.False(o.AdvertiseConfig);
        Assert.False(o.Xattr);
        Assert.True(o.ReaddirPlus);
        Assert.Equal(0, o.ThreadPoolSize);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a-tag-that-is-much-longer-than-36-bytes")]
    [InlineData("line\nbreak")]
    [InlineData("nul\0")]
    public void BadTagsAreRefused(string tag)
        => Assert.Throws<ArgumentException>(() => ShareOptions.ValidateTag(tag));

    [Fact]
    public void TagLengthIsCountedInUtf8Bytes()
    {
        ShareOptions.ValidateTag(new string('x', 36));
        Assert.Throws<ArgumentException>(() => ShareOptions.ValidateTag(new string('é', 19)));   // 38 bytes
    }

    [Fact]
    public void MissingDirectorySaysWhichAndWhatToDo()
    {
        var o = new ShareOptions { SharedDirectory = "/nonexistent/dir", SocketPath = "/tmp/x.sock" };
        var e = Assert.Throws<DirectoryNotFoundException>(o.Validate);
        Assert.Contains("/nonexistent/dir", e.Message);
    }

    [Fact]
    public void SocketAndFdAreExclusive()
    {
        Assert.Throws<ArgumentException>(() => new ShareOptions { SharedDirectory = "/tmp", SocketPath = "/tmp/a", ListenFd = 3 }.Validate());
        Assert.Throws<ArgumentException>(() => new ShareOptions { SharedDirectory = "/tmp" }.Validate());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(256)]
    public void RequestQueuesAreBounded(int queues)
        => Assert.Throws<ArgumentOutOfRangeException>(() => new ShareOptions { SharedDirectory = "/tmp", SocketPath = "/tmp/a", RequestQueues = queues }.Validate());
}
