using VirtioFs.Backend.Share;
using VirtioFs.Frontend;
using VirtioFs.Frontend.Fuse;
using Xunit;

namespace VirtioFs.Tests.Bench;

/// <summary>
/// An in-process share with a chosen worker-pool size, a connected frontend and an initialized client that may keep
/// up to 64 requests in flight; the log is kept at Debug level so a test can see which requests went to the pool.
/// </summary>
internal sealed class PooledShare : IDisposable
{
    private readonly string _root;

    public PooledShare(int threadPoolSize, Action<string>? prepare = null)
    {
        _root = Directory.CreateTempSubdirectory("vfs-pool-").FullName;
        SharedDir = Path.Combine(_root, "shared");
        Directory.CreateDirectory(SharedDir);
        prepare?.Invoke(SharedDir);
        string socket = Path.Combine(_root, "vhost-user.sock");
        Host = new ShareHost(
            new ShareOptions { SharedDirectory = SharedDir, SocketPath = socket, ThreadPoolSize = threadPoolSize, Name = "pool-test" },
            new ShareLog((level, line) => { lock (Log) Log.Add($"{level}: {line}"); }, ShareLogLevel.Debug));
        Host.Start();
        Frontend = VhostUserFrontend.Connect(socket, new FrontendOptions { MemorySize = 48UL << 20 }, TimeSpan.FromSeconds(10));
        Client = new FuseClient(Frontend, 1, new FuseClientOptions { MaxInFlight = 64, MaxPayload = 64 << 10 });
        Assert.Equal(0, Client.Init(out _));
    }

    public string SharedDir { get; }

    public ShareHost Host { get; }

    public VhostUserFrontend Frontend { get; }

    public FuseClient Client { get; }

    public List<string> Log { get; } = new();

    public int CountLog(string text)
    {
        lock (Log) return Log.Count(l => l.Contains(text, StringComparison.Ordinal));
    }

    public void Dispose()
    {
        Frontend.Dispose();
        Host.Dispose();
        Directory.Delete(_root, recursive: true);
    }
}
