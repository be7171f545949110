using System.Net.Sockets;
using VirtioFs.Backend.Share;
using VirtioFs.Backend.VhostUser;
using VirtioFs.Tests.Share;
using Xunit;

namespace VirtioFs.Tests.Registry;

/// <summary>
/// What Start-VirtioFsShare maps to its SocketPathInUse error: ShareHost.Start lets the listener's typed exceptions
/// through unwrapped, with the path, and leaves what is at the path alone.
/// </summary>
[Collection(ProcessWideCountsCollection.Name)]
public sealed class SocketPathErrorTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("vfs-socketpath-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private ShareHost NewShare(string socket)
    {
        string shared = Path.Combine(_root, "shared");
        Directory.CreateDirectory(shared);
        return new ShareHost(new ShareOptions { SharedDirectory = shared, SocketPath = socket, Name = "sp" });
    }

    [Fact]
    public void ARegularFileAtTheSocketPathIsSocketPathNotASocketAndStays()
    {
        string socket = Path.Combine(_root, "file.sock");
        File.WriteAllText(socket, "precious");
        using ShareHost share = NewShare(socket);
        var e = Assert.Throws<SocketPathNotASocketException>(share.Start);
        Assert.Equal(socket, e.SocketPath);
        Assert.IsAssignableFrom<IOException>(e);
        Assert.Equal($"'{socket}' exists and is not a socket. Remove it or choose another socket path.", e.Message);
        Assert.Equal("precious", File.ReadAllText(socket));
        Assert.Equal(ShareState.NotStarted, share.State);
    }

    [Fact]
    public void ADirectoryAtTheSocketPathIsSocketPathNotASocket()
    {
        string socket = Path.Combine(_root, "dir.sock");
        Directory.CreateDirectory(socket);
        using ShareHost share = NewShare(socket);
        Assert.Equal(socket, Assert.Throws<SocketPathNotASocketException>(share.Start).SocketPath);
        Assert.True(Directory.Exists(socket));
    }

    [Fact]
    public void ASocketAnotherListenerHoldsIsSocketPathInUseAndKeepsWorkingForIt()
    {
        string socket = Path.Combine(_root, "live.sock");
        using var other = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        other.Bind(new UnixDomainSocketEndPoint(socket));
        other.Listen(1);
        using ShareHost share = NewShare(socket);
        var e = Assert.Throws<SocketPathInUseException>(share.Start);
        Assert.Equal(socket, e.SocketPath);
        Assert.Equal($"Another daemon is already listening on '{socket}'. Stop it or choose another socket path.", e.Message);
        Assert.True(ShareRegistry<ShareHost>.IsSocketListening(socket));   // not unlinked under the other listener
    }
}
