using System.Diagnostics;
using VirtioFs.Backend.Fuse;
using VirtioFs.Backend.Passthrough;

namespace VirtioFs.Tests.Passthrough;

/// <summary>
/// One real mount per test class: a temp shared directory served by PassthroughFileSystem + FuseServer through the
/// host kernel's /dev/fuse, two serving threads. Always unmounted on dispose (lazily with umount -l if our own
/// unmount did not take).
/// </summary>
public class MountFixture : IDisposable
{
    public MountFixture() : this(share => new PassthroughOptions { SharedDirectory = share }, threads: 2)
    {
    }

    /// <summary>A mount of a file system with <paramref name="options"/>, served by <paramref name="threads"/> threads.</summary>
    protected MountFixture(Func<string, PassthroughOptions> options, int threads)
    {
        Root = Directory.CreateTempSubdirectory("vfs-mount-").FullName;
        Share = Path.Combine(Root, "share");
        MountPoint = Path.Combine(Root, "mnt");
        Directory.CreateDirectory(Share);
        Directory.CreateDirectory(MountPoint);
        FileSystem = new PassthroughFileSystem(options(Share));
        Server = new FuseServer(FileSystem, new FuseServerOptions());
        try
        {
            Mount = DevFuseMount.Mount(MountPoint, Server, threads);
        }
        catch
        {
            FileSystem.Dispose();
            throw;
        }
    }

    public string Root { get; }
    public string Share { get; }
    public string MountPoint { get; }
    public PassthroughFileSystem FileSystem { get; }
    public FuseServer Server { get; }
    public DevFuseMount Mount { get; }

    /// <summary>A fresh directory for one test: (path through the mount, path on the host).</summary>
    public (string Mounted, string Host) NewDirectory(string name)
    {
        string mounted = Path.Combine(MountPoint, name);
        Directory.CreateDirectory(mounted);
        return (mounted, Path.Combine(Share, name));
    }

    public void Dispose()
    {
        GC.SuppressFinalize(this);
        try
        {
            Mount.Dispose();
        }
        finally
        {
            if (File.ReadAllText("/proc/self/mounts").Contains(MountPoint, StringComparison.Ordinal))
            {
                using var umount = Process.Start("umount", new[] { "-l", MountPoint });
                umount?.WaitForExit(10_000);
            }
            FileSystem.Dispose();
            try
            {
                Directory.Delete(Root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
