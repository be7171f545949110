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
    }

    /// <summary>
    /// For a directory handle, the directory's inode: only its immutable facts (device, mount id) are read, for the
    /// submount flag of READDIRPLUS entries. Not a counted reference, and its descriptor is never used.
    /// </summary>
    public Inode? Directory { get; }

    public int Fd { get; }

    public bool IsDirectory { get; }

    /// <summary>Serializes lseek + getdents64 on a directory handle (a hostile guest may race READDIRs).</summary>
    public object DirectoryLock => this;

    internal void AddReference() => Interlocked.Increment(ref _references);

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0) Libc.close(Fd);
    }
}
