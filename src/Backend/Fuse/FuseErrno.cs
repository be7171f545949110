namespace VirtioFs.Backend.Fuse;

/// <summary>The errno values the FUSE layer answers with (Linux numbers), as ints for the hot path.</summary>
internal static class FuseErrno
{
    public const int EPERM = 1, ENOENT = 2, EIO = 5, E2BIG = 7, EBADF = 9, ENOMEM = 12, EACCES = 13, EEXIST = 17, ENOTDIR = 20;
    public const int EISDIR = 21, EINVAL = 22, ENFILE = 23, EFBIG = 27, EROFS = 30, ERANGE = 34, ENAMETOOLONG = 36;
    public const int EINTR = 4, EAGAIN = 11, EDEADLK = 35;
    public const int ENOSYS = 38, ELOOP = 40, ENODATA = 61, EPROTO = 71, EOVERFLOW = 75, EOPNOTSUPP = 95, ESTALE = 116;
}
