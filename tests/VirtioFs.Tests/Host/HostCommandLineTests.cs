using Xunit;
using VirtioFs.Backend.Passthrough;
using VirtioFs.Host;

namespace VirtioFs.Tests.Host;

/// <summary>virtiofs-host must accept the command lines people already give virtiofsd.</summary>
public sealed class HostCommandLineTests
{
    [Fact]
    public void TheCVirtiofsdFormWorks()
    {
        var line = HostCommandLine.Parse(["--socket-path=/tmp/vfs.sock", "-o", "source=/srv/share,cache=always,xattr"]);
        var options = line.ToShareOptions();
        Assert.Equal("/srv/share", options.SharedDirectory);
        Assert.Equal("/tmp/vfs.sock", options.SocketPath);
        Assert.Equal(CachePolicy.Always, options.Cache);
        Assert.True(options.Xattr);
    }

    [Fact]
    public void TheRustVirtiofsdFormWorks()
    {
        var line = HostCommandLine.Parse(["--shared-dir", "/srv/share", "--fd", "3", "--cache", "never", "--thread-pool-size", "0", "--readonly", "--log-level", "debug"]);
        var options = line.ToShareOptions();
        Assert.Equal(3, options.ListenFd);
        Assert.Equal(CachePolicy.Never, options.Cache);
        Assert.False(options.ReaddirPlus);   // virtiofsd: cache=never turns readdirplus off
        Assert.True(options.ReadOnly);
    }

    [Fact]
    public void SandboxOptionsAreAcceptedAndReported()
    {
        var line = HostCommandLine.Parse(["--shared-dir=/x", "--socket-path=/s", "--sandbox=chroot", "--announce-submounts"]);
        Assert.Equal(2, line.Notes.Count);
    }

    [Theory]
    [InlineData("--bogus")]
    [InlineData("--cache=sometimes")]
    [InlineData("--thread-pool-size=-1")]
    [InlineData("-o", "source")]
    [InlineData("-o", "frobnicate")]
    [InlineData("--socket-path")]
    public void BadOptionsAreNamed(params string[] args)
    {
        var e = Assert.Throws<ArgumentException>(() => HostCommandLine.Parse(args));
        Assert.NotEmpty(e.Message);
    }

    [Fact]
    public void MissingDirectoryOrSocketSaysWhatToPass()
    {
        Assert.Contains("--shared-dir", Assert.Throws<ArgumentException>(() => HostCommandLine.Parse(["--socket-path=/s"]).ToShareOptions()).Message);
        Assert.Contains("--socket-path", Assert.Throws<ArgumentException>(() => HostCommandLine.Parse(["--shared-dir=/x"]).ToShareOptions()).Message);
    }
}
