using Xunit;
using VirtioFs.Backend.VhostUser;

namespace VirtioFs.Tests.Share;

public sealed class ListenerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vfs-listener-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void SocketIsPrivateToTheUserAndRemovedOnDispose()
    {
        string path = Path.Combine(_dir, "a.sock");
        using (VhostUserListener.Create(path))
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void ALiveSocketIsNotStolen()
    {
        string path = Path.Combine(_dir, "b.sock");
        using var first = VhostUserListener.Create(path);
        var e = Assert.Throws<SocketPathInUseException>(() => VhostUserListener.Create(path));
        Assert.Contains("already listening", e.Message);
        Assert.Equal(path, e.SocketPath);
    }

    [Fact]
    public void AStaleSocketIsReplacedButARegularFileIsNot()
    {
        string stale = Path.Combine(_dir, "c.sock");
        using (var s = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified))
        {
            s.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(stale));   // bound, never listening: stale
        }
        using (VhostUserListener.Create(stale)) { }

        string file = Path.Combine(_dir, "d.sock");
        File.WriteAllText(file, "precious");
        Assert.Equal(file, Assert.Throws<SocketPathNotASocketException>(() => VhostUserListener.Create(file)).SocketPath);
        Assert.Equal("precious", File.ReadAllText(file));
    }

    [Fact]
    public async Task ShutdownWakesABlockedAccept()
    {
        using var listener = VhostUserListener.Create(Path.Combine(_dir, "e.sock"));
        var accepting = Task.Run(listener.Accept);
        await Task.Delay(100);
        listener.Shutdown();
        Assert.Null(await accepting.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void TooLongPathSaysWhy()
    {
        var e = Assert.Throws<ArgumentException>(() => VhostUserListener.Create("/tmp/" + new string('x', 120)));
        Assert.Contains("107 bytes", e.Message);
    }
}
