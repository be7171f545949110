using VirtioFs.Frontend;
using VirtioFs.Frontend.Fuse;

namespace VirtioFs.Tests.Frontend;

/// <summary>
/// One backend daemon on a fresh shared directory, the frontend connected to it and an initialised FUSE client.
/// Dispose closes the frontend, stops the daemon and deletes the directory, whatever state the test left them in.
/// </summary>
public sealed class BackendSession : IDisposable
{
    private readonly TempDirectory _temp;
    private DaemonProcess? _daemon;
    private VhostUserFrontend? _frontend;

    private BackendSession(TempDirectory temp)
    {
        _temp = temp;
        SharedDir = temp.Combine("share");
        SocketPath = temp.Combine("vhost.sock");
        Directory.CreateDirectory(SharedDir);
    }

    public string SharedDir { get; }
    public string SocketPath { get; }
    public DaemonProcess Daemon => _daemon!;
    public VhostUserFrontend Frontend => _frontend!;
    public FuseClient Fuse { get; private set; } = null!;

    public enum Kind { Virtiofsd, Ours }

    /// <summary>Starts the daemon (optionally after <paramref name="prepare"/> filled the shared dir) and connects.</summary>
    public static BackendSession Start(Kind kind, Action<string>? prepare = null, FrontendOptions? options = null,
        FuseClientOptions? fuseOptions = null, bool init = true)
    {
        var session = new BackendSession(new TempDirectory());
        try
        {
            prepare?.Invoke(session.SharedDir);
            session._daemon = kind == Kind.Virtiofsd
                ? DaemonProcess.StartVirtiofsd(session.SharedDir, session.SocketPath)
                : DaemonProcess.StartOurs(session.SharedDir, session.SocketPath);
            session._frontend = VhostUserFrontend.Connect(session.SocketPath, options ?? new FrontendOptions(), TimeSpan.FromSeconds(10));
            session.Fuse = new FuseClient(session._frontend, 1, fuseOptions);
            if (init)
            {
                int errno = session.Fuse.Init(out _);
                if (errno != 0) throw new InvalidOperationException($"FUSE_INIT failed with errno {errno}\n{session.Daemon.Log}");
            }
            return session;
        }
        catch (Exception e)
        {
            string log = session._daemon?.Log ?? "";
            session.Dispose();
            if (log.Length > 0 && e is not InvalidOperationException) throw new InvalidOperationException($"{e.Message}\ndaemon log:\n{log}", e);
            throw;
        }
    }

    public string HostPath(string relative) => Path.Combine(SharedDir, relative);

    public void Dispose()
    {
        try { _frontend?.Dispose(); } catch (Exception) { /* best effort: the daemon must still be stopped */ }
        try { _daemon?.Dispose(); } catch (Exception) { /* best effort: the directory must still be removed */ }
        _temp.Dispose();
    }
}
