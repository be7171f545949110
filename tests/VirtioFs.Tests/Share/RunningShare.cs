using Xunit;
using VirtioFs.Backend.Share;
using VirtioFs.Frontend;
using VirtioFs.Frontend.Fuse;

namespace VirtioFs.Tests.Share;

/// <summary>
/// An in-process share of a fresh temporary directory, plus a connected frontend and an initialized FUSE client:
/// the real socket, real memfd guest memory, real eventfds and the real file system underneath.
/// </summary>
internal sealed class RunningShare : IDisposable
{
    private readonly string _root;

    public RunningShare(int requestQueues = 1, bool connect = true)
    {
        _root = Directory.CreateTempSubdirectory("vfs-share-").FullName;
        SharedDir = Path.Combine(_root, "shared");
        Directory.CreateDirectory(SharedDir);
        SocketPath = Path.Combine(_root, "vhost-user.sock");
        Host = new ShareHost(
            new ShareOptions { SharedDirectory = SharedDir, SocketPath = SocketPath, RequestQueues = requestQueues, Name = "test" },
            new ShareLog((level, line) => { lock (Log) Log.Add($"{level}: {line}"); }, ShareLogLevel.Info));
        Host.Start();
        if (connect) Connect(requestQueues);
    }

    public string SharedDir { get; }

    public string SocketPath { get; }

    /// <summary>The directory that contains the shared one: nothing may ever appear here.</summary>
    public string Outside => _root;

    public ShareHost Host { get; }

    public List<string> Log { get; } = new();

    public VhostUserFrontend? Frontend { get; private set; }

    public FuseClient Client { get; private set; } = null!;

    public void Connect(int requestQueues = 1)
    {
        Frontend = VhostUserFrontend.Connect(SocketPath, new FrontendOptions { RequestQueues = requestQueues, MemorySize = 16UL << 20 }, TimeSpan.FromSeconds(10));
        Client = new FuseClient(Frontend, 1);
        Assert.Equal(0, Client.Init(out _));
    }

    public void Disconnect()
    {
        Frontend?.Dispose();
        Frontend = null;
    }

    /// <summary>Waits until the share reaches <paramref name="state"/> (the connection thread runs on its own).</summary>
    public void WaitFor(ShareState state)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (Host.State != state)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"share stayed {Host.State}, expected {state}");
            Thread.Sleep(10);
        }
    }

    public bool LogContains(string text)
    {
        lock (Log) return Log.Any(l => l.Contains(text, StringComparison.Ordinal));
    }

    public void Dispose()
    {
        Disconnect();
        Host.Dispose();
        Directory.Delete(_root, recursive: true);
    }
}
