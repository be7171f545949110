using VirtioFs.Backend.Interop;

namespace VirtioFs.Backend.Passthrough;

/// <summary>
/// The one syscall that makes a new node of some kind in a directory (run as the guest caller): 0, or -1 with errno.
/// Structs passed as generic arguments, so creating a node allocates no closure.
/// </summary>
internal unsafe interface INodeMaker
{
    int Make(int dirFd, byte* name);
}

/// <summary>symlinkat: the target is stored, never followed by us, so any content is safe.</summary>
internal readonly unsafe struct SymlinkMaker(byte* nulTerminatedTarget) : INodeMaker
{
    public int Make(int dirFd, byte* name) => Libc.symlinkat(nulTerminatedTarget, dirFd, name);
}

/// <summary>mknodat: fuse_mknod_in.rdev is the kernel's new_encode_dev(), which equals glibc's dev_t for majors &lt; 4096.</summary>
internal readonly unsafe struct SpecialFileMaker(uint mode, uint rdev) : INodeMaker
{
    public int Make(int dirFd, byte* name) => Libc.mknodat(dirFd, name, mode, rdev);
}

/// <summary>mkdirat with the permission bits only.</summary>
internal readonly unsafe struct DirectoryMaker(uint mode) : INodeMaker
{
    public int Make(int dirFd, byte* name) => Libc.mkdirat(dirFd, name, mode & 0xFFF);
}
