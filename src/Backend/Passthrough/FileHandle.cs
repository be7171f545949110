using VirtioFs.Backend.Interop;

namespace VirtioFs.Backend.Passthrough;

/// <summary>
/// An open file or directory the guest holds (OPEN, CREATE, OPENDIR). Reference-counted like <see cref="Inode"/>,
/// so RELEASE racing with READ cannot close the descriptor under the read.
/// </summary>
internal sealed class FileHandle
{
    private int _references = 1;

    public FileHandle(int fd, bool isDirectory, Inode? directory = null)
    {
        Fd = fd;
        IsDirectory = isDirectory;
        Directory = directory;
        if (isDirectory) Stream = new DirectoryStream();
    }

    /// <summary>A directory handle's listing position and unsent records (null for files). Under <see cref="DirectoryLock"/>.</summary>
    public DirectoryStream? Stream { get; }

    /// <summary>
    /// For a directory handle, the directory's inode: only its immutable facts (device, mount id) are read, for the
    /// submount flag of READDIRPLUS entries. Not a counted reference, and its descriptor is never used.
    /// </summary>
    public Inode? Directory { get; }

    public int Fd { get; }

    public bool IsDirectory { get; }

    /// <summary>Serializes READDIRs on a directory handle (a hostile guest may race them): the position and the records.</summary>
    public object DirectoryLock => this;

    internal void AddReference() => Interlocked.Increment(ref _references);

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) != 0) return;
        Libc.close(Fd);
        Stream?.Release();
    }
}
