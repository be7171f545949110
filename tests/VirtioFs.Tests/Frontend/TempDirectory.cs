namespace VirtioFs.Tests.Frontend;

/// <summary>A fresh directory under /tmp (short, so socket paths fit sun_path), removed with everything in it on Dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory(string prefix = "vfs")
    {
        Path = Directory.CreateTempSubdirectory(prefix).FullName;
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try
        {
            if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A daemon that is still exiting may hold a file; one retry after it is gone.
            Thread.Sleep(200);
            if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
        }
    }
}
