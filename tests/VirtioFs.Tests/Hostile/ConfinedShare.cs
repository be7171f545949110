using System.Text;
using VirtioFs.Backend.Interop;
using VirtioFs.Backend.Share;
using VirtioFs.Frontend;
using VirtioFs.Frontend.Fuse;
using Xunit;

namespace VirtioFs.Tests.Hostile;

/// <summary>
/// An in-process share of Root/shared with a connected frontend, next to a sentinel tree the guest must never touch:
/// <code>
/// Root/shared/            the share
/// Root/outside/secret.txt, victim.txt, dir/inner.txt, fifo (opening it for reading would block)
/// Root/run/vhost-user.sock
/// </code>
/// <see cref="AssertConfined"/> checks inotify events and a snapshot of everything but shared/ and run/, then that the
/// share still answers and counted no internal error.
/// </summary>
internal sealed class ConfinedShare : IDisposable
{
    private readonly OutsideWatch _watch;

    public ConfinedShare(bool xattr = false, int requestQueues = 1, TimeSpan? clientTimeout = null, int maxPayload = 1 << 20,
        VirtioFs.Backend.Passthrough.InodeFileHandles inodeFileHandles = VirtioFs.Backend.Passthrough.InodeFileHandles.Prefer)
    {
        Root = Directory.CreateTempSubdirectory("vfs-hostile-").FullName;
        SharedDir = Directory.CreateDirectory(Path.Combine(Root, "shared")).FullName;
        OutsideDir = Directory.CreateDirectory(Path.Combine(Root, "outside")).FullName;
        Directory.CreateDirectory(Path.Combine(OutsideDir, "dir"));
        File.WriteAllText(Path.Combine(OutsideDir, "secret.txt"), "host secret\n");
        File.WriteAllText(Path.Combine(OutsideDir, "victim.txt"), "must stay as it is\n");
        File.WriteAllText(Path.Combine(OutsideDir, "dir", "inner.txt"), "inner\n");
        MakeNode(Path.Combine(OutsideDir, "fifo"), Libc.S_IFIFO | 0x1B6, 0);
        SocketPath = Path.Combine(Directory.CreateDirectory(Path.Combine(Root, "run")).FullName, "vhost-user.sock");
        _watch = new OutsideWatch(Root, "shared", "run");
        ShareLog = new ShareLog((level, line) => { lock (Log) Log.Add($"{level}: {line}"); }, ShareLogLevel.Info);
        Host = new ShareHost(
            new ShareOptions { SharedDirectory = SharedDir, SocketPath = SocketPath, RequestQueues = requestQueues, Xattr = xattr, Name = "hostile", InodeFileHandles = inodeFileHandles },
            ShareLog);
        Host.Start();
        ClientTimeout = clientTimeout ?? TimeSpan.FromSeconds(10);
        MaxPayload = maxPayload;
        Connect(requestQueues);
    }

    public string Root { get; }
    public string SharedDir { get; }
    public string OutsideDir { get; }
    public string SocketPath { get; }
    public ShareHost Host { get; }
    public List<string> Log { get; } = new();
    public ShareLog ShareLog { get; }
    public TimeSpan ClientTimeout { get; }
    /// <summary>Largest payload per request of the clients: 16 in flight need 2 × 16 × this much guest RAM.</summary>
    public int MaxPayload { get; }
    public VhostUserFrontend Frontend { get; private set; } = null!;
    public FuseClient Client { get; private set; } = null!;

    public void Connect(int requestQueues = 1)
    {
        Frontend = VhostUserFrontend.Connect(SocketPath, new FrontendOptions { RequestQueues = requestQueues, MemorySize = 32UL << 20 }, TimeSpan.FromSeconds(10));
        Client = new FuseClient(Frontend, 1, new FuseClientOptions { Timeout = ClientTimeout, MaxPayload = MaxPayload });
        Assert.Equal(0, Client.Init(out _));
    }

    /// <summary>A second client on request queue <paramref name="queue"/> of the same frontend.</summary>
    public FuseClient ClientOn(int queue) => new(Frontend, queue, new FuseClientOptions { Timeout = ClientTimeout, MaxPayload = MaxPayload });

    /// <summary>Creates a special file (FIFO, socket, device) on the host with mknod(2).</summary>
    public static unsafe void MakeNode(string path, uint mode, ulong dev)
    {
        byte[] p = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* b = p)
        {
            if (Libc.mknodat(Libc.AT_FDCWD, b, mode, dev) != 0) throw ErrnoException.FromLast("mknodat", path);
        }
    }

    /// <summary>Reads the outside watch's events now (long runs: keeps the kernel's inotify queue from overflowing).</summary>
    public void CollectOutsideEvents() => _watch.Collect();

    /// <summary>Re-takes the outside baseline after the test changed something there itself.</summary>
    public void RebaseOutside() => _watch.Rebase();

    /// <summary>Nothing outside was opened, read, created or changed; the share answers GETATTR on the root; no internal error.</summary>
    public void AssertConfined(string? context = null)
    {
        List<string> violations = _watch.Violations();
        Assert.True(violations.Count == 0,
            $"the share touched the host outside its directory{(context is null ? "" : $" ({context})")}:{Environment.NewLine}  " +
            string.Join(Environment.NewLine + "  ", violations));
        AssertServes();
    }

    public void AssertServes()
    {
        Assert.Equal(0, Client.Getattr(1, out FuseAttr attr));
        Assert.Equal(FuseConstants.S_IFDIR, attr.Mode & FuseConstants.S_IFMT);
        Assert.Equal(0L, Host.InternalErrors);
        Assert.NotEqual(ShareState.Failed, Host.State);
    }

    public bool LogContains(string text)
    {
        lock (Log) return Log.Any(l => l.Contains(text, StringComparison.Ordinal));
    }

    public int LogCount(string text)
    {
        lock (Log) return Log.Count(l => l.Contains(text, StringComparison.Ordinal));
    }

    public void Dispose()
    {
        try
        {
            Frontend?.Dispose();
            Host.Dispose();
        }
        finally
        {
            _watch.Dispose();
            RemoveTree(Root);
        }
    }

    /// <summary>Deletes a tree whose names may not be valid UTF-8 (a fuzzing guest creates such names): rm -rf copes.</summary>
    public static void RemoveTree(string root)
    {
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
            using var rm = System.Diagnostics.Process.Start("rm", ["-rf", "--", root]);
            rm.WaitForExit();
        }
    }
}
